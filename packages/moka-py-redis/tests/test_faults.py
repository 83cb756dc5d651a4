"""Faults against a real server: a crash and restart, and a killed invalidation connection."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from moka_py_redis import NearCache, near_cache
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from redis_server import RedisServer


def fill(near: NearCache, plain: redis.Redis, version: int) -> None:
    plain.mset({f"k{i}": version for i in range(20)})
    for i in range(20):
        assert int(near.get(f"k{i}")) == version
        assert int(near.get(f"k{i}")) == version  # now a local hit


def test_a_killed_server_raises_while_down_and_serves_nothing_stale_after_restart(
    own_server: RedisServer,
) -> None:
    plain = own_server.client()
    near = near_cache(own_server.client(), 100)
    fill(near, plain, 1)
    hits = near.stats().hits
    own_server.kill()
    for _ in range(3):  # a cached key and a missing one: both raise, nothing is served locally
        with pytest.raises(redis.ConnectionError):
            near.get("k0")
        with pytest.raises(redis.ConnectionError):
            near.mget(["k1", "nope"])
        with pytest.raises(redis.ConnectionError):
            near.hgetall("h")
    assert near.stats().hits == hits
    own_server.start()  # same port, empty (no persistence)
    assert near.get("k0") is None  # not the cached 1
    fill(near, plain, 2)
    assert near.stats().resets == 1


def test_killing_the_invalidation_connection_drops_the_cache_and_it_recovers(own_server: RedisServer) -> None:
    plain = own_server.client()
    near = near_cache(own_server.client(), 100)
    fill(near, plain, 1)
    victim = near.tracking_client_id
    assert victim is not None
    assert plain.client_kill_filter(_id=str(victim)) == 1
    plain.mset({f"k{i}": 2 for i in range(20)})  # sent to nobody: the connection is gone
    for i in range(20):
        assert int(near.get(f"k{i}")) == 2
    assert near.stats().resets == 1
    assert near.tracking_client_id not in (None, victim)
    plain.set("k0", 3)  # the new connection is told
    assert int(near.get("k0")) == 3


def run_readers_through(fault: str, server: RedisServer) -> None:
    """Readers in threads while a writer bumps versions and ``fault`` strikes twice mid-run."""
    # redis-py's default retries back off for seconds; short ones keep the test short.
    quick = Retry(ExponentialBackoff(cap=0.05, base=0.005), 2)
    plain = server.client(retry=quick)
    near = near_cache(server.client(retry=quick), 50)
    keys = [f"v{i}" for i in range(10)]
    acked = dict.fromkeys(keys, 0)
    plain.mset(acked)
    stop = threading.Event()
    stale: list[tuple[str, int, int]] = []
    errors: list[BaseException] = []
    outcomes = {"reads": 0, "connection_errors": 0}

    def reader(n: int) -> None:
        i = n
        try:
            while not stop.is_set():
                key = keys[i % len(keys)]
                i += 3
                before = acked[key]
                try:
                    got = near.get(key)
                except redis.ConnectionError:
                    outcomes["connection_errors"] += 1
                    continue
                outcomes["reads"] += 1
                # After a restart the key may be missing until it is written again: not stale.
                if got is not None and int(got) < before:
                    stale.append((key, int(got), before))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    version = 0
    try:
        for round_ in range(3):
            # Each round starts once the readers read (again), and so watch the server (again).
            since = outcomes["reads"]
            deadline = time.monotonic() + 30
            while outcomes["reads"] < since + 10 and not errors:
                assert time.monotonic() < deadline, "the readers did not (re)connect"
                time.sleep(0.01)
            for _ in range(100):
                version += 1
                key = keys[version % len(keys)]
                plain.set(key, version)
                acked[key] = version
            if round_ == 2:
                break
            if fault == "sigkill":
                server.kill()
                down_since = outcomes["connection_errors"]
                deadline = time.monotonic() + 30
                while outcomes["connection_errors"] < down_since + 3 and not errors:
                    assert time.monotonic() < deadline, "the readers never saw the server down"
                    time.sleep(0.01)
                server.start()
            else:
                plain.client_kill_filter(_id=str(near.tracking_client_id))

    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert stale == []
    assert outcomes["reads"] > 0
    assert near.stats().resets >= 2
    if fault == "sigkill":
        assert outcomes["connection_errors"] >= 6


@pytest.mark.parametrize("fault", ["sigkill", "client-kill"])
def test_readers_mid_run_see_errors_while_down_and_no_stale_value_after(
    own_server: RedisServer, fault: str
) -> None:
    run_readers_through(fault, own_server)
