"""moka-py-redis: a ``moka_py.Moka`` near cache in front of Redis, kept coherent by the server.

``near_cache(client, capacity)`` wraps a ``redis.Redis`` (or ``redis.asyncio.Redis``) and returns
an object with the client's methods. ``GET``, ``MGET``, ``HGET``, ``HMGET`` and ``HGETALL`` are
answered from a local ``Moka`` when it holds the key; everything else, writes included, goes to
the client unchanged. Other reads are not cached: ``GETEX``/``GETDEL`` write, ``TTL``-like and
``OBJECT`` replies change with time, ``RANDOMKEY``/``SRANDMEMBER``/``HRANDFIELD`` are random,
``SCAN`` cursors are server state, and range reads (``LRANGE``, ``ZRANGE``...) would need one
local entry per argument list for a small gain; ``EXISTS``/``STRLEN``/``HLEN`` are cheap to add
on the same entries when someone needs them.

How the local cache stays coherent
----------------------------------
Redis's server-assisted client-side caching (``CLIENT TRACKING``, Redis 6+), in its
*broadcasting* mode, on one RESP2 connection per near cache that redirects to itself:
``CLIENT TRACKING ON REDIRECT <own id> BCAST [PREFIX p]...`` then
``SUBSCRIBE __redis__:invalidate``. The server then sends that connection the name of every key
that is written, deleted, expired or evicted (matching ``prefixes``, all keys by default), and a
null for ``FLUSHALL``/``FLUSHDB``. Before any value is served, the messages already received are
applied: one ``poll`` with a zero timeout, and a read only when bytes are waiting.

Why this and not per-connection tracking (RESP3 pushes on each fetching connection, or RESP2
``REDIRECT`` from each of them), measured on this project's Redis 7.0.15:

* In the default tracking mode the server queues a key's invalidation while it runs the write,
  before the writer's reply, and then sends the writer's reply first: 39 of 20,000 ``SET``
  replies reached the writer before the invalidation had reached the tracking connection. A
  reader told "the write is done" could still be served the old value. Broadcast invalidations
  are sent before the server flushes its replies: in 50,000 ``SET`` s the invalidation was always
  there first, so a read that starts after a write was acknowledged finds it on the socket.
  That holds while the connection keeps up: a server that cannot write to it (a full receive
  window) holds messages back and goes on acknowledging writes. So the connection asks for a
  2 MiB receive buffer, and a read that finds an eighth of it waiting ends with a ``PING``,
  whose ``PONG`` comes after everything the server had queued for it (``stats().barriers``).
* A tracked connection that dies takes the server's memory of what it read with it, and in RESP2
  nothing tells the redirect target; with one invalidation connection that does not fetch, its
  loss is the only one that matters, and it is seen directly (the socket reads EOF or errors).
  Fetches then use the client's own pool, retries and reply parsing, untouched.

The price is that every write to a matching key reaches every near cache, whether it holds the
key or not (a ``Moka.remove`` of an absent key); ``prefixes`` narrows that to the keys you cache.

Guarantees: an invalidation, a flush, or the loss (or re-opening) of the invalidation connection
drops exactly the named keys, or the whole cache; while it cannot connect, cached reads raise
redis-py's ``ConnectionError`` instead of serving local values; a value fetched while its key was
invalidated is not stored (each fetch holds a token that invalidations mark stale).

Works with Redis 6 and later (Debian's 7.0.15 here), RESP2 and RESP3 clients, ``decode_responses``
on and off, one ``NearCache`` shared by many threads, one ``AsyncNearCache`` by many tasks of one
loop. Not for ``RedisCluster`` or Sentinel-managed clients. The invalidation connection is a
synchronous socket also behind an asyncio client: it is opened (blocking, like any connect) on
first use and after a loss, and otherwise only polled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, overload

import moka_py
import redis
import redis.asyncio

from moka_py_redis._async import AsyncNearCache
from moka_py_redis._coherence import Coherence, NearCacheStats
from moka_py_redis._invalidation import InvalidationStream, connection_factory
from moka_py_redis._lookups import CACHED_COMMANDS
from moka_py_redis._sync import NearCache
from moka_py_redis._values import CachedHash, value_bytes

__all__ = [
    "CACHED_COMMANDS",
    "AsyncNearCache",
    "CachedHash",
    "NearCache",
    "NearCacheStats",
    "__version__",
    "near_cache",
    "value_bytes",
]

__version__ = "1.0.0.dev0"

Weigher = Callable[[bytes, Any], int]


@overload
def near_cache(
    client: redis.asyncio.Redis,
    capacity: int | None,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    policy: moka_py.Policy = "tiny_lfu",
    weigher: Weigher | None = None,
    prefixes: Sequence[str | bytes] = (),
) -> AsyncNearCache: ...
@overload
def near_cache(
    client: redis.Redis,
    capacity: int | None,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    policy: moka_py.Policy = "tiny_lfu",
    weigher: Weigher | None = None,
    prefixes: Sequence[str | bytes] = (),
) -> NearCache: ...
def near_cache(
    client: redis.Redis | redis.asyncio.Redis, capacity: int | None, *, ttl: float | None = None,
    tti: float | None = None, policy: moka_py.Policy = "tiny_lfu", weigher: Weigher | None = None,
    prefixes: Sequence[str | bytes] = (),
) -> NearCache | AsyncNearCache:  # fmt: skip
    """Wrap ``client`` with a coherent local cache of ``capacity`` entries (or weight).

    ``ttl``, ``tti``, ``policy`` and ``weigher`` are ``moka_py.Moka``'s; the weigher gets the key
    (bytes) and the entry (a string's reply, or a :class:`CachedHash`), and :func:`value_bytes`
    weighs both in bytes. ``prefixes`` limits invalidation traffic to keys starting with one of
    them; reads of other keys are then not cached (they pass through). Nothing connects until
    the first cached read.
    """
    if isinstance(client, redis.asyncio.Redis):
        pool: redis.ConnectionPool | redis.asyncio.ConnectionPool = client.connection_pool
    elif isinstance(client, redis.Redis):
        pool = client.connection_pool
    else:
        raise TypeError(f"near_cache takes a redis.Redis or redis.asyncio.Redis, not {type(client).__name__}")
    encoded = [p.encode() if isinstance(p, str) else bytes(p) for p in prefixes]
    cache: moka_py.Moka[bytes, Any] = moka_py.Moka(capacity, ttl=ttl, tti=tti, policy=policy, weigher=weigher)
    coherence = Coherence(cache, InvalidationStream(connection_factory(pool), encoded), encoded)
    if isinstance(client, redis.asyncio.Redis):
        return AsyncNearCache(client, coherence)
    return NearCache(client, coherence)
