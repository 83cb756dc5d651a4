"""Values (and keys) are released as soon as they have certainly left the cache."""

import time
import weakref

import pytest


class Obj:
    pass


def test_removed_value_released_after_remove(Moka):
    c = Moka(10)
    v = Obj()
    ref = weakref.ref(v)
    c.set("k", v)
    del v
    assert ref() is not None
    c.remove("k")
    assert ref() is None


def test_removed_value_released_with_listener(Moka):
    seen = []
    c = Moka(10, eviction_listener=lambda k, v, cause: seen.append(cause))
    v = Obj()
    ref = weakref.ref(v)
    c.set("k", v)
    del v
    c.remove("k")
    assert seen == ["explicit"]
    assert ref() is None


def test_replaced_value_released_after_run_pending_tasks(Moka):
    c = Moka(10)
    v = Obj()
    ref = weakref.ref(v)
    c.set("k", v)
    del v
    c.set("k", 2)
    c.run_pending_tasks()
    assert ref() is None


@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
@pytest.mark.parametrize("listener", [False, True])
def test_evicted_values_released_after_run_pending_tasks(Moka, policy, listener):
    causes = []
    kw = {"eviction_listener": lambda k, v, c: causes.append(c)} if listener else {}
    c = Moka(10, policy=policy, **kw)
    refs = []
    for i in range(200):
        v = Obj()
        refs.append(weakref.ref(v))
        c.set(i, v)
        del v
    c.run_pending_tasks()
    assert c.count() == 10
    alive = sum(r() is not None for r in refs)
    assert alive == 10
    if listener:
        assert causes.count("size") == 190


@pytest.mark.parametrize("listener", [False, True])
def test_cleared_values_released_after_clear(Moka, listener):
    kw = {"eviction_listener": lambda *a: None} if listener else {}
    c = Moka(1000, **kw)
    refs = []
    for i in range(500):
        v = Obj()
        refs.append(weakref.ref(v))
        c.set(i, v)
        del v
    c.run_pending_tasks()
    c.clear()
    assert c.count() == 0
    assert all(r() is None for r in refs)


def test_expired_values_released_after_run_pending_tasks(Moka):
    c = Moka(100, ttl=0.2)
    refs = []
    for i in range(20):
        v = Obj()
        refs.append(weakref.ref(v))
        c.set(i, v)
        del v
    c.run_pending_tasks()
    time.sleep(0.6)  # generous margin past the 0.2 s ttl
    assert c.get(0) is None
    c.run_pending_tasks()
    assert c.count() == 0
    assert all(r() is None for r in refs)


def test_values_released_when_cache_dropped(Moka):
    c = Moka(10)
    v = Obj()
    ref = weakref.ref(v)
    c.set(1, v)
    del v, c
    assert ref() is None


def test_get_returns_live_value_and_no_leak(Moka):
    import sys

    c = Moka(10)
    v = Obj()
    c.set(1, v)
    before = sys.getrefcount(v)
    for _ in range(1000):
        assert c.get(1) is v
    assert sys.getrefcount(v) == before
    for _ in range(100):
        c.set(1, v)
    c.run_pending_tasks()
    assert sys.getrefcount(v) == before
