"""Lifecycle, in subprocesses: a cache used in the child after ``os.fork()`` works, refresh-ahead
included (its reloads run in the child, even for a key whose reload was in flight in the parent at
the fork); a cache made at
import time and dropped at interpreter exit (holding values, a listener, cycles and a waiting
thread) neither crashes nor hangs the exit. The backend under test is the one the plugin chose
(``MOKA_PY_BACKEND`` is inherited).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 120  # seconds; a hang fails the test (a wide margin for a busy machine)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=dict(os.environ),
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the subprocess hung for {TIMEOUT} s:\n{exc.stderr!r}") from exc


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_cache_works_in_a_forked_child() -> None:
    done = _run(
        """
        import os, threading
        from moka_py import Moka
        events = []
        cache = Moka(100, ttl=600, eviction_listener=lambda k, v, c: events.append((k, c)))
        for i in range(50):
            cache.set(i, str(i))
        # used from another thread before the fork, as a server would
        t = threading.Thread(target=lambda: cache.get_with("t", lambda: "from a thread"))
        t.start(); t.join()
        pid = os.fork()
        if pid == 0:
            try:
                assert cache.get(7) == "7" and cache.get("t") == "from a thread"
                cache.set(7, "child")
                assert cache.get(7) == "child"
                assert cache.get_with("new", lambda: 1) == 1
                assert cache.remove(8) == "8"
                cache.run_pending_tasks()
                assert cache.count() == 51  # 0..49 and "t", "new" in, 8 out
                cache.clear()
                assert cache.count() == 0 and ("new", "explicit") in events
                os._exit(0)
            except BaseException as exc:
                print("child:", repr(exc), flush=True)
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert cache.get(7) == "7"  # the parent is untouched
        print("ok")
        """
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_refresh_ahead_works_in_a_forked_child() -> None:
    """A due hit in the child starts a reload that runs and writes: the reload workers exist there
    too, and the key whose reload the parent was running at the fork is not claimed in the child.
    Every wait is a bounded poll that only a lost reload exhausts."""
    done = _run(
        """
        import asyncio, os, threading, time
        from moka_py import Moka

        PATIENCE = 20.0  # seconds for all the child's waits, and for the parent's after it: < TIMEOUT
        REFRESH = 0.01

        def wait_for(cache, key, value, deadline=None):
            deadline = deadline or time.monotonic() + PATIENCE
            while cache.peek(key) != value:
                assert time.monotonic() < deadline, f"{key!r}: {value!r} never written"
                time.sleep(0.005)

        cache = Moka(100, ttl=600)
        for key in ("in flight", "idle", "async"):
            cache.set(key, "old")
        time.sleep(10 * REFRESH)  # every entry is now due for a reload
        entered, gate = threading.Event(), threading.Event()

        def parent_reload():
            entered.set()
            assert gate.wait(3 * PATIENCE)  # held until the child has exited
            return "parent's reload"

        assert cache.get_with("in flight", parent_reload, refresh_after=REFRESH) == "old"
        assert entered.wait(PATIENCE)  # the parent's reload of "in flight" is running now
        pid = os.fork()
        if pid == 0:
            code = 1
            deadline = time.monotonic() + PATIENCE
            try:
                for key in ("idle", "in flight"):
                    reload = lambda key=key: f"child's reload of {key}"
                    assert cache.get_with(key, reload, refresh_after=REFRESH) == "old"
                    wait_for(cache, key, f"child's reload of {key}", deadline)

                async def reload_async():
                    return "child's async reload"

                async def main():
                    assert await cache.aget_with("async", reload_async, refresh_after=REFRESH) == "old"
                    while cache.peek("async") != "child's async reload":
                        assert time.monotonic() < deadline, "the async reload never wrote"
                        await asyncio.sleep(0.005)

                asyncio.run(main())
                assert cache.stats().loads == 3, cache.stats()
                code = 0
            except BaseException as exc:
                print("child:", repr(exc), flush=True)
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        gate.set()
        wait_for(cache, "in flight", "parent's reload")  # the parent's reload is unaffected
        assert cache.peek("idle") == "old" and cache.peek("async") == "old"
        assert os.waitstatus_to_exitcode(status) == 0, status
        print("ok")
        """
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


def test_cache_made_at_import_is_dropped_at_exit() -> None:
    done = _run(
        """
        import threading
        from moka_py import Moka

        class Holder:
            def __init__(self, cache):
                self.cache = cache  # a cycle through the cached value
            def __del__(self):
                self.cache.get("anything")  # runs during interpreter teardown

        def listener(key, value, cause):
            CACHE.get(key)

        CACHE = Moka(1000, ttl=600, eviction_listener=listener)
        for i in range(500):
            CACHE.set(i, Holder(CACHE))
        CACHE.set("big", bytearray(10_000_000))
        block = threading.Event()
        def slow():
            block.wait()
            return "never"
        # a daemon thread owns an initialization and another one waits on it at exit
        threading.Thread(target=lambda: CACHE.get_with("stuck", slow), daemon=True).start()
        threading.Thread(target=lambda: CACHE.get_with("stuck", slow), daemon=True).start()
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "Fatal" not in done.stderr and "Traceback" not in done.stderr, done.stderr
