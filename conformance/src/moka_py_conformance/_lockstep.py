"""Two caches driven in lockstep: the backend under test and the pure reference (the differential tier).

Both caches receive the same calls, one call at a time (the reference first). At a sync point both
run ``run_pending_tasks()`` and everything observable is compared: the value every call returned, the
listener events (key, value, cause) in delivery order, ``count()``, ``weighted_size()`` and the
statistics (``stats()``, all but ``load_time``, which is measured time).

The section-7 operations take part (``OTHER_KINDS``): mapping methods, ``peek``, ``expires_in``,
bulk calls over the op's key and its ``others``, ``remove_if`` accepting those keys, and the
observations ``len``, ``items()`` and ``stats()``. Snapshots come in no promised order, so
``keys``/``items`` results are sorted, and so are the events of one ``remove_if`` (it removes in
snapshot order; which entries it removes, and what else happens, must still be identical).

Loads (API.md section 8) take part too: ``get_with`` and ``aget_with`` hits and misses, with
initializers that raise (``fails``: the call returns ``("raised", value)``), and refresh-ahead
(``refresh``). ``aget_with`` runs to completion on the pair's own event loop, one op at a time. A
due ``aget_with`` hit starts its reload as a task on that loop; the op then runs its ``during`` call
(a second hit, a ``get_with`` hit, a ``set``, ``remove`` or ``clear`` of the key) while the reload
is held (its initializer awaits a gate), opens the gate, and waits until no task but its own is
left on the loop: the reload has called its initializer and written, or failed, or had its write
refused, and has released its key, all before the next call on either cache. That is the
completion the tier observes, with public means only (``asyncio.all_tasks``); it takes
``RELOAD_PATIENCE`` seconds at most, else the op raises ``Overran`` (no verdict). ``get_with``
reloads run on the library's worker threads, whose end no public call shows, so the tier gives
``get_with`` only a ``refresh_after`` that is never due (``NEVER``): its hit path, not its reload.
The ``aget_with`` refresh is ``DUE`` (1 ns: every hit is due), far below any ttl in effect.

Keys are small ints, whose hashes are the same in every process, so both caches hash them alike
(API.md section 4). Values are unique ints, so a stale or misplaced value cannot pass for the right
one; an op's other values (a ``set_many``'s second pair, a ``during`` call's) are offset by
multiples of ``SECOND``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moka_py_conformance._support import Deadlock, EventLog, run_with_watchdog

MISSING = "missing"  # what get/remove return for an absent key (values are ints)
SECOND = 10**9  # added to an op's value for the second pair of a set_many: values stay unique
DUE = 1e-9  # seconds: a refresh_after that every hit is past (1 ns), below any ttl
NEVER = 86_400.0  # seconds: a refresh_after no entry of a trace reaches (for get_with, see above)
RELOAD_PATIENCE = 10.0  # seconds an op waits for its reloads: only a stall or a hang gets near it
WATCHDOG = 3 * RELOAD_PATIENCE  # seconds an async op may take in all before it counts as a deadlock
DURING = ("hit", "get_with", "set", "remove", "clear")
"""What an ``aget_with`` op may call while the reload it started is held (``Op.during``)."""
# offsets (in SECONDs) of the values of an op's during call: after set_many's (0 to 3)
_AGAIN, _THREAD, _SET = 4, 5, 6

T = TypeVar("T")

OTHER_KINDS = [
    "getitem", "setitem", "delitem", "pop", "setdefault", "update", "peek", "expires_in",
    "get_many", "set_many", "remove_many", "remove_if", "len", "items", "stats",
]  # fmt: skip
"""The section-7 operations; each takes the op's ``key``, and the bulk ones its ``others`` too."""


def stats_of(cache: Any) -> tuple[Any, ...]:
    """What ``stats()`` must show identically: every field but ``load_time``."""
    s = cache.stats()
    return (s.hits, s.misses, s.loads, s.load_failures, dict(s.evictions), s.eviction_weight, s.hit_rate)


class LoadFailed(Exception):
    """Raised on purpose by an initializer of an op with ``fails``; ``args[0]`` is its value."""


class Overran(Exception):
    """A stretch of calls took so long that time-driven behaviour (moka's 300 ms housekeeping trigger,
    an expiry deadline, a timer-wheel tick) may have fallen inside it: the caches may legitimately
    disagree, so the trace must be discarded or retried, never judged."""


