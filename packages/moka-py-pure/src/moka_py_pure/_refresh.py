"""Refresh-ahead: ``refresh_after=`` on ``get_with`` and ``aget_with`` (API.md section 8).

Written once here and copied into the Rust backend's Python part by ``tools/generate.py`` (the
backends share no package).  The cache supplies ``ttl``, ``_record_load(ns, failed)`` and two
primitives:

* ``_write_stamp(key)``: ``(stamp, age_ns)`` of the live entry, the write it holds and the
  nanoseconds since that write on the cache's clock, or ``None``; it records no read;
* ``_replace_if(key, stamp, value, ttl, tti)``: ``set(key, value, ttl, tti)`` only if the entry is
  live and its latest write is still ``stamp``'s, checked and written in one critical section of
  the cache (so a ``set``, ``remove``, ``clear`` or expiry in between wins); whether it wrote.

A hit whose entry is at least ``refresh_after`` old claims the key in a table shared by threads
and tasks (one reload per key and cache at a time) and starts the reload: on one of a few daemon
worker threads for ``get_with``, as a task on the running loop for ``aget_with``.  The caller gets
the value it found at once.  ``get_with``'s due check is the cache's own, in its hit path: the
pure backend calls :func:`reload_if_due`; the Rust backend claims the write it found (so later
hits of it skip this table while its reload is in flight) and calls :func:`reload_in_thread`.
The reload's initializer runs once; its time counts in ``loads`` / ``load_time``, or in
``load_failures`` if it raises (then nothing is written).  An exception of the
write itself (a weigher's) goes to ``threading.excepthook`` or the loop's exception handler.
"""

from __future__ import annotations

import asyncio
import math
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol

# 1000 years, the limit every duration of the cache has.
_MAX_SECS = 31_536_000_000
# Reload threads per process: reloads wait in a queue for one of them.
WORKERS = 4


class Refreshing(Protocol):
    """What refresh-ahead needs of a cache."""

    @property
    def ttl(self) -> float | None: ...
    def _write_stamp(self, key: Any, /) -> tuple[Any, int] | None: ...
    def _replace_if(
        self, key: Any, stamp: Any, value: Any, ttl: float | None, tti: float | None, /
    ) -> bool: ...
    def _record_load(self, ns: int, failed: bool, /) -> None: ...


def refresh_ns(refresh_after: object, ttl: object, cache_ttl: float | None) -> int:
    """``refresh_after`` in nanoseconds, checked: a positive finite number below the ttl in effect.

    The ttl in effect is the call's ``ttl``, else the cache's; a ``ttl`` that is not a number is
    left for the cache's own check.
    """
    if isinstance(refresh_after, bool) or not isinstance(refresh_after, (int, float)):
        kind = type(refresh_after).__name__
        raise TypeError(f"refresh_after must be a number of seconds (int or float) or None, not {kind}")
    if math.isnan(refresh_after) or not 0 < refresh_after <= _MAX_SECS:
        raise ValueError(
            "refresh_after must be finite, > 0 and at most 1000 years (31536000000 seconds), "
            f"got {refresh_after!r}"
        )
    if ttl is None:
        ttl, whose = cache_ttl, "the cache's ttl"
    else:
        whose = "ttl"
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and refresh_after >= ttl:
        raise ValueError(f"refresh_after ({refresh_after!r}) must be below {whose} ({ttl!r})")
    if isinstance(refresh_after, int):
        return refresh_after * 1_000_000_000
    return round(refresh_after * 1e9)


def reload_if_due(
    cache: Refreshing,
    key: Hashable,
    ns: int,
    initializer: Callable[[], Any],
    ttl: float | None,
    tti: float | None,
) -> None:
    """After a ``get_with`` hit that found the entry ``ns`` old: a reload on a worker thread.

    Unless one for the key is in flight or the entry is no longer due.
    """
    claimed = _claim(cache, key, ns)
    if claimed is not None:
        _submit(cache, *claimed, initializer, ttl, tti)


def reload_in_thread(
    cache: Refreshing,
    key: Hashable,
    stamp: Any,
    initializer: Callable[[], Any],
    ttl: float | None,
    tti: float | None,
) -> None:
    """After a ``get_with`` hit on the due write ``stamp``: a reload on a worker thread.

    Unless one for the key is in flight (this one's stamp is then dropped at once).
    """
    slot = (id(cache), key)
    if _take(slot):
        _submit(cache, slot, stamp, initializer, ttl, tti)


