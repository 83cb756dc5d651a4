"""TTL, TTI, invalidate_all (clear), and moka's Expiry hooks with the shared per-entry definition."""

from __future__ import annotations

from pure_helpers import MS, SEC, FakeClock, Recorder, make


def test_ttl_expires_at_the_deadline(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, ttl=1)
    c.set("a", 1)
    c.run_pending_tasks()
    clock.advance(SEC - 1)
    assert c.get("a") == 1  # reads do not extend a TTL
    clock.advance(1)
    assert c.get("a") is None and "a" not in c
    assert c.count() == 1  # invisible, but still counted until housekeeping
    c.run_pending_tasks()
    assert rec.take() == [("a", 1, "expired")] and c.count() == 0


def test_tti_is_extended_by_reads_not_by_contains(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, tti=1)
    c.set("a", 1)
    clock.advance(900 * MS)
    assert "a" in c
    assert c.get("a") == 1  # last_accessed = 0.9 s
    clock.advance(900 * MS)
    assert c.get("a") == 1
    clock.advance(SEC)
    assert c.get("a") is None
    c.run_pending_tasks()
    assert rec.take() == [("a", 1, "expired")]


def test_ttl_removal_follows_write_order(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, ttl=1)
    for k in "abc":
        c.set(k, k)
        clock.advance(MS)
    c.run_pending_tasks()
    c.get("a")
    c.set("b", "b2")  # moves b to the back of the write order
    assert rec.take() == [("b", "b", "replaced")]
    clock.advance(2 * SEC)
    c.run_pending_tasks()
    assert rec.take() == [("a", "a", "expired"), ("c", "c", "expired"), ("b", "b2", "expired")]


def test_expired_but_present_entry_is_a_size_victim(clock: FakeClock, rec: Recorder) -> None:
    c = make(2, clock, rec, ttl=250 * MS / SEC)
    c.set(1, "a")
    c.set(2, "b")
    c.run_pending_tasks()
    clock.advance(290 * MS)  # both expired; no trigger yet (run_after is 300 ms)
    c.get(3)
    c.get(3)
    c.set(3, "c")
    c.run_pending_tasks()
    # admission runs before expiry removal: 1 is chosen as a victim and reported as "size"
    assert rec.take() == [(1, "a", "size"), (2, "b", "expired")]


def test_clear_reports_in_write_order_then_probation_order(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec)  # no TTL: no write-order deque, probation (LRU) order only
    for k in (1, 2, 3):
        c.set(k, k)
    c.run_pending_tasks()
    c.get(1)
    clock.advance(1)
    c.clear()
    assert rec.take() == [(2, 2, "explicit"), (3, 3, "explicit"), (1, 1, "explicit")]
    assert c.count() == 0 and c.weighted_size() == 0

    c = make(10, clock, rec, ttl=10)  # with a TTL the write-order scan goes first
    for k in (1, 2, 3):
        c.set(k, k)
    c.run_pending_tasks()
    c.get(1)
    clock.advance(1)
    c.clear()
    assert rec.take() == [(1, 1, "explicit"), (2, 2, "explicit"), (3, 3, "explicit")]


def test_clear_reports_expired_entries_as_expired(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, tti=1)
    c.set("old", 1)
    clock.advance(2 * SEC)
    c.set("new", 2)
    clock.advance(1)
    c.clear()
    # "old" is TTI-expired: removed by the probation scan as "expired"; "new" as "explicit"
    assert rec.take() == [("old", 1, "expired"), ("new", 2, "explicit")]


def test_clear_settles_pending_inserts_first(clock: FakeClock, rec: Recorder) -> None:
    c = make(2, clock, rec)
    c.set(1, "a")
    c.set(2, "b")
    c.set(3, "c")  # capacity 2: rejected when the batch is applied (frequency tie at 0)
    c.clear()
    assert rec.take() == [(3, "c", "size"), (1, "a", "explicit"), (2, "b", "explicit")]
    assert c.count() == 0 and len(c._map) == 0


def test_clear_removes_entries_written_in_the_same_clock_tick(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec)
    c.set("a", 1)
    c.clear()  # same instant as the write (a coarse clock): still removed
    assert rec.take() == [("a", 1, "explicit")]
    c.set("b", 2)  # written in that same instant after the clear: valid
    assert c.get("b") == 2
    c.run_pending_tasks()
    assert c.count() == 1


def test_invalid_entries_are_invisible_until_clear_finishes() -> None:
    # invalidate_all's validity rule: lm < va or la < va (strict)
    from moka_py_pure._entry import Entry
    from moka_py_pure._expiry import is_valid

    e = Entry("k", 0, "v", 1, 100, None, None)
    assert is_valid(e, 200, None, None, 100)  # written at the invalidation instant: survives
    assert not is_valid(e, 200, None, None, 101)


