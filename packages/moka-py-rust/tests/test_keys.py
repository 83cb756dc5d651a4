"""The key interner: Rust-specific internals (the contract on keys is in the conformance suite).

The binding maps every Python key to one canonical key object (a dict), hashes it once per call and
forgets removed keys.
"""

import enum

from hypothesis import given
from hypothesis import strategies as st
from moka_py_pure._hashing import key_hash as pure_key_hash
from moka_py_rust import _native


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


class _Id(int):
    """An int subclass that keeps int's __eq__ and __hash__ (a value key)."""


class _Level(enum.IntEnum):
    LOW = -1
    HIGH = 2**62


_M61 = 2**61 - 1  # CPython's modulus for numeric hashes
_INT_EDGES = [0, 1, -1, -2, _M61 - 1, _M61, _M61 + 1, -_M61, -_M61 - 1, 2 * _M61 + 3]
_INT_EDGES += [2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64 + 5]

value_like_keys = st.one_of(
    st.integers(),
    st.integers(-(2**64), 2**64),
    st.sampled_from(_INT_EDGES),
    st.booleans(),
    st.floats(),
    st.integers(-(2**63), 2**63).map(float),  # integral floats, at and past the i64 ends
    st.integers().map(_Id),
    st.sampled_from(list(_Level)),
    st.text(),
    st.tuples(st.integers(), st.text()),
)


@given(value_like_keys)
def test_key_hash_is_python_hash_mixed(key):
    """The backend computes an int-valued key's ``hash()`` from its value and reads a str's cached
    hash: both must equal ``hash(key)``, or moka's sketch would see other hashes than the pure
    backend's (same decisions) and equal keys of different types could miss each other."""
    assert _native.key_hash(key) == pure_key_hash(key)


def test_int_valued_keys_that_share_a_hash_stay_apart(Moka):
    c = Moka(100)
    keys = [-1, -2, _M61, 0, 2**63 - 1, 3, -(2**63), -4]  # pairs that share a hash()
    for i, k in enumerate(keys):
        c.set(k, i)
    assert [c.get(k) for k in keys] == list(range(len(keys)))
    assert c.get(float(-(2**63))) == keys.index(-(2**63))
