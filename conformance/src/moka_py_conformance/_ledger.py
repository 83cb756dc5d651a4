"""The model behind the state-machine tests: a ledger of every value a cache was given.

moka decides admission and eviction late (at housekeeping) and, under TinyLFU, from hashed
frequencies, so a simple model cannot predict *which* entries survive. It does not need to: with an
eviction listener installed, every value that leaves the map is reported, so the ledger knows
exactly which values are still in the map (those stored and not yet reported). From that it checks
what moka guarantees whatever it decides:

* every stored value is reported at most once, under its own key, and only a value that was stored;
* a value is reported ``"replaced"`` exactly when a write hit its key while it was in the map, and
  before that write returned; ``"explicit"`` exactly for ``remove`` of a present key and for
  ``clear``; ``"size"`` only in a bounded cache; ``"expired"`` only for a value whose deadline has
  passed; both only during a call that reads, writes or runs housekeeping, and for an ``exact``
  backend only when moka's housekeeping can run (see ``_housekeeping_possible``);
* in a weighted cache, ``remove`` runs housekeeping before it removes (API.md section 3), which may
  report the value as ``"size"`` or ``"expired"`` first; ``remove`` then returns its default;
* a write runs housekeeping when the size bound requires it (API.md section 6): when the weight
  written since the last explicit housekeeping passes the slack, ``min(64, capacity // 8)``;
* at a settled point, each value is either reported or is the latest one stored under its key
  (the tests then check that it is readable there);
* a refresh-ahead reload (API.md section 8) that started from a value writes its own only if that
  value is still in the map (and live) when the reload writes: then the old value is reported
  ``"replaced"`` exactly once, during the reload, and the new one is tracked as any stored value;
  a failed reload, or one whose write is refused (a ``set``, ``remove``, ``clear`` or eviction came
  between), reports nothing and changes nothing (``will_reload``).

Values are unique ints handed out by the ledger, so a stale or foreign value cannot pass for the
right one. Problems found inside the listener are collected in ``violations`` rather than raised,
so that the cache under test cannot swallow them; the tests check the list after every operation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

CAUSES = frozenset({"explicit", "size", "expired", "replaced"})

# moka's implicit housekeeping triggers (docs/internals/moka-algorithms.md, "Logs and housekeeping"):
# a log holding 64 records, or 300 ms since the start of the last cycle.
FLUSH_POINT = 64
SYNC_INTERVAL = 0.3

# Operations that record a read or a write, and so may run housekeeping on their own.
RECORDING = frozenset({"set", "get", "get_with", "remove", "reload"})  # reload: its write
HOUSEKEEPING = frozenset({"run_pending_tasks", "clear", "remove_if"})  # remove_if: it runs one first


@dataclass
class Operation:
    """One call into the cache that is in progress, with what it is allowed and required to report."""

    kind: str
    key: Hashable | None
    # values that must be reported with the given cause before the call returns
    must_report: dict[int, str] = field(default_factory=dict)
    # values that may be reported "replaced" during the call (a write issued by a listener, which
    # cannot know whether another event for that key is still queued for delivery)
    may_replace: set[int] = field(default_factory=set)
    # for clear() and remove_if(): the values that were in the map when it started (for remove_if,
    # of the keys it accepts), which it must report
    clearing: set[int] = field(default_factory=set)
    # for remove_if(): the keys it accepts (a listener may store one of them during the call,
    # before the predicate sees it: that value may be reported "explicit" too)
    accepting: set[Hashable] = field(default_factory=set)
    # for remove() in a weighted cache: the value in the map and the cause remove() would give it;
    # the housekeeping that runs first may report it instead ("size" or "expired")
    removing: tuple[int, str] | None = None
    # the write takes the cache past its size bound, so it runs housekeeping (API.md section 6)
    bound_runs: bool = False


class Ledger:
    """Every value given to one cache, and what the cache reported about each.

    ``expired(value)`` tells whether a value's deadline has passed, and how: ``None`` (not expired),
    ``"entry"`` (its per-entry ttl/tti) or ``"cache"`` (the cache-wide ttl/tti, which wins).
    ``exact``: the backend claims moka's decisions, so also moka's moments for size and expiry events.
    ``weighted``: the cache has a weigher, so ``remove`` runs housekeeping first.
    """

    def __init__(
        self,
        capacity: int | None,
        *,
        reports: bool = True,
        expired: Callable[[int], str | None] = lambda value: None,
        clock: Callable[[], float] = time.monotonic,
        exact: bool = True,
        weighted: bool = False,
    ) -> None:
        self.capacity = capacity
        self.exact = exact
        self.weighted = weighted
        self.reports = reports  # False: no listener, so nothing is known about evictions
        self.expired = expired
        self.clock = clock
        self.key_of: dict[int, Hashable] = {}
        self.weight_of: dict[int, int] = {}
        self.latest: dict[Hashable, int] = {}
        self._stored_values: set[int] = set()
        self.reported: dict[int, str] = {}
        self.violations: list[str] = []
        self._stack: list[Operation] = []
        self.issued = 0  # values handed out so far; they are numbered 1, 2, ...
        self._records = 0
        self._housekeeping_started = clock()
        self.slack = None if not capacity else min(64, capacity // 8)
        self._written = 0  # weight written since the last explicit housekeeping

    # values

    def new_value(self, key: Hashable, weight: int = 1) -> int:
        """A fresh value (a unique int) meant for ``key``, weighing ``weight``."""
        self.issued += 1
        value = self.issued
        self.key_of[value] = key
        self.weight_of[value] = weight
        return value

    def in_map(self, key: Hashable) -> int | None:
        """The value the cache holds for ``key`` (maybe expired), or None. Needs a listener."""
        value = self.latest.get(key)
        if value is None or value in self.reported:
            return None
        return value

    def visible(self, key: Hashable) -> int | None:
        """The value ``get(key)`` must return, or None for a miss. Needs a listener."""
        value = self.in_map(key)
        if value is None or self.expired(value) is not None:
            return None
        return value

    def stored(self) -> dict[Hashable, int]:
        """Every key's value that is in the map (maybe expired)."""
        return {key: value for key in self.latest if (value := self.in_map(key)) is not None}

    def unaccounted(self) -> list[int]:
        """Values that are neither reported nor the latest under their key: lost values."""
        return [
            value
            for value, key in self.key_of.items()
            if value in self._stored_values and value not in self.reported and self.latest.get(key) != value
        ]

    # operations

    @contextmanager
    def operation(self, kind: str, key: Hashable | None = None) -> Iterator[Operation]:
        """Bracket one call into the cache; afterwards, check what it had to report."""
        op = Operation(kind, key)
        if kind in HOUSEKEEPING or self._housekeeps_first(kind):
            # measured before the cycle starts, so never later than the cache's own reading
            self._housekeeping_started = self.clock()
            self._records = 0
            self._written = 0
        elif kind in RECORDING:
            self._records += 2 if kind == "get_with" else 1
        if kind == "clear" and self.reports:
            op.clearing = set(self.stored().values())
        self._stack.append(op)
        try:
            yield op
        finally:
            popped = self._stack.pop()
            assert popped is op
        for value, cause in op.must_report.items():
            if self.reported.get(value) != cause:
                self.violate(
                    f"{kind}({key!r}) returned without reporting value {value} "
                    f"(key {self.key_of[value]!r}) as {cause!r}; reported: {self.reported.get(value)!r}"
                )
        if op.removing is not None and op.removing[0] not in self.reported:
            value = op.removing[0]
            self.violate(f"remove({key!r}) returned without reporting value {value}, which was in the map")
        for value in op.clearing:
            if value not in self.reported:
                self.violate(
                    f"clear() returned but value {value} (key {self.key_of[value]!r}) was not reported"
                )

    def will_store(self, op: Operation, key: Hashable, value: int, *, certain: bool) -> None:
        """``value`` is about to be stored under ``key`` by ``op`` (set, or get_with's insert).

        ``certain``: the caller knows whether the key is in the map (no event is queued for
        delivery); a write from inside a listener does not.
        """
        if self.capacity == 0:
            return  # capacity 0 stores nothing
        if self.slack is not None:
            written = self._written + (self.weight_of[value] if self.weighted else 1)
            if written > self.slack:
                op.bound_runs = True
                written = 0
            self._written = written
        self._stored_values.add(value)
        old = self.in_map(key) if self.reports else None
        self.latest[key] = value
        if old is None:
            return
        if not certain:
            op.may_replace.add(old)
        elif self.expired(old) == "cache":
            op.must_report[old] = "expired"  # moka: an update over a ttl/tti-expired entry
        else:
            op.must_report[old] = "replaced"

    def will_reload(self, op: Operation, key: Hashable, found: int, value: int | None) -> bool:
        """A reload of ``key`` that started from the value ``found`` is about to write ``value``
        (None: its initializer raised); whether the write must happen (see the module docstring).

        Needs a listener: only then does the ledger know that ``found`` is still in the map.
        """
        if value is None or self.in_map(key) != found or self.expired(found) is not None:
            return False
        self.will_store(op, key, value, certain=True)
        return True

    def will_remove(self, op: Operation, key: Hashable) -> int | None:
        """``remove(key)`` is about to run: the value it must return (None: the default)."""
        old = self.in_map(key) if self.reports else None
        if old is not None:
            cause = "expired" if self.expired(old) == "cache" else "explicit"
            if self.weighted:
                op.removing = (old, cause)
            else:
                op.must_report[old] = cause
        return old

    def removal_results(self, old: int | None, default: object) -> tuple[object, ...]:
        """What ``remove`` may return once it has run, given ``will_remove``'s ``old``.

        The value itself, or, if the housekeeping that a weighted cache's ``remove`` runs first
        reported it (for size, or as expired: it was the value's cause anyway), the default.
        """
        if old is None:
            return (default,)
        if self.weighted and not self.reports:
            return (old, default)  # no listener: whether that housekeeping took it is not known
        if self.weighted and self.reported.get(old) in ("size", "expired"):
            return (default,) if self.reported[old] == "size" else (old, default)
        return (old,)

    def count_records(self, n: int) -> None:
        """``n`` more write records were queued (a ``remove_if``'s removals)."""
        self._records += n

    def _housekeeps_first(self, kind: str) -> bool:
        return kind == "remove" and self.weighted

    def forget(self, key: Hashable) -> None:
        """Without a listener: the key was seen absent, so its latest value no longer counts."""
        self.latest.pop(key, None)

    # the listener

    def report(self, key: Hashable, value: object, cause: object) -> None:
        """The eviction listener: check one event against the ledger and record it."""
        where = f"event ({key!r}, {value!r}, {cause!r})"
        op = self._stack[-1] if self._stack else None
        if op is None:
            self.violate(f"{where} delivered outside any call into the cache")
        elif op.kind not in RECORDING and op.kind not in HOUSEKEEPING:
            self.violate(f"{where} delivered during {op.kind}(), which must not report anything")
        if self.capacity == 0:
            self.violate(f"{where}: a cache of capacity 0 stores nothing, so reports nothing")
        if cause not in CAUSES:
            self.violate(f"{where}: unknown cause")
            return
        if not isinstance(value, int) or value not in self.key_of:
            self.violate(f"{where}: not a value that was stored")
            return
        if self.key_of[value] != key:
            self.violate(f"{where}: the value was stored under {self.key_of[value]!r}")
        if value not in self._stored_values:
            self.violate(f"{where}: the value was never stored (failed initializer or capacity 0)")
        if value in self.reported:
            self.violate(f"{where}: the value was already reported as {self.reported[value]!r}")
            return
        self.reported[value] = str(cause)
        if op is not None:
            self._check_cause(op, value, str(cause), where)

    def _check_cause(self, op: Operation, value: int, cause: str, where: str) -> None:
        if op.removing is not None and op.removing[0] == value and cause in ("size", "expired"):
            # reported by the housekeeping that runs first: checked below as any such event
            op.removing = None
        expected = op.must_report.get(value)
        if op.removing is not None and op.removing[0] == value:
            expected = op.removing[1]
            op.removing = None
        if expected is not None:
            if cause != expected:
                self.violate(f"{where} during {op.kind}({op.key!r}): expected cause {expected!r}")
            return
        if cause == "replaced":
            if value in op.may_replace:
                op.may_replace.discard(value)
            else:
                self.violate(f"{where} during {op.kind}({op.key!r}): no write hit this value's key")
        elif cause == "explicit":
            if value not in op.clearing and self.key_of[value] not in op.accepting:
                self.violate(f"{where} during {op.kind}({op.key!r}): not a remove of that key nor a clear")
        elif cause == "size":
            if self.capacity is None:
                self.violate(f"{where}: an unbounded cache evicts nothing for size")
            elif not self._housekeeping_possible(op):
                self.violate(
                    f"{where} during {op.kind}({op.key!r}): size evictions are decided by housekeeping, "
                    f"which cannot have run ({self._records} records and "
                    f"{self.clock() - self._housekeeping_started:.3f} s since the last cycle)"
                )
        elif cause == "expired":
            if self.expired(value) is None:
                self.violate(f"{where} during {op.kind}({op.key!r}): the value has not expired")
            elif not self._housekeeping_possible(op):
                self.violate(f"{where} during {op.kind}({op.key!r}): expired entries go at housekeeping")

    def _housekeeping_possible(self, op: Operation) -> bool:
        """May ``op`` deliver ``"size"`` or ``"expired"`` events?

        Every backend: during ``run_pending_tasks()``, ``clear()`` and the calls that read or write
        (API.md promises no more: events are delivered before the call that produced them returns,
        and everything is settled after ``run_pending_tasks()``). An ``exact`` backend makes moka's
        decisions, and moka decides these only at housekeeping, which an ordinary call runs after 64
        recorded reads or writes or 300 ms since the last cycle (docs/internals/moka-algorithms.md,
        "Logs and housekeeping"); a backend with its own policy (``exact = False``) may evict or
        expire eagerly, at the write that overflows or the read that finds an expired entry.
        """
        if op.kind in HOUSEKEEPING or self._housekeeps_first(op.kind):
            return True
        if not self.exact:
            return op.kind in RECORDING
        return op.kind in RECORDING and (op.bound_runs or self._inline_possible())

    def _inline_possible(self) -> bool:
        """Could moka's own triggers have run a cycle since the last explicit one (over-estimated)?"""
        since = self.clock() - self._housekeeping_started
        return self._records >= FLUSH_POINT or since >= SYNC_INTERVAL - 0.01

    def violate(self, message: str) -> None:
        self.violations.append(message)

    def check(self) -> None:
        """Raise AssertionError for the first problem found so far."""
        if self.violations:
            more = f" (and {len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
            raise AssertionError(self.violations[0] + more)
