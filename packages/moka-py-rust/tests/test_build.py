"""The linked moka crate, the backend object and the class surface."""

import copy
import pathlib
import pickle
import re
import types

import moka_py_rust
import pytest
from moka_py_rust import _native


def test_linked_moka_version_is_exactly_0_12_16():
    # The pure backend mirrors moka 0.12.16's algorithms; moving to another moka means
    # re-reading its changes into both backends.
    assert _native.MOKA_VERSION == "0.12.16"


def test_lockfile_pins_the_same_moka():
    lock = pathlib.Path(__file__).resolve().parents[1] / "Cargo.lock"
    if not lock.exists():
        pytest.skip("not running from a source checkout")
    m = re.search(r'name = "moka"\nversion = "([^"]+)"', lock.read_text())
    assert m and m.group(1) == _native.MOKA_VERSION


def test_backend_attributes():
    assert moka_py_rust.name == "rust"
    assert moka_py_rust.priority == 20
    assert moka_py_rust.exact is True
    assert moka_py_rust.Moka is _native.Moka
    assert moka_py_rust.__version__ == "1.0.0.dev0"


def test_entry_point_registered():
    from importlib.metadata import entry_points

    all_eps = entry_points()
    if hasattr(all_eps, "select"):
        eps = all_eps.select(group="moka_py.backends")
    else:  # Python 3.9: a dict of groups
        eps = all_eps.get("moka_py.backends", [])
    rust = [ep for ep in eps if ep.name == "rust"]
    assert rust and rust[0].value == "moka_py_rust"
    assert rust[0].load() is moka_py_rust


def test_key_hash_is_fmix64_of_hash():
    def fmix64(k):
        m = (1 << 64) - 1
        k ^= k >> 33
        k = (k * 0xFF51AFD7ED558CCD) & m
        k ^= k >> 33
        k = (k * 0xC4CEB9FE1A85EC53) & m
        k ^= k >> 33
        return k

    for key in [0, 1, -1, -2, 2**70, "abc", (1, 2), 1.5, None]:
        assert _native.key_hash(key) == fmix64(hash(key) & ((1 << 64) - 1))


def test_generic_alias(Moka):
    alias = Moka[str, int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is Moka
    assert alias.__args__ == (str, int)


def test_docstrings_and_signatures(Moka):
    assert "moka" in Moka.__doc__
    assert Moka.__text_signature__ == (
        "(capacity, ttl=None, tti=None, eviction_listener=None, policy='tiny_lfu', weigher=None)"
    )
    for meth in ["set", "get", "get_with", "remove", "clear", "count", "weighted_size", "run_pending_tasks"]:
        assert getattr(Moka, meth).__doc__, meth
    assert "initializer" in Moka.get_with.__text_signature__


def test_properties_and_repr(Moka):
    c = Moka(10, ttl=5, tti=2.5, policy="lru")
    assert (c.capacity, c.ttl, c.tti, c.policy) == (10, 5.0, 2.5, "lru")
    assert repr(c) == "Moka(capacity=10, ttl=5.0, tti=2.5, policy='lru', backend='rust')"
    c = Moka(None)
    assert (c.capacity, c.ttl, c.tti, c.policy) == (None, None, None, "tiny_lfu")
    assert repr(c) == "Moka(capacity=None, ttl=None, tti=None, policy='tiny_lfu', backend='rust')"
    with pytest.raises(AttributeError):
        c.capacity = 3


@pytest.mark.parametrize("op", [pickle.dumps, copy.copy, copy.deepcopy])
def test_pickling_refused(Moka, op):
    with pytest.raises(TypeError, match=r"^cannot pickle 'Moka' object$"):
        op(Moka(1))


def test_basic_operations(Moka):
    c = Moka(100)
    assert c.get("a") is None
    assert c.get("a", 5) == 5
    c.set("a", 1)
    assert c.get("a") == 1 and "a" in c and "b" not in c
    assert c.remove("a") == 1
    assert c.remove("a") is None and c.remove("a", "d") == "d"
    c.set("a", 1)
    c.run_pending_tasks()
    assert c.count() == 1 and c.weighted_size() == 1
    c.clear()
    assert c.count() == 0 and c.get("a") is None


def test_capacity_zero_stores_nothing(Moka):
    calls = []
    c = Moka(0, eviction_listener=lambda *a: calls.append(a))
    c.set(1, 1)
    assert c.get(1) is None and 1 not in c
    n = []
    assert c.get_with(1, lambda: n.append(1) or len(n)) == 1
    assert c.get_with(1, lambda: n.append(1) or len(n)) == 2
    c.run_pending_tasks()
    assert c.count() == 0 and calls == []


def test_unbounded(Moka):
    c = Moka(None)
    for i in range(2000):
        c.set(i, i)
    c.run_pending_tasks()
    assert c.count() == 2000


def test_weigher(Moka):
    events = []
    c = Moka(10, weigher=lambda k, v: len(v), eviction_listener=lambda *a: events.append(a))
    c.set("a", "xxxx")
    c.set("b", "yyyy")
    c.run_pending_tasks()
    assert c.weighted_size() == 8
    c.set("c", "zzzzzzzzzzz")  # weight 11 > capacity: rejected
    c.run_pending_tasks()
    assert ("c", "zzzzzzzzzzz", "size") in events
    assert c.weighted_size() == 8


def test_weigher_clamps_large_weights(Moka):
    c = Moka(None, weigher=lambda k, v: 2**40)
    c.set(1, 1)
    c.run_pending_tasks()
    assert c.weighted_size() == 2**32 - 1


def test_subclassable(Moka):
    import gc
    import weakref

    class Sub(Moka):
        def twice(self, key):
            return 2 * self.get(key)

    c = Sub(10)
    c.set("a", 21)
    assert c.twice("a") == 42 and isinstance(c, Moka)
    c.note = "instances of subclasses have a __dict__"
    c.set("self", c)
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None
