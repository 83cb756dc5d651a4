"""The asyncio near cache: the same answers, and many tasks on one loop, against a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio
from moka_py_redis import AsyncNearCache, near_cache
from redis_server import RedisServer


def aclient(server: RedisServer, **kwargs: Any) -> redis.asyncio.Redis:
    return redis.asyncio.Redis(host="127.0.0.1", port=server.port, **kwargs)


@pytest.mark.parametrize("decode", [False, True])
@pytest.mark.parametrize("protocol", [2, 3])
def test_async_reads_answer_what_the_plain_client_answers(
    fresh: RedisServer, decode: bool, protocol: int
) -> None:
    async def main() -> None:
        plain = aclient(fresh, decode_responses=decode, protocol=protocol)
        near = near_cache(aclient(fresh, decode_responses=decode, protocol=protocol), 100)
        assert isinstance(near, AsyncNearCache)
        await plain.set("s", "one")
        await plain.hset("h", mapping={"a": "1", "b": "2"})
        for _ in range(2):
            assert await near.get("s") == await plain.get("s")
            assert await near.get("nope") is None
            assert await near.mget("s", "nope", "h") == await plain.mget("s", "nope", "h")
            assert await near.hget("h", "a") == await plain.hget("h", "a")
            assert await near.hmget("h", ["b", "zz"]) == await plain.hmget("h", ["b", "zz"])
            assert await near.hgetall("h") == await plain.hgetall("h")
            with pytest.raises(redis.ResponseError):
                await near.get("h")
        assert near.stats().hits >= 6
        await plain.set("s", "two")
        assert await near.get("s") == ("two" if decode else b"two")
        await plain.flushall()
        assert await near.hgetall("h") == {}
        assert near.stats().flushes == 1
        near.close()
        await near.aclose()  # a pass-through: the client's own
        await plain.aclose()

    asyncio.run(main())


def test_many_tasks_share_one_near_cache_and_never_read_behind_an_acknowledged_write(
    fresh: RedisServer,
) -> None:
    keys = [f"v{i}" for i in range(10)]
    acked = dict.fromkeys(keys, 0)
    stale: list[tuple[str, int, int]] = []
    reads = [0] * 20

    async def main() -> None:
        plain = aclient(fresh)
        near = near_cache(aclient(fresh), 20)
        await plain.mset(acked)
        done = asyncio.Event()

        async def reader(n: int) -> None:
            i = n
            while not done.is_set():
                key = keys[i % len(keys)]
                before = acked[key]
                got = int(await near.get(key) if i % 3 else (await near.mget([key, keys[0]]))[0])
                if got < before:
                    stale.append((key, got, before))
                reads[n] += 1
                i += 7
                if i % 5 == 0:
                    await asyncio.sleep(0)  # hits do not yield: let the writer in

        async def writer() -> None:
            try:
                for version in range(1, 201):
                    for key in keys[version % 3 :: 3]:
                        await plain.set(key, version)
                        acked[key] = version
            finally:
                done.set()

        await asyncio.gather(writer(), *(reader(n) for n in range(len(reads))))
        assert near.stats().hits > 0
        near.close()
        await near.aclose()
        await plain.aclose()

    asyncio.run(main())
    assert stale == []
    assert all(reads)
