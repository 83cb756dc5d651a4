"""TinyLFU admission (ties, the victim walk, weights), w > C rejection, and the LRU policy."""

from __future__ import annotations

from typing import Any

from moka_py_pure import Moka
from moka_py_pure._hashing import key_hash
from pure_helpers import FakeClock, Recorder, make


def full_two(clock: FakeClock, rec: Recorder, **kw: Any) -> Moka[Any, Any]:
    """A TinyLFU cache of capacity 2 holding 1 and 2, with its sketch enabled."""
    c = make(2, clock, rec, **kw)
    c.set(1, "a")
    c.set(2, "b")
    c.run_pending_tasks()
    assert c._policy.sketch.enabled
    return c


def freq(c: Moka[Any, Any], key: int) -> int:
    return c._policy.sketch.frequency(key_hash(key))


def test_new_key_without_reads_is_rejected_tie_at_zero(clock: FakeClock, rec: Recorder) -> None:
    c = full_two(clock, rec)
    c.set(3, "c")
    assert c.get(3) == "c"  # readable until housekeeping decides (this read counts, though)
    c.run_pending_tasks()
    assert rec.take() == [(1, "a", "size")]  # the read above made 3 win 1 > 0

    c.set(4, "d")  # no read: frequency 0 == victim's 0 -> a tie rejects
    c.run_pending_tasks()
    assert rec.take() == [(4, "d", "size")]
    assert 4 not in c


def test_tie_at_nonzero_frequency_rejects(clock: FakeClock, rec: Recorder) -> None:
    c = full_two(clock, rec)
    c.get(1)  # reads move 1 then 2 to the MRU end: 1 stays the LRU end
    c.get(2)
    c.get(3)  # miss: 3 has frequency 1
    c.run_pending_tasks()
    assert (freq(c, 1), freq(c, 2), freq(c, 3)) == (1, 1, 1)
    c.set(3, "c")
    c.run_pending_tasks()
    assert rec.take() == [(3, "c", "size")]  # 1 vs 1: rejected
    c.get(3)
    c.set(3, "c")
    c.run_pending_tasks()
    assert rec.take() == [(1, "a", "size")]  # 2 > 1: admitted, 1 (LRU) evicted


def test_victim_walk_skips_dirty_nodes(clock: FakeClock, rec: Recorder) -> None:
    c = full_two(clock, rec)
    c.get(3)
    c.get(3)
    c.run_pending_tasks()
    # One batch: insert 3, then update 1.  When 3's insert is applied, 1 (the LRU end) is dirty: its
    # update is still queued.  The walk moves it to the MRU end and takes 2 instead.
    c.set(3, "c")
    c.set(1, "a2")
    assert rec.take() == [(1, "a", "replaced")]  # synchronous
    c.run_pending_tasks()
    assert rec.take() == [(2, "b", "size")]
    assert sorted(c._map) == [1, 3]
    assert c.count() == 2


def test_multiple_victims_by_weight_in_lru_order(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, weigher=lambda k, v: v)
    c.set("x", 4)
    c.set("y", 4)
    c.run_pending_tasks()
    assert c._policy.sketch.enabled  # ws 8 >= 10 // 2
    for _ in range(3):
        c.get("big")
    c.set("big", 6)  # needs both victims: 4 < 6, then 8 >= 6
    c.run_pending_tasks()
    assert rec.take() == [("x", 4, "size"), ("y", 4, "size")]
    assert c.count() == 1 and c.weighted_size() == 6


def test_summed_victim_frequency_can_reject(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, weigher=lambda k, v: v)
    c.set("x", 4)
    c.set("y", 4)
    c.run_pending_tasks()
    c.get("x")
    c.get("y")
    c.get("big")
    c.get("big")
    c.run_pending_tasks()
    c.set("big", 6)  # candidate 2 vs victims 1 + 1: a tie
    c.run_pending_tasks()
    assert rec.take() == [("big", 6, "size")]
    assert c.weighted_size() == 8


def test_weight_above_capacity_is_rejected_without_the_sketch(clock: FakeClock, rec: Recorder) -> None:
    c = make(5, clock, rec, weigher=lambda k, v: v)
    for _ in range(10):
        c.get("huge")
    c.set("huge", 6)
    assert c.get("huge") == 6  # still readable before housekeeping
    c.run_pending_tasks()
    assert rec.take() == [("huge", 6, "size")]
    assert c.count() == 0 and "huge" not in c


def test_zero_weight_entries_always_fit(clock: FakeClock, rec: Recorder) -> None:
    c = make(1, clock, rec, weigher=lambda k, v: 0)
    for k in range(10):
        c.set(k, k)
    c.run_pending_tasks()
    assert c.count() == 10 and c.weighted_size() == 0 and rec.events == []