@dataclass(frozen=True)
class Op:
    """One call made on both caches. ``ttl``/``tti`` are per-entry durations in seconds."""

    kind: str  # set, get, get_with, aget_with, remove, contains, clear, run_pending_tasks, OTHER_KINDS
    key: int = 0
    value: int = 0
    ttl: float | None = None
    tti: float | None = None
    others: tuple[int, ...] = field(default=())  # more keys, for the bulk operations
    refresh: float | None = None  # get_with / aget_with: refresh_after
    fails: bool = False  # get_with / aget_with: the initializer raises LoadFailed
    during: str | None = None  # aget_with: a DURING call made while its reload is held

    def __call__(self, cache: Any, run: Callable[[Coroutine[Any, Any, T]], T] | None = None) -> Any:
        """Make the call on ``cache``; ``run`` runs a coroutine to its end (for ``aget_with``)."""
        kind, key, value = self.kind, self.key, self.value
        if kind == "set":
            return cache.set(key, value, ttl=self.ttl, tti=self.tti)
        if kind == "get":
            return cache.get(key, MISSING)
        if kind == "get_with":
            return self._get_with(cache, value)
        if kind == "aget_with":
            if run is None:
                raise ValueError("aget_with needs an event loop: apply it through Lockstep")
            return run(self._aget_with(cache))
        if kind == "remove":
            return cache.remove(key, MISSING)
        if kind == "contains":
            return key in cache
        if kind == "clear":
            return cache.clear()
        if kind == "run_pending_tasks":
            return cache.run_pending_tasks()
        return self._other(cache)

    def _initializer(self, value: int) -> Callable[[], int]:
        def initializer() -> int:
            if self.fails:
                raise LoadFailed(value)
            return value

        return initializer

    def _get_with(self, cache: Any, value: int) -> Any:
        try:
            return cache.get_with(
                self.key, self._initializer(value), ttl=self.ttl, tti=self.tti, refresh_after=self.refresh
            )
        except LoadFailed as exc:
            return ("raised", exc.args[0])

    async def _aget_with(self, cache: Any) -> Any:
        """The ``aget_with`` call, its ``during`` call while any reload it started is held, and the
        wait for every task it started (see the module docstring)."""
        gate = asyncio.Event()
        calling = False  # an initializer called meanwhile is a load awaited by our call: never held

        def initializer(value: int) -> Callable[[], Awaitable[int]]:
            def start() -> Awaitable[int]:
                held = not calling

                async def load() -> int:
                    if held:
                        await gate.wait()
                    if self.fails:
                        raise LoadFailed(value)
                    return value

                return load()

            return start

        async def call(value: int) -> Any:
            nonlocal calling
            calling = True
            try:
                return await cache.aget_with(
                    self.key, initializer(value), ttl=self.ttl, tti=self.tti, refresh_after=self.refresh
                )
            except LoadFailed as exc:
                return ("raised", exc.args[0])
            finally:
                calling = False

        deadline = time.monotonic() + RELOAD_PATIENCE
        got = await call(self.value)
        during: Any = None
        if self.during == "hit":
            during = await call(self.value + _AGAIN * SECOND)
        elif self.during == "get_with":
            if self.refresh is not None and got == self.value:
                during = "skipped"  # the key was just loaded: this hit would start a thread reload
            else:
                during = self._get_with(cache, self.value + _THREAD * SECOND)
        elif self.during == "set":
            during = cache.set(self.key, self.value + _SET * SECOND, ttl=self.ttl, tti=self.tti)
        elif self.during == "remove":
            during = cache.remove(self.key, MISSING)
        elif self.during == "clear":
            during = cache.clear()
        gate.set()
        await other_tasks_done(deadline)
        return got if self.during is None else (got, during)

    def _other(self, cache: Any) -> Any:
        kind, key, value, keys = self.kind, self.key, self.value, (self.key, *self.others)
        if kind == "getitem":
            try:
                return cache[key]
            except KeyError:
                return MISSING
        if kind == "setitem":
            cache[key] = value
            return None
        if kind == "delitem":
            try:
                del cache[key]
            except KeyError:
                return MISSING
            return "deleted"
        if kind == "pop":
            return cache.pop(key, MISSING)
        if kind == "setdefault":
            return cache.setdefault(key, value)
        if kind == "update":
            return cache.update({key: value})
        if kind == "peek":
            return cache.peek(key, MISSING)
        if kind == "expires_in":
            return cache.expires_in(key, MISSING)
        if kind == "get_many":
            return cache.get_many(keys)
        if kind == "set_many":
            pairs = [(k, value + i * SECOND) for i, k in enumerate(keys)]
            return cache.set_many(pairs, ttl=self.ttl, tti=self.tti)
        if kind == "remove_many":
            return cache.remove_many(keys)
        if kind == "remove_if":
            chosen = set(keys)
            return cache.remove_if(lambda k, v: k in chosen)
        if kind == "len":
            return len(cache)
        if kind == "items":
            return sorted(cache.items())
        if kind == "stats":
            return stats_of(cache)
        raise ValueError(f"unknown operation {kind!r}")

    def __repr__(self) -> str:
        if self.kind in ("clear", "run_pending_tasks"):
            return f"{self.kind}()"
        if self.kind in ("set", "get_with", "aget_with", "set_many"):
            named = (
                ("ttl", self.ttl), ("tti", self.tti), ("refresh_after", self.refresh), ("during", self.during)
            )  # fmt: skip
            extra = "".join(f", {n}={d!r}" for n, d in named if d is not None)
            extra += ", fails=True" if self.fails else ""
            keys = f"{self.key}, {', '.join(map(str, self.others))}" if self.others else str(self.key)
            return f"{self.kind}({keys}, {self.value}{extra})"
        if self.others:
            return f"{self.kind}({', '.join(map(str, (self.key, *self.others)))})"
        return f"{self.kind}({self.key})"


