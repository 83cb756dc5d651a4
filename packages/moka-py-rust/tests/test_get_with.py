"""get_with coalescing, done in the binding (moka-semantics.md section 8)."""

import os
import signal
import sys
import threading
import time

import pytest

JOIN_TIMEOUT = 30


def run_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def wrap(i):
        barrier.wait()
        try:
            results[i] = ("ok", target())
        except BaseException as e:
            results[i] = ("err", e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "thread did not finish"
    return results


def test_hit_and_miss(Moka):
    c = Moka(10)
    assert c.get_with("k", lambda: 1) == 1
    assert c.get_with("k", lambda: 2) == 1
    assert c.get("k") == 1


def test_slow_init_runs_once_across_threads(Moka):
    c = Moka(10)
    calls = []
    value = object()

    def init():
        calls.append(threading.get_ident())
        time.sleep(0.3)
        return value

    results = run_threads(8, lambda: c.get_with("k", init))
    assert len(calls) == 1
    assert all(r == ("ok", value) for r in results)
    assert c.get("k") is value


def test_init_exception_reaches_all_waiters_nothing_cached(Moka):
    c = Moka(10)
    calls = []

    class Boom(Exception):
        pass

    def init():
        calls.append(1)
        time.sleep(0.3)
        raise Boom("init failed")

    results = run_threads(8, lambda: c.get_with("k", init))
    assert len(calls) == 1
    errors = [r[1] for r in results]
    assert all(r[0] == "err" and isinstance(r[1], Boom) for r in results)
    assert all(e is errors[0] for e in errors), "the same exception object"
    assert "k" not in c
    assert c.get_with("k", lambda: 5) == 5  # the next call runs init again


def test_recursive_get_with_raises(Moka):
    c = Moka(10)

    def init():
        return c.get_with("k", lambda: 1)

    with pytest.raises(RuntimeError) as info:
        c.get_with("k", init)
    assert str(info.value) == "get_with: the initializer for this key called get_with for the same key"
    assert "k" not in c
    # the waiter was removed: the key works normally afterwards
    assert c.get_with("k", lambda: 2) == 2


def test_recursive_get_with_other_key_is_fine(Moka):
    c = Moka(10)
    assert c.get_with("a", lambda: c.get_with("b", lambda: 1) + 1) == 2
    assert c.get("a") == 2 and c.get("b") == 1


def test_base_exception_only_owner_raises_waiters_retry(Moka):
    c = Moka(10)
    started = threading.Event()
    release = threading.Event()
    calls = []

    def failing_init():
        calls.append("owner")
        started.set()
        release.wait(10)
        raise KeyboardInterrupt

    owner_result = []

    def owner():
        try:
            c.get_with("k", failing_init)
        except KeyboardInterrupt:
            owner_result.append("interrupted")

    t = threading.Thread(target=owner)
    t.start()
    assert started.wait(10)

    waiter_results = []

    def waiter():
        waiter_results.append(c.get_with("k", lambda: calls.append("waiter") or "fresh"))

    waiters = [threading.Thread(target=waiter) for _ in range(3)]
    for w in waiters:
        w.start()
    time.sleep(0.2)
    release.set()
    t.join(JOIN_TIMEOUT)
    for w in waiters:
        w.join(JOIN_TIMEOUT)
        assert not w.is_alive()
    assert owner_result == ["interrupted"]
    assert waiter_results == ["fresh"] * 3
    assert calls.count("waiter") == 1  # one waiter became the new owner


def test_waiters_do_not_hold_the_gil(Moka):
    c = Moka(10)
    started = threading.Event()
    release = threading.Event()

    def init():
        started.set()
        release.wait(10)
        return 1

    t1 = threading.Thread(target=lambda: c.get_with("k", init))
    t1.start()
    assert started.wait(10)
    t2 = threading.Thread(target=lambda: c.get_with("k", lambda: 2))
    t2.start()
    # While t2 waits, this thread keeps running Python code freely.
    deadline = time.monotonic() + 0.3
    n = 0
    while time.monotonic() < deadline:
        n += 1
    assert n > 1000
    release.set()
    t1.join(JOIN_TIMEOUT)
    t2.join(JOIN_TIMEOUT)
    assert not t1.is_alive() and not t2.is_alive()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_keyboard_interrupt_reaches_waiting_main_thread(Moka):
    assert threading.current_thread() is threading.main_thread()
    c = Moka(10)
    started = threading.Event()
    release = threading.Event()

    def init():
        started.set()
        release.wait(30)
        return 1

    owner = threading.Thread(target=lambda: c.get_with("k", init))
    owner.start()
    assert started.wait(10)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            c.get_with("k", lambda: 2)
        elapsed = time.monotonic() - t0
        assert elapsed < 0.3 + 1.0 + 2.0  # within 1 s of the signal, plus slack
    finally:
        release.set()
        timer.cancel()
        owner.join(JOIN_TIMEOUT)
    assert c.get("k") == 1


def test_get_with_per_entry_ttl(Moka):
    c = Moka(10)
    assert c.get_with("k", lambda: 1, ttl=0.2) == 1
    time.sleep(0.7)
    assert c.get("k") is None
    assert c.get_with("k", lambda: 2) == 2


def test_listener_may_call_get_with_for_the_same_key(Moka):
    c = None
    seen = []

    def listener(k, v, cause):
        seen.append((k, v, cause))
        if cause == "replaced":
            seen.append(c.get_with(k, lambda: "from-listener"))

    c = Moka(10, eviction_listener=listener)
    c.set("k", "old")
    c.remove("k")
    assert c.get_with("k", lambda: "new") == "new"
    c.set("k", "newer")
    assert ("k", "new", "replaced") in seen
    assert "newer" in seen


def test_listener_writes_do_not_change_the_outcome_of_get_with(Moka):
    # Housekeeping triggered by get_with's own lookup reports evictions; the listener
    # then writes the very key being fetched. Those events are delivered when
    # get_with is done, so its miss still runs the initializer exactly once.
    c = None
    calls = []

    def listener(k, v, cause):
        if k != "k":
            c.set("k", "from-listener")

    c = Moka(1, eviction_listener=listener)
    c.set("a", 1)
    c.set("b", 2)
    time.sleep(0.5)  # past moka's 300 ms housekeeping trigger
    got = c.get_with("k", lambda: calls.append(1) or "from-init")
    assert calls == [1]
    assert got == "from-init"
    assert c.get("k") == "from-listener"  # the listener's write came afterwards
