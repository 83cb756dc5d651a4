"""Benchmark of the Redis near cache against the plain client, on a throwaway loopback server.

One run measures:

* a near-cache hit against a plain ``GET`` round trip (target: at least 20x faster);
* writes and misses through the near cache against the plain client (target: at most 1.2x);
* hit ratios on a seeded Zipf workload and on the cache2k ``web07`` trace from ``../shared/traces``
  (skipped with a message when the folder is absent), for the near cache (TinyLFU, moka's
  default, and moka's LRU) next to a plain LRU dict of the same size, which is the policy of
  redis-py's own client-side cache (that cache needs a 7.4+ server: Debian's 7.0.15 refuses it,
  see the last line of the report).

    python packages/moka-py-redis/bench/near_bench.py [--quick]

Times are the best of several rounds of many calls (plain and near rounds interleaved), in
microseconds per call. "SET + a hit" times a write followed by a local hit on another key: with
a near cache told only about that other key (nothing to apply), against the near cache that
receives the write's invalidation and applies it in the hit. The active
``moka_py`` backend is named in the report (``MOKA_PY_BACKEND=pure|rust`` picks one).
"""

from __future__ import annotations

import argparse
import collections
import lzma
import random
import shutil
import struct
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import moka_py
import redis
from moka_py_redis import NearCache, near_cache

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from redis_server import RedisServer  # noqa: E402  (the tests' server helper, one copy)

TRACES = HERE.parents[3] / "shared" / "traces"
TRACE = "cache2k-web07.trace.xz"


def timed(run: Callable[[int], None], calls: int) -> float:
    start = time.perf_counter_ns()
    run(calls)
    return (time.perf_counter_ns() - start) / calls / 1000


def pair(
    plain: Callable[[int], None], near: Callable[[int], None], calls: int, rounds: int
) -> tuple[float, float]:
    """Best of ``rounds`` per-call times (us) of each side, the rounds of the two sides interleaved."""
    best_plain = best_near = float("inf")
    for _ in range(rounds):
        best_plain = min(best_plain, timed(plain, calls))
        best_near = min(best_near, timed(near, calls))
    return best_plain, best_near


def speed(server: RedisServer, calls: int, rounds: int) -> list[tuple[str, float, float]]:
    """(operation, plain client us, near cache us) rows."""
    plain = server.client()
    near: NearCache = near_cache(server.client(), 100_000)
    # A near cache told about "hot*" keys only: its hits never have an invalidation to apply.
    quiet: NearCache = near_cache(server.client(), 100, prefixes=["hot"])
    plain.set("hot", "x" * 100)
    near.get("hot")
    quiet.get("hot")

    def plain_get(n: int) -> None:
        get = plain.get
        for _ in range(n):
            get("hot")

    def near_hit(n: int) -> None:
        get = near.get
        for _ in range(n):
            get("hot")

    def plain_set(n: int) -> None:
        for i in range(n):
            plain.set("w", i)

    def near_set(n: int) -> None:
        for i in range(n):
            near.set("w", i)

    def plain_set_quiet_hit(n: int) -> None:
        for i in range(n):
            plain.set("w", i)
            quiet.get("hot")

    def near_set_hit(n: int) -> None:
        # The hit applies the invalidation that the write brought back.
        for i in range(n):
            near.set("w", i)
            near.get("hot")

    miss_keys = [f"m{i}" for i in range(calls * rounds * 2)]
    plain.mset(dict.fromkeys(miss_keys, "y" * 100))
    cursor = {"plain": 0, "near": 0}

    def plain_miss(n: int) -> None:
        start = cursor["plain"]
        cursor["plain"] += n
        for key in miss_keys[start : start + n]:
            plain.get(key)

    def near_miss(n: int) -> None:
        start = cursor["near"]
        cursor["near"] += n
        for key in miss_keys[start : start + n]:  # each key read once: every read misses
            near.get(key)

    rows = [
        ("GET: plain round trip vs near-cache hit", *pair(plain_get, near_hit, calls, rounds)),
        ("GET miss: plain vs near cache (fetch and fill)", *pair(plain_miss, near_miss, calls, rounds)),
        ("SET: plain vs through the near cache", *pair(plain_set, near_set, calls, rounds)),
        (
            "SET + a hit: invalidation not applied vs applied",
            *pair(plain_set_quiet_hit, near_set_hit, calls, rounds),
        ),
    ]
    assert near.stats().misses >= calls * rounds and quiet.stats().invalidations == 0
    return rows


