"""Read/write logs: the 64-record flush points, the 300 ms trigger, reads applied before writes."""

from __future__ import annotations

from typing import Any

from pure_helpers import MS, FakeClock, Recorder, make


def test_64th_write_is_queued_and_65th_triggers_before_enqueueing(clock: FakeClock) -> None:
    c = make(1000, clock)
    for k in range(64):
        c.set(k, k)
    assert len(c._wlog) == 64 and c.count() == 0  # 63 records were queued when the 64th checked
    c.set(64, 64)  # sees 64 queued: runs a cycle first, then queues its own record
    assert c.count() == 64
    assert len(c._wlog) == 1
    c.run_pending_tasks()
    assert c.count() == 65


def test_65th_read_triggers_before_enqueueing(clock: FakeClock) -> None:
    c = make(1000, clock)
    c.set("a", 1)
    c.run_pending_tasks()
    for _ in range(64):
        c.get("a")
    assert len(c._rlog) == 64
    c.get("a")
    assert len(c._rlog) == 1


def test_reads_do_not_check_the_write_log(clock: FakeClock) -> None:
    c = make(1000, clock)
    for k in range(64):
        c.set(k, k)
    c.get(0)  # a read only looks at the read log (and the timer)
    assert len(c._wlog) == 64 and c.count() == 0
    c.remove(1)  # a write does: a cycle runs before its record is queued
    # 63: key 1 left the map before that cycle, so its queued insert was skipped (moka 0.12.16)
    assert len(c._wlog) == 1 and c.count() == 63


def test_300ms_trigger(clock: FakeClock) -> None:
    c = make(1000, clock)  # initial run_after = creation + 300 ms
    c.set("a", 1)
    clock.advance(300 * MS - 1)
    c.get("a")
    assert c.count() == 0
    clock.advance(1)
    c.get("b")  # now >= run_after: a cycle runs before this read is queued
    assert c.count() == 1
    assert len(c._rlog) == 1
    # the next run_after is set at the start of that cycle: now + 300 ms
    c.set("b", 2)
    clock.advance(300 * MS - 1)
    c.set("c", 3)
    assert c.count() == 1
    clock.advance(1)
    c.set("d", 4)
    assert c.count() == 3


def test_explicit_run_also_resets_the_timer(clock: FakeClock) -> None:
    c = make(1000, clock)
    clock.advance(200 * MS)
    c.run_pending_tasks()  # run_after = 500 ms
    clock.advance(250 * MS)
    c.set("a", 1)
    c.set("b", 1)
    assert c.count() == 0
    clock.advance(50 * MS)
    c.set("c", 1)
    assert c.count() == 2


def test_reads_are_applied_before_writes(clock: FakeClock, rec: Recorder) -> None:
    # Capacity 2, TinyLFU: the sketch is enabled by the first cycle (weighted size >= 1).
    c = make(2, clock, rec)
    c.set(1, "a")
    c.set(2, "b")
    c.run_pending_tasks()
    assert c._policy.sketch.enabled
    # In one batch: insert 3, then read it.  The read is applied first, so when 3's insert is
    # applied its frequency is 1 > 0 (the victim's): it is admitted and 1 is evicted.  Applied in
    # call order, 3 would have frequency 0, tie with its victim, and be rejected.
    c.set(3, "c")
    assert c.get(3) == "c"  # a pending insert is readable
    c.run_pending_tasks()
    assert rec.take() == [(1, "a", "size")]
    assert c.get(3) == "c"
    assert c.count() == 2


def test_loop_runs_while_evictions_leave_work(clock: FakeClock) -> None:
    # More than 384 entries to trim at once: evict_lru_entries stops after 384 attempts and sets
    # more_entries_to_evict; the cycle loops again because it evicted something.
    c = make(500, clock, policy="lru", weigher=lambda k, v: v)
    for k in range(500):
        c.set(k, 1)
        if k % 50 == 0:
            c.run_pending_tasks()
    c.run_pending_tasks()
    assert c.count() == 500
    c.set("big", 450)
    c.run_pending_tasks()
    assert c.count() == 51 and c.weighted_size() == 500


def test_evict_lru_entries_stops_after_384_attempts(clock: FakeClock) -> None:
    c = make(1000, clock, policy="lru")
    for k in range(1000):
        c.set(k, k)
    c.run_pending_tasks()
    policy = c._policy
    with c._lock:
        policy.evict_lru_entries(900)
    assert len(c._map) == 1000 - 384
    assert policy.more_entries_to_evict
    assert list(c._map)[:1] == [384]  # trimmed from the LRU end


def test_more_entries_flag_makes_the_next_op_trigger_only_with_a_listener() -> None:
    from moka_py_pure._housekeeper import Housekeeper, run_cycle

    class FakePolicy:
        clock = staticmethod(lambda: 0)

    for keeps_flag in (False, True):
        hk = Housekeeper(keeps_flag, False, 0)
        import moka_py_pure._housekeeper as mod

        orig = mod.run_cycle
        mod.run_cycle = lambda *a: True  # a cycle that left work (e.g. moka's 100 ms timeout)
        try:
            trigger_at = hk.run(FakePolicy(), [], [])  # type: ignore[arg-type]
        finally:
            mod.run_cycle = orig
        assert trigger_at == (0 if keeps_flag else 300 * MS)
    assert run_cycle is orig


def test_drain_keeps_a_read_queued_while_the_log_is_copied(clock: FakeClock) -> None:
    """A lock-free read may append between housekeeping's copy and its trim of the read log."""
    from moka_py_pure._housekeeper import run_cycle

    c = make(1000, clock)
    c.set("a", 1)
    c.run_pending_tasks()
    e = c._map[hash("a")]

    class RacingLog(list):  # type: ignore[type-arg]
        def __getitem__(self, index: Any) -> Any:
            out = super().__getitem__(index)
            if isinstance(index, slice):
                self.append("late")  # what another thread's get would do at this moment
            return out

    log = RacingLog([e, e])
    with c._lock:
        run_cycle(c._policy, log, [])
    assert list(log) == ["late"]  # the two records were applied; the late one waits for the next cycle


def test_due_read_does_not_wait_for_a_held_lock_and_drops_records_past_384(clock: FakeClock) -> None:
    """moka's try_run_pending_tasks: a read never blocks; a full read log drops the record."""
    import threading

    c = make(1000, clock)
    c.set("a", 1)
    c.run_pending_tasks()
    results: list[Any] = []

    def reader() -> None:
        for _ in range(500):
            results.append(c.get("a"))
        results.append(c.get("missing", "default"))

    with c._lock:  # another thread is "housekeeping"
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(20.0)
        assert not t.is_alive(), "a read waited for the lock"
        assert results == [1] * 500 + ["default"]
        assert len(c._rlog) == 384  # READ_LOG_CAPACITY; later records were dropped
    c.get("a")  # the lock is free: the due cycle runs, then this read is queued
    assert len(c._rlog) == 1
