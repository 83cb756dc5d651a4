"""The "Eviction listener" example of the seed README (v2), traced by hand against moka's rules.

    moka = Moka(2, eviction_listener=key_evicted, ttl=0.5)
    moka.set("hello", [1, 2, 3])
    moka.set("hello", [3, 2, 1])  # replaced
    moka.set("foo", [4])  # expired
    moka.set("baz", "size")
    moka.remove("foo")  # explicit
    sleep(1.0)
    moka.get("anything")  # this will trigger eviction for expired

(The comments are the README's.  Traced with moka 0.12.16's rules alone, "foo" is in fact reported
as "explicit" by the remove, and "hello" and "baz" expire; nothing is evicted for size, so the
README's own assertion fails, as it does with moka-py 0.5.0, which links 0.12.16.  With moka
0.12.14's rules, "baz" was rejected for size.  moka-py's size bound brings that back: see the
second test.)
"""

from __future__ import annotations

from pure_helpers import MS, FakeClock, Recorder, make


def test_seed_eviction_listener_example(clock: FakeClock, rec: Recorder) -> None:
    moka = make(2, clock, rec, ttl=0.5)

    moka.set("hello", [1, 2, 3])
    assert rec.events == []  # a new key: queued as an Upsert, nothing to report

    moka.set("hello", [3, 2, 1])
    # An update of a key present in the map is reported synchronously, inside the insert.
    seen = rec.take()
    assert seen == [("hello", [1, 2, 3], "replaced")]

    moka.set("foo", [4])
    moka.set("baz", "size")
    moka.remove("foo")
    # remove() of a present, unexpired entry: "explicit", synchronously.  The 300 ms timer has not
    # fired (no time passed), so no housekeeping ran: the write log holds five records.
    seen += rec.events
    assert rec.take() == [("foo", [4], "explicit")]
    assert len(moka._wlog) == 5 and moka.count() == 0

    clock.advance(1000 * MS)
    assert moka.get("anything") is None
    # That get saw now >= run_after (creation + 300 ms) and ran a cycle before queuing its Miss:
    #  write batch, FIFO:
    #   1. Upsert hello (gen 1): ws 0 + 1 <= 2 -> admitted (ws 1).  Its EntryInfo is still dirty
    #      (the update bumped the generation to 2).
    #   2. Upsert hello (gen 2): already admitted -> weight update, moved to the MRU end.
    #   3. Upsert foo: foo left the map (the remove retired it) -> skipped (moka 0.12.16).
    #      (moka 0.12.14 admitted it here, ws 2, so that baz was rejected for size below.)
    #   4. Upsert baz: ws 1 + 1 <= 2 -> admitted (ws 2).
    #   5. Remove foo: never admitted, nothing to unlink.  (Already reported.)
    #  then the sketch is enabled (ws 2 >= 2 // 2); then the TTL scan of the write-order deque:
    #   hello and baz were written at 0 s, TTL 0.5 s, now 1.0 s -> removed: "expired".
    seen += rec.events
    assert rec.take() == [("hello", [3, 2, 1], "expired"), ("baz", "size", "expired")]
    assert moka.count() == 0 and moka.weighted_size() == 0
    # the README asserts {"size", "expired", "replaced", "explicit"}
    assert {c for _, _, c in seen} == {"expired", "replaced", "explicit"}


def test_seed_eviction_listener_example_with_the_size_bound(clock: FakeClock, rec: Recorder) -> None:
    """The same calls with moka-py's size bound (API.md section 6), as users run them.

    Capacity 2 has no slack, so every write runs a cycle before it returns: hello (twice) and foo
    are admitted (ws 2), and baz, of frequency 0 like its LRU victim, is rejected: "size", at once.
    The remove of foo is then an ordinary explicit one, and hello expires at the get: the README's
    four causes.
    """
    moka = make(2, clock, rec, bound=True, ttl=0.5)
    moka.set("hello", [1, 2, 3])
    moka.set("hello", [3, 2, 1])
    moka.set("foo", [4])
    assert rec.take() == [("hello", [1, 2, 3], "replaced")]
    moka.set("baz", "size")
    assert rec.take() == [("baz", "size", "size")]
    assert moka.count() == 2 and len(moka._wlog) == 0
    moka.remove("foo")
    assert rec.take() == [("foo", [4], "explicit")]
    clock.advance(1000 * MS)
    assert moka.get("anything") is None
    assert rec.take() == [("hello", [3, 2, 1], "expired")]
    assert moka.count() == 0 and moka.weighted_size() == 0
