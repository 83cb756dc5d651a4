"""Two caches driven in lockstep: the backend under test and the pure reference (the differential tier).

Both caches receive the same calls, one call at a time (the reference first). At a sync point both
run ``run_pending_tasks()`` and everything observable is compared: the value every call returned, the
listener events (key, value, cause) in delivery order, ``count()`` and ``weighted_size()``.

Keys are small ints, whose hashes are the same in every process, so both caches hash them alike
(API.md section 4). Values are unique ints, so a stale or misplaced value cannot pass for the right
one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moka_py_conformance._support import EventLog

MISSING = "missing"  # what get/remove return for an absent key (values are ints)


class Overran(Exception):
    """A stretch of calls took so long that time-driven behaviour (moka's 300 ms housekeeping trigger,
    an expiry deadline, a timer-wheel tick) may have fallen inside it: the caches may legitimately
    disagree, so the trace must be discarded or retried, never judged."""


@dataclass(frozen=True)
class Op:
    """One call made on both caches. ``ttl``/``tti`` are per-entry durations in seconds."""

    kind: str  # set, get, get_with, remove, contains, clear, run_pending_tasks
    key: int = 0
    value: int = 0
    ttl: float | None = None
    tti: float | None = None

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
        raise ValueError(f"unknown operation {kind!r}")

    def __repr__(self) -> str:
        if self.kind in ("clear", "run_pending_tasks"):
            return f"{self.kind}()"
        if self.kind in ("set", "get_with"):
            extra = "".join(f", {n}={d}" for n, d in (("ttl", self.ttl), ("tti", self.tti)) if d is not None)
            return f"{self.kind}({self.key}, {self.value}{extra})"
        return f"{self.kind}({self.key})"


def weigh(key: int, value: int) -> int:
    """The weigher of weighted configurations: 0 to 4, zero weights included."""
    return (key * 7 + value) % 5


class Lockstep:
    """The reference cache and the cache under test, built with the same arguments, side by side."""

    def __init__(self, reference: type, Moka: type, capacity: int | None, **kwargs: Any) -> None:  # noqa: N803
        self.logs = (EventLog(), EventLog())
        # Built back to back, so that their clocks (and 300 ms timers) start together.
        self.caches: tuple[Any, Any] = (
            reference(capacity, eviction_listener=self.logs[0], **kwargs),
            Moka(capacity, eviction_listener=self.logs[1], **kwargs),
        )
        self.results: tuple[list[Any], list[Any]] = ([], [])
        self.causes: set[str] = set()  # causes seen so far, for hypothesis's statistics
        self.history: list[str] = [f"Moka({capacity}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"]

    def apply(self, op: Op) -> None:
        self.history.append(repr(op))
        for cache, results in zip(self.caches, self.results):
            results.append(op(cache))

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
