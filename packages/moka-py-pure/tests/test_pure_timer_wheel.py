"""The hierarchical timer wheel: levels, buckets, advancing, cascading; and its effect on the cache."""

from __future__ import annotations

from typing import Any

import pytest
from moka_py_pure._entry import Entry
from moka_py_pure._timer_wheel import SPANS, TimerWheel
from pure_helpers import SEC, FakeClock, Recorder, make

MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR


def entry(name: str, exp: int | None) -> Entry:
    e = Entry(name, hash(name), name, 1, 0, None, None)
    e.exp = exp
    return e


def wheel(now: int = 0) -> TimerWheel:
    tw = TimerWheel(now)
    tw.enable()
    return tw


def sched(tw: TimerWheel, e: Entry) -> None:
    e.tn = tw.schedule(e)


def names(es: list[Entry]) -> list[Any]:
    return [e.key for e in es]


def test_spans_and_shifts() -> None:
    assert SPANS[:5] == (2**30, 2**36, 2**42, 2**47, 2**49)


@pytest.mark.parametrize(
    "t, expected",
    [
        (0, (0, 0)),
        (2**30 - 1, (0, 0)),
        (2**30, (0, 1)),
        (63 * 2**30, (0, 63)),
        (2**36 - 1, (0, 63)),
        (2**36, (1, 1)),
        (2**42 - 1, (1, 63)),
        (2**42, (2, 1)),
        (2**47, (3, 1)),
        (2**49 - 1, (3, 3)),
        (2**49, (4, 0)),
        (2**60, (4, 0)),
    ],
)
def test_bucket_indices_from_origin(t: int, expected: tuple[int, int]) -> None:
    assert wheel().bucket_indices(t) == expected


def test_bucket_level_is_relative_to_last_advance_index_to_origin() -> None:
    tw = wheel()
    tw.advance(100 * SEC)
    # 1 s after the last advance is level 0; its bucket counts ticks from the origin
    assert tw.bucket_indices(101 * SEC) == (0, (101 * SEC >> 30) & 63)


def test_level0_entry_fires_only_once_its_tick_is_passed() -> None:
    tw = wheel()
    e = entry("a", int(1.5 * SEC))
    sched(tw, e)
    assert names(tw.advance(int(0.9 * SEC))) == []  # still tick 0: nothing is visited
    assert names(tw.advance(int(1.2 * SEC))) == []  # tick 1: visited, not due, re-bucketed
    assert e.tn is not None
    # still tick 1: the wheel does not look at buckets again until the tick moves
    assert names(tw.advance(int(2.0 * SEC))) == []
    assert names(tw.advance(int(2.2 * SEC))) == ["a"]  # tick 2
    assert e.tn is None


def test_entries_fire_level_by_level_bucket_by_bucket_fifo() -> None:
    tw = wheel()
    es = [entry("b1", int(1.1 * SEC)), entry("a0", int(0.5 * SEC)), entry("b2", int(1.2 * SEC))]
    es.append(entry("a1", int(0.7 * SEC)))
    for e in es:
        sched(tw, e)
    assert names(tw.advance(int(1.5 * SEC))) == ["a0", "a1", "b1", "b2"]


def test_level1_entry_cascades_to_level0() -> None:
    tw = wheel()
    e = entry("m", 100 * SEC)
    sched(tw, e)
    assert e.tn is not None and e.tn.pos == (1, 1)
    assert names(tw.advance(99 * SEC)) == []
    assert e.tn.pos == (0, (100 * SEC >> 30) & 63)
    assert names(tw.advance(int(100.5 * SEC))) == ["m"]


@pytest.mark.parametrize("exp, level", [(3 * HOUR, 2), (3 * DAY, 3), (10 * DAY, 4)])
def test_higher_levels_cascade_and_fire(exp: int, level: int) -> None:
    tw = wheel()
    e = entry("x", exp)
    sched(tw, e)
    assert e.tn is not None and e.tn.pos is not None
    assert e.tn.pos[0] == level
    # walk the clock forward in coarse steps: never early, and fired within one level-0 tick
    t = 0
    fired_at = None
    while fired_at is None:
        t += 37 * MIN if t < exp - 2 * HOUR else int(0.7 * SEC)
        if names(tw.advance(t)) == ["x"]:
            fired_at = t
    assert exp <= fired_at < exp + 2 * SPANS[0]


def test_cleared_time_is_dropped_without_event() -> None:
    tw = wheel()
    e = entry("c", int(0.5 * SEC))
    sched(tw, e)
    e.exp = None
    assert names(tw.advance(2 * SEC)) == []
    assert e.tn is None
    assert tw.scheduled() == []


def test_reschedule_and_deschedule() -> None:
    tw = wheel()
    e = entry("r", int(0.5 * SEC))
    sched(tw, e)
    e.exp = 200 * SEC
    assert e.tn is not None
    tw.reschedule(e.tn)
    assert [(lv, ix) for lv, ix, _ in tw.scheduled()] == [(1, (200 * SEC >> 36) & 63)]
    tw.deschedule(e.tn)
    assert tw.scheduled() == []


# -- through the cache --------------------------------------------------------------------------


def test_per_entry_expired_entry_is_removed_in_a_later_level0_tick(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec)
    c.set("k", "v", ttl=0.1)
    c.run_pending_tasks()
    assert c.count() == 1
    clock.advance(int(0.2 * SEC))
    assert c.get("k") is None  # invisible at once
    c.run_pending_tasks()
    assert c.count() == 1 and rec.events == []  # but still counted: same level-0 tick
    clock.advance(int(0.9 * SEC))  # 1.1 s since creation: tick 1
    c.run_pending_tasks()
    assert c.count() == 0
    assert rec.take() == [("k", "v", "expired")]


def test_per_entry_expiration_is_truncated_to_4096_ns(clock: FakeClock) -> None:
    c = make(10, clock)
    clock.advance(5000)
    c.set("k", "v", ttl=1e-6)  # 5000 + 1000 = 6000 ns, stored as 4096 (<= now): already expired
    assert c.get("k") is None
    c.set("j", "v", ttl=4e-6)  # 9000 -> 8192 > 5000: visible
    assert c.get("j") == "v"
    clock.advance(8192 - 5000)
    assert c.get("j") is None


def test_wheel_is_enabled_lazily(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1)
    c.run_pending_tasks()
    assert not c._policy.timer_wheel.is_enabled
    c.set("b", 2, tti=5)
    assert not c._policy.timer_wheel.is_enabled  # only when its write is applied
    c.run_pending_tasks()
    assert c._policy.timer_wheel.is_enabled
