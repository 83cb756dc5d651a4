"""``AsyncNearCache``: a ``redis.asyncio.Redis`` whose cached reads are answered locally when they can be."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
from redis.commands.helpers import list_or_args

from moka_py_redis._coherence import Coherence
from moka_py_redis._lookups import MISSING, Lookups
from moka_py_redis._values import CachedHash


class AsyncNearCache(Lookups):
    """A ``redis.asyncio.Redis`` with a coherent local cache for GET, MGET, HGET, HMGET and HGETALL.

    Every other attribute is the wrapped client's own (``near.set(...)`` is ``client.set(...)``).
    Share one near cache between the tasks of one event loop.
    """

    def __init__(self, client: redis.asyncio.Redis, coherence: Coherence) -> None:
        untyped: Any = client  # get_encoder is untyped in redis.asyncio
        encoder = untyped.get_encoder()
        super().__init__(coherence, encoder)
        self._client = client

    @property
    def client(self) -> redis.asyncio.Redis:
        """The wrapped client (its reads are not cached)."""
        return self._client

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (copy, unpickling): no recursion through _client
            raise AttributeError(name)
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"AsyncNearCache({self._client!r}, {self.cache!r})"

    async def get(self, name: Any) -> Any:
        """``GET name``, from the local cache when it holds the key."""
        key = self._encode(name)
        if self._has_data() or self._locked():
            self._sync()  # the fast path of Coherence.sync, inlined: nothing waits, nobody reads
        entry = self._peek(key, MISSING)
        if entry is not MISSING and entry.__class__ is not CachedHash:
            self._hit()
            return entry
        fetch = self._coherence.begin([key], 1)
        try:
            value = await self._client.get(name)
        except BaseException:
            self._coherence.finish(fetch)
            raise
        self._coherence.finish(fetch, {key: value})
        return value

    async def mget(self, keys: Any, *args: Any) -> list[Any]:
        """``MGET keys...``: the cached keys locally, the others in one ``MGET``."""
        names, values, encoded, misses, fetch = self._mget_local(keys, args)
        if fetch is None:
            return values
        try:
            fetched = await self._client.mget([names[i] for i in misses])
        except BaseException:
            self._coherence.finish(fetch)
            raise
        self._coherence.finish(fetch, self._mget_fill(values, encoded, misses, fetched))
        return values

    async def hget(self, name: Any, key: Any) -> Any:
        """``HGET name key``, from the local cache when it holds the field (or the whole hash)."""
        return await self._hmget(name, [key], single=True)

    async def hmget(self, name: Any, keys: Any, *args: Any) -> list[Any]:
        """``HMGET name fields...``: the cached fields locally, the others in one ``HMGET``."""
        fields = list_or_args(keys, args)
        result: list[Any] = await self._hmget(name, fields, single=False)
        return result

    async def _hmget(self, name: Any, fields: list[Any], *, single: bool) -> Any:
        values, key, encoded, misses, fetch = self._hmget_local(name, fields)
        if fetch is not None:
            try:
                if single:
                    fetched = [await self._client.hget(name, fields[0])]
                else:
                    fetched = await self._client.hmget(name, [fields[i] for i in misses])
            except BaseException:
                self._coherence.finish(fetch)
                raise
            self._coherence.finish(fetch, merge=self._hmget_merge(values, key, encoded, misses, fetched))
        return values[0] if single else values

    async def hgetall(self, name: Any) -> Any:
        """``HGETALL name``, from the local cache when the whole hash was read before."""
        value, key, fetch = self._hgetall_local(name)
        if fetch is None:
            return value
        try:
            reply = await self._client.hgetall(name)
        except BaseException:
            self._coherence.finish(fetch)
            raise
        self._coherence.finish(fetch, self._hgetall_fill(key, reply))
        return reply


__all__ = ["AsyncNearCache"]
