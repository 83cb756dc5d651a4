"""A write over an entry that has expired but is still stored (moka#575's case, API.md section 3).

moka removes expired entries only when housekeeping runs, and housekeeping runs only inside calls.
So when a cache gets no call between an entry's deadline and a new write of its key, that write
finds the expired entry still in the map and updates it in place.  moka 0.12.15 fixed that path
(moka#575): such a write must start a fresh life for the key, with the deadlines of the new write
only, never the old entry's.  Here three caches cover the cache-wide ttl, a per-entry ttl replaced
by another, and a per-entry ttl replaced by none.

Real time with wide margins (every backend is tested, and only the pure one has a clock to
inject): the deadlines that must not have passed are at least 0.8 s away when checked, the ones
that must have passed at least 0.7 s behind, and moka's timer wheel (about 1.07 s a tick) has
ticked past the per-entry deadline before its event is asserted.
"""

from __future__ import annotations

import time
from typing import Any

from moka_py_conformance._support import EventLog


def _sleep_until(moment: float) -> None:
    left = moment - time.monotonic()
    if left > 0:
        time.sleep(left)


def test_a_write_over_an_expired_stored_entry_expires_on_its_own_deadlines(Moka: Any) -> None:
    wide, per_entry, forever = EventLog(), EventLog(), EventLog()
    a = Moka(10, ttl=1.0, eviction_listener=wide)  # cache-wide ttl
    b = Moka(10, eviction_listener=per_entry)  # per-entry ttl, written again with another
    c = Moka(10, eviction_listener=forever)  # per-entry ttl, written again without one
    start = time.monotonic()
    a.set("k", "v1")
    b.set("k", "v1", ttl=0.3)
    c.set("k", "v1", ttl=0.3)

    # No call for 1.5 s: every v1 is past its deadline (by 0.5 s and 1.2 s) and still stored.
    _sleep_until(start + 1.5)
    rewrite = time.monotonic()
    a.set("k", "v2")
    b.set("k", "v2", ttl=1.5)
    c.set("k", "v2")
    # The writes replaced the stored v1 in place (expired by the cache-wide ttl: "expired"; by a
    # per-entry ttl: "replaced", as moka reports it), and v2 is readable at once.
    assert wide.take() == [("k", "v1", "expired")]
    assert per_entry.take() == [("k", "v1", "replaced")]
    assert forever.take() == [("k", "v1", "replaced")]
    assert (a.get("k"), b.get("k"), c.get("k")) == ("v2", "v2", "v2")

    # 0.2 s later (v2's deadlines are 1.0 s and 1.5 s after the rewrite): still there, including
    # after housekeeping, which would remove an entry that kept its old, passed deadline.
    _sleep_until(rewrite + 0.2)
    for cache in (a, b, c):
        cache.run_pending_tasks()
    assert (a.get("k"), b.get("k"), c.get("k")) == ("v2", "v2", "v2")
    assert wide.take() == per_entry.take() == forever.take() == []

    # 2.2 s after the rewrite: a's v2 (1.0 s) and b's v2 (1.5 s) have expired; c's v2 never does.
    _sleep_until(rewrite + 2.2)
    assert a.get("k") is None
    assert b.get("k") is None
    assert c.get("k") == "v2"
    for cache in (a, b, c):
        cache.run_pending_tasks()
    assert wide.take() == [("k", "v2", "expired")]
    assert per_entry.take() == [("k", "v2", "expired")]
    assert forever.take() == []
    assert (a.count(), b.count(), c.count()) == (0, 0, 1)