async def other_tasks_done(deadline: float) -> None:
    """Return once no task but the current one is left on the loop; ``Overran`` past ``deadline``."""
    me = asyncio.current_task()
    while True:
        await asyncio.sleep(0)  # callbacks scheduled by the last step run first
        others = {task for task in asyncio.all_tasks() if task is not me}
        if not others:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise Overran(f"{len(others)} reload or load tasks still running after {RELOAD_PATIENCE} s")
        await asyncio.wait(others, timeout=left)


def weigh(key: int, value: int) -> int:
    """The weigher of weighted configurations: 0 to 4, zero weights included."""
    return (key * 7 + value) % 5


class Lockstep:
    """The reference cache and the cache under test, built with the same arguments, side by side."""

    def __init__(
        self,
        reference: type,
        Moka: type,  # noqa: N803
        capacity: int | None,
        quantum: float | None = None,
        listener: bool = True,
        **kwargs: Any,
    ) -> None:
        # `quantum`: what expires_in returns is compared as a whole number of quanta (the calls on
        # the two caches are made at slightly different times); None: compared exactly.
        # `listener`: False builds both caches without one (no events; stats() still counts them).
        self.quantum = quantum
        self.logs = (EventLog(), EventLog())
        listeners = self.logs if listener else (None, None)
        # Built back to back, so that their clocks (and 300 ms timers) start together.
        self.caches: tuple[Any, Any] = (
            reference(capacity, eviction_listener=listeners[0], **kwargs),
            Moka(capacity, eviction_listener=listeners[1], **kwargs),
        )
        self.results: tuple[list[Any], list[Any]] = ([], [])
        self.causes: set[str] = set()  # causes seen so far, for hypothesis's statistics
        shown = kwargs if listener else {**kwargs, "eviction_listener": None}
        self.history: list[str] = [f"Moka({capacity}, {', '.join(f'{k}={v!r}' for k, v in shown.items())})"]
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to its end on the pair's event loop (made on first use), in a thread
        under a watchdog: a cache that deadlocks on the loop's thread (a reload's write, say) would
        block the loop, and the op's own bounded waits with it."""
        loop = self._loop = self._loop or asyncio.new_event_loop()
        result: list[T] = []
        run_with_watchdog(
            lambda: result.append(loop.run_until_complete(coroutine)), WATCHDOG, "an async op", Deadlock
        )
        return result[0]

    def close(self) -> None:
        """Close the event loop, if an op made one (and left it, unlike a deadlocked op)."""
        if self._loop is not None and not self._loop.is_running():
            self._loop.close()
        self._loop = None

    def apply(self, op: Op) -> None:
        self.history.append(repr(op))
        for cache, results, log in zip(self.caches, self.results, self.logs):
            before = len(log.events)
            result = op(cache, self.run)
            if op.kind == "remove_if":
                log.events[before:] = sorted(log.events[before:])  # snapshot order
            elif op.kind == "expires_in" and self.quantum is not None and isinstance(result, float):
                result = result if math.isinf(result) else math.floor(result / self.quantum)
            results.append(result)

    def note(self, line: str) -> None:
        """Add a line (such as a timestamp) to the history shown when a comparison fails."""
        self.history.append(line)

    def sync(self) -> None:
        """Run housekeeping in both caches (a sync point); compare afterwards with ``compare``."""
        self.history.append("run_pending_tasks()  # sync point")
        for cache in self.caches:
            cache.run_pending_tasks()

    def compare(self) -> None:
        """Everything observed since the last comparison must be identical in both caches."""
        reference, tested = self.caches
        observed = [
            ("returned values", self.results[0][:], self.results[1][:]),
            ("listener events", self.logs[0].take(), self.logs[1].take()),
            ("count()", reference.count(), tested.count()),
            ("weighted_size()", reference.weighted_size(), tested.weighted_size()),
            ("stats()", stats_of(reference), stats_of(tested)),
        ]
        for results in self.results:
            results.clear()
        self.causes.update(cause for _, _, cause in observed[1][1])
        for what, expected, got in observed:
            if got != expected:
                history = "\n  ".join(self.history[-40:])
                raise AssertionError(
                    f"{what} differ from the reference's\n  reference: {expected!r}\n"
                    f"  backend:   {got!r}\nafter (last calls first made on both caches):\n  {history}"
                )
