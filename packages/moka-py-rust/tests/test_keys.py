"""Keys follow dict semantics exactly (the interner is a dict)."""

import math

import pytest


def test_numeric_equal_keys_are_one_key(Moka):
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
    assert 1 not in c and True not in c
    c.run_pending_tasks()
    assert c.count() == 0


def test_nan_by_identity(Moka):
    c = Moka(10)
    nan = float("nan")
    c.set(nan, "a")
    assert c.get(nan) == "a"
    assert c.get(float("nan")) is None
    c.set(float("nan"), "b")
    c.run_pending_tasks()
    assert c.count() == 2
    assert c.get(nan) == "a"
    assert math.isnan(nan)


def test_str_and_bytes_keys(Moka):
    c = Moka(100)
    c.set("abc", 1)
    c.set(b"abc", 2)
    assert c.get("ab" + "c") == 1 and c.get(b"abc") == 2
    key = "".join(["long key "] * 20)
    c.set(key, 3)
    assert c.get("".join(["long key "] * 20)) == 3


def test_tuple_and_frozenset_keys(Moka):
    c = Moka(100)
    c.set((1, "a", (2.0, None)), "t")
    assert c.get((1, "a", (2, None))) == "t"
    assert c.get((True, "a", (2, None))) == "t"
    c.set(frozenset({1, 2}), "f")
    assert c.get(frozenset({2, 1})) == "f"
    assert c.get((1, "a")) is None


def test_custom_eq_and_hash(Moka):
    class K:
        def __init__(self, v):
            self.v = v

        def __hash__(self):
            return hash(self.v) % 3  # plenty of collisions

        def __eq__(self, other):
            return isinstance(other, K) and other.v == self.v

    c = Moka(1000)
    for i in range(50):
        c.set(K(i), i)
    assert all(c.get(K(i)) == i for i in range(50))
    assert c.get(K(99)) is None
    for i in range(0, 50, 2):
        assert c.remove(K(i)) == i
    assert all((K(i) in c) == (i % 2 == 1) for i in range(50))


def test_eq_exception_propagates_from_the_call(Moka):
    class Boom(Exception):
        pass

    class Bad:
        armed = False

        def __hash__(self):
            return 7

        def __eq__(self, other):
            if Bad.armed:
                raise Boom("eq")
            return self is other

    c = Moka(10)
    first, second = Bad(), Bad()
    c.set(first, 1)
    Bad.armed = True
    with pytest.raises(Boom):
        c.get(second)
    with pytest.raises(Boom):
        c.set(second, 2)
    with pytest.raises(Boom):
        second in c
    with pytest.raises(Boom):
        c.remove(second)
    with pytest.raises(Boom):
        c.get_with(second, lambda: 3)
    # the identical object is found without calling __eq__, and the cache is consistent
    assert c.get(first) == 1
    Bad.armed = False
    assert c.get(second) is None
    c.run_pending_tasks()
    assert c.count() == 1


def test_hash_exception_propagates(Moka):
    class Boom(Exception):
        pass

    class Bad:
        def __hash__(self):
            raise Boom

    c = Moka(10)
    with pytest.raises(Boom):
        c.set(Bad(), 1)
    with pytest.raises(Boom):
        c.get(Bad())
    c.run_pending_tasks()
    assert c.count() == 0


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


def test_numpy_ints_equal_ints(Moka):
    np = pytest.importorskip("numpy")
    c = Moka(10)
    c.set(5, "five")
    assert c.get(np.int64(5)) == "five"


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
