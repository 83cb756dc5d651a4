"""The processes of the fleet test: one writer through a plain client, readers through near caches.

The writer sets ``key i`` to ever higher versions and, after each acknowledged ``SET``, stores the
version in a shared array; a reader notes the acknowledged version of a key, then reads it through
its near cache: an answer below the noted version is a stale read.
"""

from __future__ import annotations

import random
from typing import Any

import redis
from moka_py_redis import near_cache

KEYS = 100


def key(i: int) -> str:
    return f"fleet:{i}"


def writer(port: int, writes: int, acked: Any, done: Any) -> None:
    client = redis.Redis(host="127.0.0.1", port=port)
    rng = random.Random(1)
    try:
        for version in range(1, writes + 1):
            i = rng.randrange(KEYS)
            client.set(key(i), version)
            acked[i] = version  # after the server's acknowledgement
    finally:
        done.value = 1


def reader(port: int, seed: int, acked: Any, ready: Any, done: Any, out: Any) -> None:
    """Read until the writer is done; ``out`` gets (reads, stale reads, hits)."""
    near = near_cache(redis.Redis(host="127.0.0.1", port=port), 50)
    rng = random.Random(seed)
    near.mget([key(i) for i in range(KEYS)])
    with ready.get_lock():
        ready.value += 1
    reads = stale = 0
    while not done.value:
        i = rng.randrange(KEYS)
        if reads % 4 == 3:  # an MGET now and then, with the checked key first
            j = rng.randrange(KEYS)
            before = acked[i]
            got = near.mget([key(i), key(j)])[0]
        else:
            before = acked[i]
            got = near.get(key(i))
        reads += 1
        if int(got or 0) < before:
            stale += 1
    out.put((reads, stale, near.stats().hits))