def test_update_that_grows_weight_is_trimmed_in_lru_order(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, weigher=lambda k, v: v)
    for k in "abc":
        c.set(k, 3)
    c.run_pending_tasks()
    c.set("c", 7)  # resident update: no admission test; ws = 13 > 10 -> overflow trim
    c.run_pending_tasks()
    assert rec.take() == [("c", 3, "replaced"), ("a", 3, "size")]
    assert c.weighted_size() == 10


def test_weigher_result_is_clamped_to_u32(clock: FakeClock, rec: Recorder) -> None:
    c = make(None, clock, rec, weigher=lambda k, v: v)
    c.set("a", 2**40)
    c.run_pending_tasks()
    assert c.weighted_size() == 2**32 - 1


def test_lru_admits_everything_then_trims_lru_end(clock: FakeClock, rec: Recorder) -> None:
    c = make(3, clock, rec, policy="lru")
    for k in range(5):
        c.set(k, k)
    c.run_pending_tasks()
    # all five admitted in the batch, then trimmed from the LRU end: a key inserted earlier in the
    # same batch is trimmed
    assert rec.take() == [(0, 0, "size"), (1, 1, "size")]
    c.get(2)
    c.set(5, 5)
    c.run_pending_tasks()
    assert rec.take() == [(3, 3, "size")]
    assert not c._policy.sketch.enabled  # LRU never enables the sketch


def test_lru_still_rejects_weight_above_capacity(clock: FakeClock, rec: Recorder) -> None:
    c = make(3, clock, rec, policy="lru", weigher=lambda k, v: v)
    c.set("a", 1)
    c.set("b", 4)
    c.run_pending_tasks()
    assert rec.take() == [("b", 4, "size")]
    assert c.count() == 1


def test_remove_of_a_pending_insert(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec)
    c.set("a", 1)
    assert c.remove("a") == 1
    assert rec.take() == [("a", 1, "explicit")]
    c.run_pending_tasks()  # the upsert is admitted, then the remove unlinks it
    assert c.count() == 0 and c._policy.probation.len == 0 and rec.events == []


def test_sketch_sizing_with_a_weigher_uses_the_f64_formula(clock: FakeClock) -> None:
    c = make(1000, clock, weigher=lambda k, v: v)
    for k in range(300):
        c.set(k, 2)
        if k % 60 == 0:
            c.run_pending_tasks()
    c.run_pending_tasks()  # ws = 600 >= 500: capacity = 300 * (600 / 1000) = 180
    assert c._policy.sketch.enabled
    assert c._policy.sketch.table_len() == 256 and c._policy.sketch.sample_size == 1800


def test_reads_before_enabling_are_forgotten(clock: FakeClock) -> None:
    c = make(4, clock)
    c.set(1, 1)
    c.get(1)
    c.get(9)
    c.run_pending_tasks()  # ws 1 < 2: not enabled; the two reads were applied to an empty sketch
    assert not c._policy.sketch.enabled
    c.set(2, 2)
    c.run_pending_tasks()
    assert c._policy.sketch.enabled
    assert freq(c, 1) == 0 and freq(c, 9) == 0


def test_candidate_frequency_reads_one_counter_when_it_is_zero(clock: FakeClock, rec: Recorder) -> None:
    c = full_two(clock, rec)
    policy = c._policy
    c.set(3, "c")  # pending: its entry is the next admission candidate
    e = c._map[hash(3)]
    assert policy._candidate_frequency(e) == 0
    assert e.sk is None  # rejected whatever the victims are: no positions computed

    sketch = policy.sketch
    first = sketch.first_position(key_hash(3))
    sketch.counters[first] = 2  # only the first counter is non-zero: the minimum is still 0
    assert policy._candidate_frequency(e) == 0
    assert e.sk == sketch.positions(key_hash(3))  # now all four were needed, and are kept
    for p in e.sk:
        sketch.counters[p] = 3
    assert policy._candidate_frequency(e) == 3 == freq(c, 3)
    c.run_pending_tasks()
    assert rec.take() == [(1, "a", "size")]  # 3 > 0: admitted, the LRU end evicted


def test_candidate_frequency_uses_the_positions_of_a_recent_miss(clock: FakeClock, rec: Recorder) -> None:
    c = full_two(clock, rec)
    policy = c._policy
    c.get(3)  # a miss: housekeeping counts it and memoises 3's positions
    c.run_pending_tasks()
    memo = policy.positions_memo[hash(3)]
    c.set(3, "c")
    e = c._map[hash(3)]
    assert policy._candidate_frequency(e) == 1 == freq(c, 3)
    assert e.sk is memo
    c.run_pending_tasks()
    assert rec.take() == [(1, "a", "size")]
