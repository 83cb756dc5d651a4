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

Keys are small ints, whose hashes are the same in every process, so both caches hash them alike
(API.md section 4). Values are unique ints, so a stale or misplaced value cannot pass for the right
one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from moka_py_conformance._support import EventLog

MISSING = "missing"  # what get/remove return for an absent key (values are ints)
SECOND = 10**9  # added to an op's value for the second pair of a set_many: values stay unique

OTHER_KINDS = [
    "getitem", "setitem", "delitem", "pop", "setdefault", "update", "peek", "expires_in",
    "get_many", "set_many", "remove_many", "remove_if", "len", "items", "stats",
]  # fmt: skip
"""The section-7 operations; each takes the op's ``key``, and the bulk ones its ``others`` too."""


def stats_of(cache: Any) -> tuple[Any, ...]:
    """What ``stats()`` must show identically: every field but ``load_time``."""
    s = cache.stats()
    return (s.hits, s.misses, s.loads, s.load_failures, dict(s.evictions), s.eviction_weight, s.hit_rate)


class Overran(Exception):
    """A stretch of calls took so long that time-driven behaviour (moka's 300 ms housekeeping trigger,
    an expiry deadline, a timer-wheel tick) may have fallen inside it: the caches may legitimately
    disagree, so the trace must be discarded or retried, never judged."""


@dataclass(frozen=True)
class Op:
    """One call made on both caches. ``ttl``/``tti`` are per-entry durations in seconds."""

    kind: str  # set, get, get_with, remove, contains, clear, run_pending_tasks, or an OTHER_KINDS
    key: int = 0
    value: int = 0
    ttl: float | None = None
    tti: float | None = None
    others: tuple[int, ...] = field(default=())  # more keys, for the bulk operations

    def __call__(self, cache: Any) -> Any:
        kind, key, value = self.kind, self.key, self.value
        if kind == "set":
            return cache.set(key, value, ttl=self.ttl, tti=self.tti)
        if kind == "get":
            return cache.get(key, MISSING)
        if kind == "get_with":
            return cache.get_with(key, lambda: value, ttl=self.ttl, tti=self.tti)
        if kind == "remove":
            return cache.remove(key, MISSING)
        if kind == "contains":
            return key in cache
        if kind == "clear":
            return cache.clear()
        if kind == "run_pending_tasks":
            return cache.run_pending_tasks()
        return self._other(cache)

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
        if self.kind in ("set", "get_with", "set_many"):
            extra = "".join(f", {n}={d}" for n, d in (("ttl", self.ttl), ("tti", self.tti)) if d is not None)
            keys = f"{self.key}, {', '.join(map(str, self.others))}" if self.others else str(self.key)
            return f"{self.kind}({keys}, {self.value}{extra})"
        if self.others:
            return f"{self.kind}({', '.join(map(str, (self.key, *self.others)))})"
        return f"{self.kind}({self.key})"


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

    def apply(self, op: Op) -> None:
        self.history.append(repr(op))
        for cache, results, log in zip(self.caches, self.results, self.logs):
            before = len(log.events)
            result = op(cache)
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
