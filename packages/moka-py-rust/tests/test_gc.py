"""Reference cycles through a cache are collected."""

import gc
import weakref


class Holder:
    pass


def collect_and_check(ref):
    for _ in range(3):
        gc.collect()
    assert ref() is None


def test_value_referring_to_cache(Moka):
    c = Moka(10)
    h = Holder()
    h.cache = c
    c.set("k", h)
    ref = weakref.ref(c)
    del c, h
    collect_and_check(ref)


def test_tuple_value_referring_to_cache(Moka):
    # a tuple cannot break the cycle itself (no tp_clear): the cache's __clear__ must
    c = Moka(10)
    c.set("k", (c,))
    ref = weakref.ref(c)
    del c
    collect_and_check(ref)


def test_key_referring_to_cache(Moka):
    c = Moka(10)
    c.set((c, 1), "v")
    ref = weakref.ref(c)
    del c
    collect_and_check(ref)


def test_listener_and_weigher_referring_to_cache(Moka):
    h = Holder()
    c = Moka(10, eviction_listener=lambda *a: h.cache, weigher=lambda k, v: len(h.cache.policy))  # noqa: F821 - the closures keep h alive on purpose
    h.cache = c
    c.set(1, 1)
    ref = weakref.ref(c)
    del c, h
    collect_and_check(ref)


def test_many_values_referring_to_cache(Moka):
    c = Moka(1000, eviction_listener=lambda *a: None)
    for i in range(500):
        h = Holder()
        h.cache = c
        c.set(i, h)
    ref = weakref.ref(c)
    del c, h
    collect_and_check(ref)


def test_reachable_cache_survives_collection(Moka):
    c = Moka(10)
    h = Holder()
    h.cache = c
    c.set("k", h)
    hv = weakref.ref(h)
    del h
    gc.collect()
    assert c.get("k") is hv()
    assert c.get("k").cache is c


def test_clear_breaks_cycle_without_listener_calls(Moka):
    seen = []
    c = Moka(10, eviction_listener=lambda *a: seen.append(a))
    c.set("self", c)
    ref = weakref.ref(c)
    del c
    collect_and_check(ref)
    assert seen == []


def test_collect_while_other_threads_mutate(Moka):
    # __traverse__ walks moka's map while other threads insert and remove without
    # the GIL; it must stay consistent (no crash, no live object collected).
    import random
    import threading
    import time

    c = Moka(500, eviction_listener=lambda *a: None)
    stop = time.monotonic() + 2.0
    errors = []

    def worker(seed):
        rng = random.Random(seed)
        try:
            while time.monotonic() < stop:
                k = rng.randrange(2000)
                r = rng.random()
                if r < 0.5:
                    c.set(k, [k, Holder()])
                elif r < 0.8:
                    v = c.get(k)
                    assert v is None or v[0] == k
                elif r < 0.99:
                    c.remove(k)
                else:
                    c.clear()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        gc.collect()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert not errors, errors
    c.run_pending_tasks()
    for k in range(2000):
        v = c.get(k)
        assert v is None or (v[0] == k and isinstance(v[1], Holder))
