"""Listener events: collected inside moka, delivered after it returns."""

import threading

import pytest


def test_causes_and_order(Moka):
    events = []
    c = Moka(3, eviction_listener=lambda *a: events.append(a), policy="lru")
    for i in range(3):
        c.set(i, f"v{i}")
    c.run_pending_tasks()
    c.set(0, "new0")  # replaced, synchronously
    assert events == [(0, "v0", "replaced")]
    assert c.remove(1) == "v1"
    assert events[-1] == (1, "v1", "explicit")
    for i in range(3, 6):
        c.set(i, f"v{i}")
    c.run_pending_tasks()
    sizes = [e for e in events if e[2] == "size"]
    assert [e[0] for e in sizes] == [2, 0]  # LRU order
    c.clear()
    assert sorted(e[0] for e in events if e[2] == "explicit") == [1, 3, 4, 5]
    assert c.count() == 0


def test_exceptions_all_events_delivered_first_raised(Moka):
    class E1(Exception):
        pass

    class E2(Exception):
        pass

    seen = []

    def listener(k, v, cause):
        seen.append(k)
        if k == 1:
            raise E1
        if k == 2:
            raise E2

    c = Moka(None, eviction_listener=listener)
    for i in range(4):
        c.set(i, i)
    with pytest.raises(E1):
        c.clear()
    assert sorted(seen) == [0, 1, 2, 3]
    assert c.count() == 0  # the cache is consistent
    c.set(5, 5)
    assert c.get(5) == 5


def test_listener_exception_from_set_after_insert(Moka):
    def listener(k, v, cause):
        raise ValueError(cause)

    c = Moka(10, eviction_listener=listener)
    c.set("k", 1)
    with pytest.raises(ValueError, match="replaced"):
        c.set("k", 2)
    assert c.get("k") == 2


def test_listener_reentrancy_no_deadlock(Moka):
    c = None
    seen = []

    def listener(k, v, cause):
        seen.append((k, v, cause))
        if cause == "replaced" and v == "a":
            c.set(k, "c")  # set of the key being replaced
        c.run_pending_tasks()  # housekeeping from inside a listener
        c.get(k)
        k in c

    c = Moka(2, eviction_listener=listener)
    c.set("k", "a")
    c.set("k", "b")
    assert c.get("k") == "c"
    assert ("k", "a", "replaced") in seen and ("k", "b", "replaced") in seen
    for i in range(10):
        c.set(i, i)
    c.run_pending_tasks()
    c.clear()
    assert c.count() == 0


def test_events_delivered_by_the_thread_that_ran_the_op(Moka):
    threads = []
    c = Moka(10, eviction_listener=lambda k, v, cause: threads.append(threading.get_ident()))
    c.set(1, 1)

    def worker():
        c.remove(1)

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert threads == [t.ident]


def test_listener_called_positionally_with_canonical_key(Moka):
    got = []

    def listener(key, value, cause, /):
        got.append((key, value, cause))

    c = Moka(10, eviction_listener=listener)
    c.set(1, "x")
    c.remove(1.0)
    assert got == [(1, "x", "explicit")] and type(got[0][0]) is int


def test_no_listener_no_key_locks_semantics(Moka):
    # without a listener, housekeeping never needs more than one cycle for 1,000
    # evictions and nothing is reported
    c = Moka(10)
    for i in range(1000):
        c.set(i, i)
    c.run_pending_tasks()
    assert c.count() == 10
