"""Deadlock freedom under a mix of operations from several threads (watchdog)."""

import random
import threading
import time

import pytest

N_THREADS = 4
N_KEYS = 1000
DURATION = 2.5
WATCHDOG = 60  # far above DURATION: only a deadlock can reach it


def hammer(c, seed, deadline, errors, counts):
    rng = random.Random(seed)
    n = 0
    try:
        while time.monotonic() < deadline:
            k = rng.randrange(N_KEYS)
            op = rng.random()
            if op < 0.3:
                c.get_with(k, lambda k=k: k * 2)
            elif op < 0.55:
                c.set(k, k * 2)
            elif op < 0.8:
                v = c.get(k)
                assert v is None or v == k * 2
            elif op < 0.97:
                c.remove(k)
            elif op < 0.99:
                c.clear()
            else:
                c.run_pending_tasks()
            n += 1
    except BaseException as e:
        errors.append(e)
    counts.append(n)


def run_mix(c):
    errors, counts = [], []
    deadline = time.monotonic() + DURATION
    threads = [
        threading.Thread(target=hammer, args=(c, seed, deadline, errors, counts), daemon=True)
        for seed in range(N_THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WATCHDOG)
    stuck = [t for t in threads if t.is_alive()]
    assert not stuck, f"{len(stuck)} threads deadlocked"
    assert not errors, errors
    assert len(counts) == N_THREADS and all(n > 0 for n in counts)
    c.run_pending_tasks()
    return sum(counts)


@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
def test_mix_without_listener(Moka, policy):
    c = Moka(N_KEYS // 2, policy=policy)
    run_mix(c)
    c.run_pending_tasks()
    assert c.count() <= N_KEYS // 2


def test_mix_with_reentrant_listener(Moka):
    c = None
    seen = {"n": 0}
    rng = random.Random(99)

    def listener(k, v, cause):
        seen["n"] += 1
        assert cause in ("explicit", "size", "expired", "replaced")
        r = rng.random()
        if cause == "replaced" and r < 0.2:
            c.set(k, k * 2)  # set of the key being replaced
        elif r < 0.25:
            c.run_pending_tasks()
        elif r < 0.4:
            c.get(k)
        elif r < 0.45:
            c.get_with(k + 1, lambda: (k + 1) * 2)

    c = Moka(N_KEYS // 2, eviction_listener=listener)
    run_mix(c)
    assert seen["n"] > 0


def test_mix_with_listener_ttl_and_weigher(Moka):
    c = Moka(N_KEYS, ttl=0.05, eviction_listener=lambda *a: None, weigher=lambda k, v: 1 + k % 3)
    run_mix(c)


def test_get_hits_never_block_on_a_writer(Moka):
    # readers without a listener keep the GIL; they must still progress while
    # writers run housekeeping concurrently
    c = Moka(100)
    for i in range(100):
        c.set(i, i)
    stop = time.monotonic() + 1.0
    errors = []

    def writer():
        i = 0
        while time.monotonic() < stop:
            c.set(1000 + i % 5000, i)
            i += 1

    def reader():
        try:
            while time.monotonic() < stop:
                for i in range(100):
                    c.get(i)
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=writer, daemon=True) for _ in range(2)]
    ts += [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(WATCHDOG)
        assert not t.is_alive()
    assert not errors
