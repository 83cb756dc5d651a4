# generated from packages/moka-py-pure/src/moka_py_pure/_aload.py by tools/generate.py: do not edit
"""``Moka.aget_with``: coalesced async loads, one per key and event loop (API.md section 8).

The cache supplies its recorded read (``get``), its unrecorded re-check (``peek``), ``set`` and
``_record_load(ns, failed)`` (the ``loads`` / ``load_failures`` / ``load_time`` statistics); the
coalescing lives here, in Python, for both shipped backends (it is asyncio code).

* The first lookup is a recorded read (a hit or a miss in ``stats()``); an awaiter that joins a
  load in flight records nothing more, as a ``get_with`` waiter.
* The load is an ``asyncio.Task`` on the running loop, shared by every awaiter of the key on that
  loop through ``asyncio.shield``: cancelling an awaiter, even the last one, does not cancel the
  load, which still stores its result.  The in-flight table keeps the task referenced until it is
  done; the task removes its own slot as it finishes, before any awaiter resumes.
* A load (or a task it starts) that awaits ``aget_with`` of its own key would wait for itself: a
  context variable, inherited by the tasks it creates, names the load tasks it descends from, and
  such a call, while that load is in flight, raises ``RuntimeError``.
* Nothing here blocks the loop: the cache's own calls hold its internal locks only briefly.
* With ``refresh_after``, a hit on an entry that old also starts a reload task (``_refresh``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any, Protocol

from ._refresh import Refreshing, refresh_in_task


class Loading(Refreshing, Protocol):
    """What :func:`aget_with` needs of a cache."""

    def get(self, key: Any, default: Any, /) -> Any: ...
    def peek(self, key: Any, default: Any, /) -> Any: ...
    def set(self, key: Any, value: Any, ttl: float | None, tti: float | None, /) -> None: ...
    def _record_load(self, ns: int, failed: bool, /) -> None: ...


_MISSING: Any = object()

RECURSION_MESSAGE = "aget_with: the initializer for this key awaited aget_with for the same key"

# (loop, id(cache), key) -> its load.  The task refers to its loop and cache, so neither id is
# reused while the slot exists.  Only the thread running a slot's loop touches that slot.
_in_flight: dict[tuple[Any, int, Hashable], asyncio.Task[Any]] = {}

# The loads the current task is, or was started by (a task's context is a copy of its creator's).
_loading: ContextVar[tuple[asyncio.Task[Any], ...]] = ContextVar("moka_py_loading", default=())


async def aget_with(
    cache: Loading,
    key: Hashable,
    initializer: Callable[[], Awaitable[Any]],
    ttl: float | None,
    tti: float | None,
    refresh_after_ns: int | None = None,
) -> Any:
    """The value of ``key``, loading it by ``await initializer()`` once per key and event loop."""
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        if refresh_after_ns is not None:
            refresh_in_task(cache, key, initializer, ttl, tti, refresh_after_ns)
        return value
    loop = asyncio.get_running_loop()
    slot = (loop, id(cache), key)
    task = _in_flight.get(slot)
    if task is None:
        task = loop.create_task(_load(cache, slot, initializer, ttl, tti))
        _in_flight[slot] = task
        task.add_done_callback(lambda done: _landed(slot, done))
    elif task in _loading.get():
        raise RuntimeError(RECURSION_MESSAGE)
    return await asyncio.shield(task)


async def _load(
    cache: Loading,
    slot: tuple[Any, int, Hashable],
    initializer: Callable[[], Awaitable[Any]],
    ttl: float | None,
    tti: float | None,
) -> Any:
    me = asyncio.current_task()
    if me is not None:
        _loading.set((*_loading.get(), me))
    key = slot[2]
    try:
        value = cache.peek(key, _MISSING)  # stored meanwhile (by set, or a thread's get_with)
        if value is not _MISSING:
            return value
        started = time.perf_counter_ns()
        failed = True
        try:
            value = await initializer()
            failed = False
        finally:
            cache._record_load(time.perf_counter_ns() - started, failed)
        cache.set(key, value, ttl, tti)
        return value
    finally:
        _forget(slot, me)


def _forget(slot: tuple[Any, int, Hashable], task: asyncio.Task[Any] | None) -> None:
    if _in_flight.get(slot) is task:
        del _in_flight[slot]


def _landed(slot: tuple[Any, int, Hashable], task: asyncio.Task[Any]) -> None:
    _forget(slot, task)  # a task cancelled before it started never ran its own finally
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" when every awaiter left