def test_remove_of_expired_but_present_entry_returns_the_value(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, ttl=1)
    c.set("a", 1)
    c.set("p", 2, ttl=0.5)
    clock.advance(700 * MS)
    assert c.get("p") is None
    assert c.remove("p") == 2  # per-entry expiry is not considered: "explicit"
    clock.advance(SEC)
    assert "a" not in c  # (a get would run housekeeping here: the 300 ms timer is due)
    assert c.remove("a") == 1  # TTL-expired: "expired"
    assert rec.take() == [("p", 2, "explicit"), ("a", 1, "expired")]


def test_update_over_expired_entry_reports_expired_or_replaced(clock: FakeClock, rec: Recorder) -> None:
    c = make(10, clock, rec, ttl=1)
    c.set("a", 1)
    c.set("p", 1, ttl=0.2)
    clock.advance(500 * MS)
    c.set("p", 2)  # old value per-entry-expired only: "replaced"
    clock.advance(600 * MS)
    c.set("a", 2)  # old value TTL-expired: "expired"
    assert rec.take() == [("p", 1, "replaced"), ("a", 1, "expired")]
    assert c.get("a") == 2 and c.get("p") == 2


# -- per-entry Expiry hooks -----------------------------------------------------------------------


def test_create_uses_min_of_per_entry_ttl_and_tti(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, ttl=2, tti=1)
    assert c._map[hash("a")].exp == (clock.now - clock.now + SEC) & ~0xFFF  # creation at cache time 0
    clock.advance(SEC - 1)
    assert c.get("a") is None  # the deadline was rounded down to a multiple of 4096 ns


def test_per_entry_cannot_outlive_the_cache_ttl(clock: FakeClock) -> None:
    c = make(10, clock, ttl=1)
    c.set("a", 1, ttl=100)
    clock.advance(SEC)
    assert c.get("a") is None


def test_update_without_durations_clears_the_deadline(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, ttl=1)
    c.set("a", 2)
    assert c._map[hash("a")].exp is None
    clock.advance(10 * SEC)
    assert c.get("a") == 2


def test_update_result_equal_to_current_keeps_the_deadline_absent(clock: FakeClock) -> None:
    c = make(10, clock, ttl=10)
    c.set("a", 1)
    c.set("a", 2, ttl=10)  # hook result 10 s == current duration (from the cache TTL): no change
    assert c._map[hash("a")].exp is None
    c.set("a", 3, ttl=5)
    assert c._map[hash("a")].exp == 5 * SEC & ~0xFFF


def test_v0_12_13_rule_clears_an_expired_deadline_on_update(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, ttl=0.1)
    clock.advance(SEC)  # E is in the past: current duration is None, and so is the hook's result
    c.set("a", 2)
    assert c._map[hash("a")].exp is None and c.get("a") == 2


def test_read_with_per_entry_tti_extends(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, tti=1)
    clock.advance(900 * MS)
    assert c.get("a") == 1  # E = 0.9 s + 1 s
    clock.advance(900 * MS)
    assert c.get("a") == 1
    clock.advance(SEC)
    assert c.get("a") is None


def test_read_tti_is_capped_by_what_is_left_of_per_entry_ttl(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, ttl=1.5, tti=1)
    clock.advance(900 * MS)
    assert c.get("a") == 1  # min(1 s, 1.5 s - 0.9 s) = 0.6 s -> E = 1.5 s
    deadline = int(1.5 * SEC) & ~0xFFF
    assert c._map[hash("a")].exp == deadline
    clock.advance(deadline - 900 * MS - 1)
    assert "a" in c
    clock.advance(1)
    assert "a" not in c


def test_read_without_per_entry_tti_changes_nothing(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, ttl=1)
    exp = c._map[hash("a")].exp
    clock.advance(500 * MS)
    assert c.get("a") == 1
    assert c._map[hash("a")].exp == exp
    assert c._rlog[-1] is c._map[hash("a")]  # a plain Hit record: is_expiry_modified = false


def test_expiry_modifying_read_reschedules_the_timer(clock: FakeClock) -> None:
    c = make(10, clock)
    c.set("a", 1, tti=100)
    c.run_pending_tasks()
    tw = c._policy.timer_wheel
    assert [lv for lv, _, _ in tw.scheduled()] == [1]  # 100 s ahead: level 1
    clock.advance(40 * SEC)
    c.get("a")
    assert isinstance(c._rlog[-1], tuple)  # Hit with is_expiry_modified
    c.run_pending_tasks()
    e = c._map[hash("a")]
    assert e.exp == (40 * SEC + 100 * SEC) & ~0xFFF
    assert [(lv, ix) for lv, ix, _ in tw.scheduled()] == [tw.bucket_indices(e.exp)]


def test_get_with_re_check_does_not_record_but_touches(clock: FakeClock) -> None:
    c = make(10, clock, tti=1)
    c.set("a", 1)
    clock.advance(500 * MS)
    assert c._peek("a", hash("a")) == 1
    assert c._map[hash("a")].la == 500 * MS  # moka's get_with_hash_without_recording sets last_accessed
    assert c._rlog == []
