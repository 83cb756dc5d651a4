"""What each cached command answers, and when a local copy is dropped, against a real server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from moka_py_redis import CachedHash, NearCache, near_cache, value_bytes
from redis_server import RedisServer

SETTINGS = [
    pytest.param({"protocol": 2}, id="resp2"),
    pytest.param({"protocol": 3}, id="resp3"),
    pytest.param({"protocol": 2, "decode_responses": True}, id="resp2-decoded"),
    pytest.param({"protocol": 3, "decode_responses": True}, id="resp3-decoded"),
]


def outcome(read: Any, client: Any) -> Any:
    try:
        return ("ok", read(client))
    except redis.ResponseError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("settings", SETTINGS)
def test_every_cached_read_answers_what_the_plain_client_answers(
    fresh: RedisServer, settings: dict[str, Any]
) -> None:
    plain = fresh.client(**settings)
    near = near_cache(fresh.client(**settings), 1000)
    plain.set("s", "one")
    plain.set("n", 7)
    plain.hset("h", mapping={"a": "1", "b": "2"})
    plain.rpush("l", "x")
    reads = [
        lambda c: c.get("s"), lambda c: c.get(b"s"), lambda c: c.get("absent"), lambda c: c.get("n"),
        lambda c: c.get("h"),  # WRONGTYPE
        lambda c: c.mget("s", "absent", "h", "s"), lambda c: c.mget(["n", "s"]),
        lambda c: c.hget("h", "a"), lambda c: c.hget("h", b"b"), lambda c: c.hget("h", "zz"),
        lambda c: c.hget("absent", "a"), lambda c: c.hget("s", "a"),  # WRONGTYPE
        lambda c: c.hmget("h", ["a", "zz", "b"]), lambda c: c.hmget("h", "b", "a"),
        lambda c: c.hgetall("h"), lambda c: c.hgetall("absent"), lambda c: c.hgetall("l"),  # WRONGTYPE
        lambda c: c.hget("h", "a"), lambda c: c.hmget("h", ["zz"]),  # answered by the complete hash
    ]  # fmt: skip
    for _ in range(3):  # first misses, then hits: the same answers
        for read in reads:
            assert outcome(read, near) == outcome(read, plain)
    stats = near.stats()
    assert stats.hits > stats.misses > 0


@pytest.mark.parametrize("settings", SETTINGS)
def test_a_write_from_another_client_drops_exactly_that_key(
    fresh: RedisServer, settings: dict[str, Any]
) -> None:
    plain = fresh.client(**settings)
    near = near_cache(fresh.client(**settings), 100)
    plain.mset({"a": "1", "b": "1"})
    plain.hset("h", "f", "1")
    assert [near.get("a"), near.get("b"), near.hget("h", "f")] == [
        near.get("a"),
        near.get("b"),
        near.hget("h", "f"),
    ]
    assert near.stats().hits == 3
    plain.set("a", "2")
    plain.hset("h", "f", "2")
    near.get("b")  # the read that applies the invalidations
    assert [k in near.cache for k in (b"a", b"b", b"h")] == [False, True, False]
    decoded = settings.get("decode_responses", False)
    assert near.get("a") == ("2" if decoded else b"2")
    assert near.hget("h", "f") == ("2" if decoded else b"2")
    assert near.stats().invalidations >= 2


def test_writes_through_the_near_cache_are_the_clients_and_invalidate_too(fresh: RedisServer) -> None:
    near = near_cache(fresh.client(), 100)
    assert near.set("k", "v") is True
    assert near.get("k") == b"v"
    assert near.incr("counter") == 1  # any command: the client's own
    with near.pipeline() as pipe:
        pipe.set("k", "w").get("k")
        assert pipe.execute() == [True, b"w"]
    assert near.get("k") == b"w"
    assert near.delete("k") == 1
    assert near.get("k") is None
    with pytest.raises(AttributeError):
        near.no_such_command  # noqa: B018
    with pytest.raises(AttributeError):
        NearCache.__new__(NearCache).set  # noqa: B018  (not initialised: no endless lookup)


def test_a_flush_empties_every_near_cache(fresh: RedisServer) -> None:
    nears = [near_cache(fresh.client(), 100) for _ in range(3)]
    plain = fresh.client()
    plain.mset({f"k{i}": i for i in range(10)})
    for near in nears:
        near.mget([f"k{i}" for i in range(10)])
        assert all(f"k{i}".encode() in near.cache for i in range(10))
    plain.flushall()
    plain.set("after", 1)
    for near in nears:
        assert near.get("k3") is None  # the flush is applied before anything is served
        assert near.stats().flushes == 1
        assert [f"k{i}".encode() in near.cache for i in range(10)] == [i == 3 for i in range(10)]
        assert near.get("after") == b"1"


class InterleavingClient(redis.Redis):
    """A real client whose GET lets something happen after the server replied, before the reply is used."""

    between: Any = None

    def get(self, name: Any) -> Any:
        value = super().get(name)
        if self.between is not None:
            between, self.between = self.between, None
            between()
        return value


def test_an_invalidation_during_the_fetch_keeps_the_old_value_out(fresh: RedisServer) -> None:
    plain = fresh.client()
    client = InterleavingClient(port=fresh.port)
    near = near_cache(client, 100)
    plain.set("k", "old")
    plain.set("other", "x")

    def write_and_let_another_read_apply_it() -> None:
        plain.set("k", "new")
        # Another read takes the invalidation of "k" off the socket while "k"'s fetch is in
        # flight: the fetch must still learn that its value is stale.
        near.mget(["other"])

    client.between = write_and_let_another_read_apply_it
    assert near.get("k") == b"old"  # what the server said when the read was served
    assert b"k" not in near.cache  # ... but not kept
    assert near.get("k") == b"new"


def test_an_invalidation_that_arrives_during_the_fetch_removes_the_old_value_before_a_read(
    fresh: RedisServer,
) -> None:
    plain = fresh.client()
    client = InterleavingClient(port=fresh.port)
    near = near_cache(client, 100)
    plain.set("k", "old")
    client.between = lambda: plain.set("k", "new")  # on the socket, applied by nobody yet
    assert near.get("k") == b"old"
    assert near.get("k") == b"new"
    assert near.stats().invalidations == 1


def test_a_large_backlog_of_invalidations_is_read_to_the_servers_pong(fresh: RedisServer) -> None:
    plain = fresh.client()
    near = near_cache(fresh.client(), 100)
    plain.set("k", 0)
    assert near.get("k") == b"0"
    with plain.pipeline(transaction=False) as pipe:  # about 1.5 MB of invalidations, read by nobody
        for i in range(1, 25_001):
            pipe.set(f"filler:{i % 5000}:{'x' * 40}", i)
        pipe.set("k", 1)
        pipe.execute()
    assert near.get("k") == b"1"
    stats = near.stats()
    assert stats.barriers == 1 and stats.invalidations == 25_001 and stats.resets == 0
    plain.set("k", 2)
    assert near.get("k") == b"2"  # the stream goes on after the PONG


def test_prefixes_limit_what_is_cached(fresh: RedisServer) -> None:
    plain = fresh.client()
    near = near_cache(fresh.client(), 100, prefixes=["user:"])
    plain.mset({"user:1": "a", "other": "b"})
    assert near.mget("user:1", "other") == [b"a", b"b"]
    assert b"user:1" in near.cache and b"other" not in near.cache
    plain.set("user:1", "c")
    assert near.get("user:1") == b"c"


def test_the_local_cache_obeys_its_capacity(fresh: RedisServer) -> None:
    plain = fresh.client()
    plain.mset({f"k{i}": "v" * 100 for i in range(400)})
    near = near_cache(fresh.client(), 50)
    for _ in range(2):
        for i in range(400):
            assert near.get(f"k{i}") == b"v" * 100
    near.cache.run_pending_tasks()
    assert 0 < near.cache.count() <= 50


def test_a_byte_weigher_bounds_the_local_cache_in_bytes(fresh: RedisServer) -> None:
    plain = fresh.client()
    plain.mset({f"k{i:03}": "v" * 100 for i in range(400)})  # 104 bytes each with the key
    plain.hset("h", mapping={"field": "x" * 50})
    near = near_cache(fresh.client(), 5_000, weigher=value_bytes)
    for _ in range(2):
        for i in range(400):
            near.get(f"k{i:03}")
    near.cache.run_pending_tasks()
    assert 0 < near.cache.weighted_size() <= 5_000
    assert near.cache.count() <= 5_000 // 104
    lru = near_cache(fresh.client(), 5_000, weigher=value_bytes, policy="lru")
    assert lru.hget("h", "field") == b"x" * 50
    entry = lru.cache.get(b"h")
    assert isinstance(entry, CachedHash) and value_bytes(b"h", entry) == 1 + 5 + 50


def test_close_drops_the_cache_and_the_next_read_connects_again(fresh: RedisServer) -> None:
    plain = fresh.client()
    near = near_cache(fresh.client(), 100)
    plain.set("k", "1")
    near.get("k")
    first = near.tracking_client_id
    near.close()
    assert near.cache.count() == 0 and near.tracking_client_id is None
    plain.set("k", "2")
    assert near.get("k") == b"2"
    assert near.tracking_client_id not in (None, first)


def test_threads_share_one_near_cache_and_never_read_behind_an_acknowledged_write(fresh: RedisServer) -> None:
    plain = fresh.client()
    near: NearCache = near_cache(fresh.client(max_connections=16), 20)
    keys = [f"v{i}" for i in range(10)]
    acked = dict.fromkeys(keys, 0)
    plain.mset(acked)
    done = threading.Event()
    stale: list[tuple[str, int, int]] = []
    reads = [0] * 6

    errors: list[BaseException] = []

    def reader(n: int) -> None:
        try:
            read(n)
        except BaseException as exc:
            errors.append(exc)
            raise

    def read(n: int) -> None:
        i = n
        while not done.is_set():
            key = keys[i % len(keys)]
            before = acked[key]
            got = int(near.get(key) if i % 3 else near.mget([key, keys[0]])[0])
            if got < before:
                stale.append((key, got, before))
            reads[n] += 1
            i += 7

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(len(reads))]
    for t in threads:
        t.start()
    try:
        for version in range(1, 301):
            for key in keys[version % 3 :: 3]:
                plain.set(key, version)
                acked[key] = version
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
    assert stale == []
    assert all(reads)
    assert near.stats().hits > 0
