"""The cached commands' local halves, shared by the sync and the asyncio near cache.

Each ``*_local`` method syncs with the server's invalidations, answers what the local cache
can, counts the hits, and returns what is left to fetch; each ``*_fill`` turns the server's
reply into what the cache stores. The sync and async classes only add the request between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from moka_py import Moka
from redis.commands.helpers import list_or_args

from moka_py_redis._coherence import Coherence, Fetch, NearCacheStats
from moka_py_redis._values import CachedHash

#: The commands answered from the local cache; every other attribute is the client's own.
CACHED_COMMANDS = ("GET", "MGET", "HGET", "HMGET", "HGETALL")

MISSING: Any = object()


def key_encoder(encoder: Any) -> Callable[[Any], bytes]:
    """The client's ``Encoder.encode`` (keys and fields as the server sees them), quick for str and bytes."""
    encoding: str = encoder.encoding
    errors: str = encoder.encoding_errors
    general: Callable[[Any], bytes] = encoder.encode

    def encode(value: Any) -> bytes:
        kind = type(value)
        if kind is str:
            return value.encode(encoding, errors)  # type: ignore[no-any-return]
        if kind is bytes:
            return value  # type: ignore[no-any-return]
        return general(value)

    return encode


class Lookups:
    """The near cache's state and the local half of each cached command."""

    def __init__(self, coherence: Coherence, encoder: Any) -> None:
        self._coherence = coherence
        self._encode = key_encoder(encoder)
        # Bound once: a hit is a handful of calls, and each lookup of them would show.
        self._sync = coherence.sync
        self._has_data = coherence.has_data
        self._locked = coherence.locked
        self._peek = coherence.cache.get
        self._hit = coherence.hit

    @property
    def cache(self) -> Moka[bytes, Any]:
        """The local ``moka_py.Moka``: Redis key (bytes) -> the string's value or a ``CachedHash``.

        Reading it is fine; writing to it bypasses coherence (a value stored here is served
        until the server invalidates the key).
        """
        return self._coherence.cache

    def stats(self) -> NearCacheStats:
        """Hits, misses, invalidations, flushes and resets so far (``moka_py`` has no stats yet)."""
        return self._coherence.stats()

    @property
    def tracking_client_id(self) -> int | None:
        """The server's client id of the invalidation connection, ``None`` while not connected."""
        return self._coherence.tracking_client_id

    # -- GET -------------------------------------------------------------------------

    # GET's local half is inlined in each class's ``get``: it is the hottest path of all.

    # -- MGET ------------------------------------------------------------------------

    def _mget_local(
        self, keys: Any, args: Sequence[Any]
    ) -> tuple[list[Any], list[Any], list[bytes], list[int], Fetch | None]:
        names = list_or_args(keys, args)
        co = self._coherence
        co.sync()
        encoded = [self._encode(n) for n in names]
        values: list[Any] = []
        misses: list[int] = []
        get = co.cache.get
        for i, key in enumerate(encoded):
            entry = get(key, MISSING)
            if entry is MISSING or isinstance(entry, CachedHash):
                misses.append(i)
            values.append(entry)
        co.hit(len(names) - len(misses))
        if not misses:
            return names, values, encoded, misses, None
        distinct = list(dict.fromkeys(encoded[i] for i in misses))
        return names, values, encoded, misses, co.begin(distinct, len(misses))

    @staticmethod
    def _mget_fill(
        values: list[Any], encoded: list[Any], misses: list[int], fetched: Sequence[Any]
    ) -> dict[bytes, Any]:
        fill: dict[bytes, Any] = {}
        for i, value in zip(misses, fetched):
            values[i] = value
            # MGET answers nil for a key of another type too: only values are known to be strings.
            if value is not None:
                fill[encoded[i]] = value
        return fill

    # -- HGET / HMGET ----------------------------------------------------------------

    def _hmget_local(
        self, name: Any, fields: Sequence[Any]
    ) -> tuple[list[Any], bytes, list[bytes], list[int], Fetch | None]:
        key = self._encode(name)
        encoded = [self._encode(f) for f in fields]
        co = self._coherence
        co.sync()
        entry = co.cache.get(key, MISSING)
        values: list[Any] = []
        misses: list[int] = []
        known: Mapping[bytes, Any] = entry.fields if isinstance(entry, CachedHash) else {}
        complete = isinstance(entry, CachedHash) and entry.complete
        for i, field in enumerate(encoded):
            if field in known:
                values.append(known[field])
            elif complete:
                values.append(None)
            else:
                values.append(MISSING)
                misses.append(i)
        co.hit(len(fields) - len(misses))
        return values, key, encoded, misses, (co.begin([key], len(misses)) if misses else None)

    @staticmethod
    def _hmget_merge(
        values: list[Any], key: bytes, encoded: list[bytes], misses: list[int], fetched: Sequence[Any]
    ) -> dict[bytes, Callable[[Any], Any]]:
        more = {}
        for i, value in zip(misses, fetched):
            values[i] = value
            more[encoded[i]] = value

        def merge(current: Any) -> CachedHash:
            if isinstance(current, CachedHash):
                return current.with_fields(more)
            return CachedHash(more, None)

        return {key: merge}

    # -- HGETALL ---------------------------------------------------------------------

    def _hgetall_local(self, name: Any) -> tuple[Any, bytes, Fetch | None]:
        key = self._encode(name)
        co = self._coherence
        co.sync()
        entry = co.cache.get(key, MISSING)
        if isinstance(entry, CachedHash) and entry.reply is not None:
            co.hit()
            return dict(entry.reply), key, None
        return MISSING, key, co.begin([key], 1)

    def _hgetall_fill(self, key: bytes, reply: Mapping[Any, Any]) -> dict[bytes, Any]:
        copy = dict(reply)  # the caller may change the reply it gets
        return {key: CachedHash({self._encode(f): v for f, v in copy.items()}, copy)}

    def close(self) -> None:
        """Close the invalidation connection and drop the local cache (the client stays open).

        The near cache still works after this: the next cached read connects again.
        """
        self._coherence.close()
