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
    c = Moka(10, tti=2.5)
    c.set("k", 1)
    for _ in range(3):
        time.sleep(0.4)
        assert c.get("k") == 1  # each read restarts the 2.5 s idle clock
    time.sleep(3.5)
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
    c.set("k", 1, tti=3.0, ttl=5.0)
    time.sleep(1.5)
    assert c.get("k") == 1  # deadline: read + min(3, 5 - 1.5) = t+4.5
    time.sleep(1.5)
    assert c.get("k") == 1  # deadline: read + min(3, 5 - 3) = t+5 (not t+6)
    time.sleep(2.5)
    # at t+5.5: gone, because the renewed tti is capped by the ttl left (a later
    # check only makes this more certain)
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