def _submit(
    cache: Refreshing,
    slot: tuple[int, Hashable],
    stamp: Any,
    initializer: Callable[[], Any],
    ttl: float | None,
    tti: float | None,
) -> None:
    try:
        _workers.submit(lambda: _reload(cache, slot, stamp, initializer, ttl, tti))
    except BaseException:
        _release(slot)
        raise


def refresh_in_task(
    cache: Refreshing,
    key: Hashable,
    initializer: Callable[[], Awaitable[Any]],
    ttl: float | None,
    tti: float | None,
    ns: int,
) -> None:
    """After an ``aget_with`` hit: a reload task on the running loop, if the entry is due."""
    claimed = _claim(cache, key, ns)
    if claimed is None:
        return
    slot, stamp = claimed
    try:
        task = asyncio.get_running_loop().create_task(
            _areload(cache, slot, stamp, initializer, ttl, tti)
        )
    except BaseException:
        _release(slot)
        raise
    _tasks.add(task)  # the loop keeps only a weak reference to its tasks
    task.add_done_callback(_task_done)


# (id(cache), key) of every reload in flight.  The reload refers to its cache until it releases
# its slot, so the id is not reused meanwhile.
_slots: set[tuple[int, Hashable]] = set()
_slots_lock = threading.Lock()
_tasks: set[asyncio.Task[None]] = set()


def _claim(cache: Refreshing, key: Hashable, ns: int) -> tuple[tuple[int, Hashable], Any] | None:
    slot = (id(cache), key)
    if slot in _slots:  # first without the lock: a hot key, its reload in flight
        return None
    found = cache._write_stamp(key)
    if found is None or found[1] < ns or not _take(slot):
        return None
    return slot, found[0]


def _take(slot: tuple[int, Hashable]) -> bool:
    """Claims ``slot`` for a reload: whether it was free."""
    with _slots_lock:
        if slot in _slots:
            return False
        _slots.add(slot)
    return True


def _release(slot: tuple[int, Hashable]) -> None:
    with _slots_lock:
        _slots.discard(slot)


def _reload(
    cache: Refreshing,
    slot: tuple[int, Hashable],
    stamp: Any,
    initializer: Callable[[], Any],
    ttl: float | None,
    tti: float | None,
) -> None:
    try:
        started = time.perf_counter_ns()
        try:
            value = initializer()
        except BaseException:
            cache._record_load(time.perf_counter_ns() - started, True)
            return  # the old value stays
        cache._record_load(time.perf_counter_ns() - started, False)
        cache._replace_if(slot[1], stamp, value, ttl, tti)
    finally:
        _release(slot)


async def _areload(
    cache: Refreshing,
    slot: tuple[int, Hashable],
    stamp: Any,
    initializer: Callable[[], Awaitable[Any]],
    ttl: float | None,
    tti: float | None,
) -> None:
    try:
        started = time.perf_counter_ns()
        try:
            value = await initializer()
        except BaseException:
            cache._record_load(time.perf_counter_ns() - started, True)
            return  # the old value stays (a cancelled reload too)
        cache._record_load(time.perf_counter_ns() - started, False)
        cache._replace_if(slot[1], stamp, value, ttl, tti)
    finally:
        _release(slot)


def _task_done(task: asyncio.Task[None]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        task.get_loop().call_exception_handler(
            {"message": "moka-py: a refresh-ahead write raised", "exception": exc, "task": task}
        )


class _Workers:
    """Up to ``WORKERS`` daemon threads, started as reloads arrive, taking jobs from a queue.

    Daemon threads: a reload in flight does not keep the interpreter alive at exit.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)
        if self._started < WORKERS:
            with self._lock:
                if self._started < WORKERS:
                    self._started += 1
                    name = f"moka-py-refresh-{self._started}"
                    threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException as exc:  # the write's own error: reported, the worker goes on
                args = (type(exc), exc, exc.__traceback__, threading.current_thread())
                threading.excepthook(threading.ExceptHookArgs(args))
            del job


_workers = _Workers()


def _after_fork_in_child() -> None:
    # The parent's threads and tasks do not exist in the child: forget their slots and start
    # fresh workers on demand (the old locks may have been held by a thread that is gone).
    global _workers, _slots_lock
    _workers = _Workers()
    _slots_lock = threading.Lock()
    _slots.clear()
    _tasks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
