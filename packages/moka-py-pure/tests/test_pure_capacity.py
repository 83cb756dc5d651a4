"""Capacity 0 (moka's disabled map) and unbounded caches."""

from __future__ import annotations

from typing import Any

from pure_helpers import FakeClock, Recorder, make


def test_capacity_zero_is_a_disabled_map(clock: FakeClock, rec: Recorder) -> None:
    weighed: list[Any] = []

    def weigher(k: Any, v: Any) -> int:
        weighed.append(k)
        return 1

    c = make(0, clock, rec, weigher=weigher)
    c.set("a", 1)
    assert c.get("a") is None and c.get("a", "d") == "d" and "a" not in c
    assert c.remove("a") is None
    calls: list[int] = []

    def init() -> int:
        calls.append(1)
        return 4 + len(calls)

    assert c.get_with("k", init) == 5
    assert c.get_with("k", init) == 6
    assert calls == [1, 1]
    c.run_pending_tasks()
    c.clear()
    assert c.count() == 0 and c.weighted_size() == 0
    assert rec.events == [] and weighed == []  # moka returns before weighing
    assert c._rlog == [] and c._wlog == []


def test_unbounded_cache_never_evicts_for_size(clock: FakeClock, rec: Recorder) -> None:
    c = make(None, clock, rec)
    for k in range(2000):
        c.set(k, k)
    c.run_pending_tasks()
    assert c.count() == 2000 and rec.events == []
    assert not c._policy.sketch.enabled
    assert c.capacity is None