def zipf_trace(keys: int, accesses: int, s: float, seed: int) -> list[int]:
    rng = random.Random(seed)
    weights = [1 / (rank**s) for rank in range(1, keys + 1)]
    return rng.choices(range(keys), weights=weights, k=accesses)


def lru_ratio(trace: Sequence[int], capacity: int) -> float:
    """Hit ratio of a plain LRU dict (redis-py's client-side cache policy), offline."""
    lru: collections.OrderedDict[int, None] = collections.OrderedDict()
    hits = 0
    for key in trace:
        if key in lru:
            hits += 1
            lru.move_to_end(key)
        else:
            lru[key] = None
            if len(lru) > capacity:
                lru.popitem(last=False)
    return hits / len(trace)


def near_ratio(server: RedisServer, trace: Sequence[int], capacity: int, policy: moka_py.Policy) -> float:
    """Hit ratio of a near cache replaying ``trace`` as GETs against the server."""
    near: NearCache = near_cache(server.client(), capacity, policy=policy)
    for key in trace:
        near.get(f"t{key}")
    stats = near.stats()
    near.close()
    return stats.hits / (stats.hits + stats.misses)


def ratios(server: RedisServer, name: str, trace: Sequence[int], capacities: Sequence[int]) -> list[str]:
    plain = server.client()
    distinct = sorted(set(trace))
    for start in range(0, len(distinct), 5000):
        plain.mset({f"t{k}": k for k in distinct[start : start + 5000]})
    lines = []
    for capacity in capacities:
        tiny_lfu = near_ratio(server, trace, capacity, "tiny_lfu")
        lru = near_ratio(server, trace, capacity, "lru")
        lines.append(
            f"| {name} | {len(trace):,} / {len(distinct):,} | {capacity:,} "
            f"| {tiny_lfu:.3f} | {lru:.3f} | {lru_ratio(trace, capacity):.3f} |"
        )
    return lines


def read_cache2k(path: Path) -> list[int]:
    with lzma.open(path) as file:
        data = file.read()
    count = len(data) // 4
    return list(struct.unpack(f">{count}i", data[: count * 4]))


def redis_py_cache_refusal(server: RedisServer) -> str:
    """What redis-py's own client-side cache says about this server."""
    try:
        from redis.cache import CacheConfig
    except ImportError:
        return f"redis-py {redis.__version__} has no client-side cache"
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port, protocol=3, cache_config=CacheConfig())
        client.get("hot")
    except Exception as exc:  # whatever it raises is the finding
        return f"redis-py {redis.__version__} refuses it: {type(exc).__name__}: {exc}"
    return f"redis-py {redis.__version__} accepted this server"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer calls and a shorter Zipf run")
    parser.add_argument("--rounds", type=int, default=21, help="timed rounds per side (the best counts)")
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not on PATH (Debian: apt-get install redis-server)")
    calls, rounds = (500, 3) if args.quick else (1000, args.rounds)
    server = RedisServer(binary)
    server.start()
    try:
        version = server.client().info("server")["redis_version"]
        info = moka_py.backend()
        print(
            f"redis-server {version} on 127.0.0.1, redis-py {redis.__version__}, moka_py backend {info.name}"
        )
        print(f"Python {sys.version.split()[0]}; best of {rounds} rounds\n")
        print("| operation | plain client (us) | near cache (us) | near / plain |")
        print("|---|---:|---:|---:|")
        for name, plain_us, near_us in speed(server, calls, rounds):
            print(f"| {name} | {plain_us:.2f} | {near_us:.2f} | {near_us / plain_us:.3f} |")
        print("\n| workload | accesses / keys | capacity | near (tiny_lfu) | near (lru) | LRU dict |")
        print("|---|---:|---:|---:|---:|---:|")
        accesses = 20_000 if args.quick else 100_000
        for line in ratios(server, "Zipf s=1.0, seed 7", zipf_trace(10_000, accesses, 1.0, 7), [500, 2000]):
            print(line)
        trace_path = TRACES / TRACE
        if trace_path.is_file():
            trace = read_cache2k(trace_path)
            for line in ratios(server, "cache2k web07", trace, [1000, 4000]):
                print(line)
            print("\ncache2k web07: copyright headissue GmbH, Jens Wilke, CC BY 4.0 (cache2k-LICENSE.txt)")
        else:
            print(f"\n(trace skipped: {trace_path} is absent)")
        print(f"\nredis-py's own client-side cache on this server: {redis_py_cache_refusal(server)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
