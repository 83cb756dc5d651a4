"""Expiry against real time, with wide margins (never flaky on a loaded machine)."""

import time

SHORT = 0.3  # a deadline
WAIT = 1.0  # sleep well past it
LONG = 60  # a deadline that cannot be reached during the test


def test_cache_ttl(Moka):
    c = Moka(10, ttl=SHORT)
    c.set("k", 1)
    assert c.get("k") == 1
    time.sleep(WAIT)
    assert c.get("k") is None and "k" not in c


def test_cache_tti_refreshed_by_reads(Moka):
    c = Moka(10, tti=2.0)
    c.set("k", 1)
    for _ in range(4):
        time.sleep(0.5)
        assert c.get("k") == 1  # each read restarts the 2 s idle clock
    time.sleep(3.0)
    assert c.get("k") is None


def test_per_entry_ttl_shortens(Moka):
    c = Moka(10, ttl=LONG)
    c.set("short", 1, ttl=SHORT)
    c.set("long", 2)
    time.sleep(WAIT)
    assert c.get("short") is None
    assert c.get("long") == 2


def test_per_entry_cannot_extend_cache_ttl(Moka):
    c = Moka(10, ttl=SHORT)
    c.set("k", 1, ttl=LONG)
    time.sleep(WAIT)
    assert c.get("k") is None


def test_per_entry_tti_refreshed_and_capped_by_ttl(Moka):
    c = Moka(10)
    c.set("k", 1, tti=1.5, ttl=2.5)
    time.sleep(0.8)
    assert c.get("k") == 1  # tti restarts, capped by ~1.7 s of ttl left
    time.sleep(0.8)
    assert c.get("k") == 1
    time.sleep(2.0)  # now past the per-entry ttl (2.5 s) whatever the reads did
    assert c.get("k") is None


def test_update_without_durations_clears_per_entry_deadline(Moka):
    c = Moka(10)
    c.set("k", 1, ttl=SHORT)
    c.set("k", 2)
    time.sleep(WAIT)
    assert c.get("k") == 2


def test_expired_but_present_remove_returns_value(Moka):
    events = []
    c = Moka(10, ttl=SHORT, eviction_listener=lambda *a: events.append(a))
    c.set("k", 1)
    time.sleep(WAIT)
    assert c.remove("k") == 1
    assert events == [("k", 1, "expired")]
