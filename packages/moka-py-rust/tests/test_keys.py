"""The key interner: Rust-specific internals (the contract on keys is in the conformance suite).

The binding maps every Python key to one canonical key object (a dict), hashes it once per call and
forgets removed keys.
"""


def test_numeric_equal_keys_share_the_first_key_object(Moka):
    events = []
    c = Moka(10, eviction_listener=lambda *a: events.append(a))
    c.set(1, "int")
    assert c.get(1.0) == "int" and c.get(True) == "int"
    assert 1.0 in c and True in c
    c.set(True, "bool")
    assert c.get(1) == "bool"
    # the canonical key stays the first one inserted, as in a dict
    assert events == [(1, "int", "replaced")]
    assert type(events[0][0]) is int
    assert c.remove(1.0) == "bool"
    assert events[-1] == (1, "bool", "explicit")
    assert type(events[-1][0]) is int


def test_hash_called_once_per_call(Moka):
    calls = []

    class K:
        def __hash__(self):
            calls.append(1)
            return 42

    k = K()
    c = Moka(10)
    c.set(k, 1)
    assert len(calls) == 1
    c.get(k)
    assert len(calls) == 2
    c.get_with(k, lambda: 2)
    assert len(calls) == 3
    c.remove(k)
    assert len(calls) == 4
    c.get_with(k, lambda: 2)  # miss: lookup, waiter map, re-check, insert
    assert len(calls) == 5


def test_interner_forgets_removed_keys(Moka):
    # A removed key object stays referenced while moka's map keeps a tombstone
    # for it (tombstones are purged once they reach 10% of the table), so we check
    # that removed keys are released in bulk rather than one by one.
    import weakref

    class K:
        def __init__(self, i):
            self.i = i

        def __hash__(self):
            return self.i

        def __eq__(self, other):
            return self is other

    c = Moka(10)
    refs = []
    for i in range(5000):
        k = K(i)
        refs.append(weakref.ref(k))
        c.set(k, i)
        assert c.remove(k) == i
        del k
    c.run_pending_tasks()
    alive = sum(r() is not None for r in refs)
    assert alive < 1000
