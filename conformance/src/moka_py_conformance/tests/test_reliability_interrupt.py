"""Interruptibility: a thread waiting in ``get_with`` for another thread's slow initializer can be
interrupted by a signal handler's exception (API.md: the GIL is not held while waiting, and waiters
wake to run signal handlers).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

# Only the main thread runs signal handlers; setitimer is POSIX.
pytestmark = pytest.mark.skipif(
    not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread(),
    reason="needs signal.setitimer and the main thread",
)


class Interrupted(Exception):
    pass


def _raise(signum: int, frame: Any) -> None:
    raise Interrupted


def test_signal_reaches_a_thread_waiting_in_get_with(Moka: Any) -> None:
    cache = Moka(10)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(60)
        return "slow value"

    owner = threading.Thread(target=lambda: cache.get_with("k", slow), daemon=True)
    owner.start()
    assert started.wait(30)
    # Safety net, not a bound: if the wait cannot be interrupted, the initializer ends after 30 s
    # and get_with returns its value, which fails the test below instead of hanging it.
    safety = threading.Timer(30, release.set)
    safety.start()
    previous = signal.signal(signal.SIGALRM, _raise)
    interrupted_at = None
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            got = cache.get_with("k", lambda: "waiter's value")
        except Interrupted:
            interrupted_at = time.monotonic()
            got = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    # the exception came while the initializer was still running: the wait itself was interrupted
    assert interrupted_at is not None, f"get_with was not interrupted, it returned {got!r}"
    assert not release.is_set(), "get_with was interrupted only after the initializer finished"
    release.set()
    safety.cancel()
    owner.join(30)
    assert cache.get_with("k", lambda: "other") == "slow value"  # the owner's value was cached
