"""Keeping the local ``Moka`` coherent with the server: the one place that writes to it.

Three rules, each under one lock:

* Before a value is served, every invalidation already received is applied (``sync``).
* A value is stored only if no invalidation of its key, no flush and no loss of the
  invalidation connection was applied since just before it was fetched (a :class:`Fetch`
  token, registered before the request goes out and checked before the fill); one that
  arrives but is not applied yet is applied by the next ``sync`` and removes the value.
  That closes the in-flight race: the server may invalidate a key between reading its
  old value and our storing it.
* Losing or re-opening the invalidation connection, and a flush, drop the whole cache: the
  server sends nothing to a lost connection, and a new one only hears of later writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable

import redis
from moka_py import Moka

from moka_py_redis._invalidation import InvalidationStream

Merges = Mapping[bytes, Callable[[Any], Any]]
_NOTHING: Mapping[bytes, Any] = MappingProxyType({})


@dataclass(frozen=True)
class NearCacheStats:
    """A snapshot of a near cache's counters (``NearCache.stats()``).

    ``hits`` and ``misses`` count keys (an ``MGET`` of three keys counts three), and fields for
    ``HGET``/``HMGET``; ``invalidations`` counts key names the server sent; ``flushes`` the
    server's flush messages; ``resets`` the times the whole local cache was dropped because the
    invalidation connection was lost or opened again; ``barriers`` the times a large backlog of
    invalidations made the near cache wait for the server to send all it had (a PING).
    """

    hits: int
    misses: int
    invalidations: int
    flushes: int
    resets: int
    barriers: int = 0

    @property
    def hit_rate(self) -> float:
        """``hits / (hits + misses)``, 0.0 before the first read."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class Fetch:
    """One read in flight for some keys: stale once any of them may have changed meanwhile."""

    __slots__ = ("keys", "stale")

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.keys = keys
        self.stale = False


class Coherence:
    """The local cache, the invalidation stream and the bookkeeping that ties them together."""

    def __init__(
        self, cache: Moka[bytes, Any], stream: InvalidationStream, prefixes: Sequence[bytes]
    ) -> None:
        self.cache = cache
        self._stream = stream
        # The server only reports keys under these prefixes (all keys when empty): no others are stored.
        self._prefixes = tuple(prefixes)
        self._lock = threading.Lock()
        #: For the hit path's inlined ``sync`` fast path.
        self.has_data = stream.has_data
        self.locked = self._lock.locked
        self._in_flight: dict[bytes, list[Fetch]] = {}
        # Hits are counted per thread, without a lock on the hot path; stats() adds them up.
        self._hit_counts: list[list[int]] = []
        self._local = threading.local()
        self._misses = 0
        self._invalidations = 0
        self._flushes = 0
        self._resets = 0

    # -- before serving ------------------------------------------------------------------

    def sync(self) -> None:
        """Apply every invalidation already received; connect first if needed.

        Raises redis-py's ``ConnectionError`` when the server cannot be reached: no value is
        served from the local cache without a live invalidation connection.
        """
        # Fast path: connected, nothing on the socket, nobody reading it. The order matters: a
        # thread that took bytes off the socket holds the lock until it has applied them, so
        # an empty poll followed by a free lock means nothing received is left unapplied.
        waiting = self._stream.has_data()
        if not waiting and not self._lock.locked():
            return
        with self._lock:
            self._sync_locked(waiting)

    def _sync_locked(self, waiting: bool = False) -> None:
        """``sync`` with the lock held; ``waiting``: a poll just said bytes wait (no second poll)."""
        stream = self._stream
        if not stream.connected:
            # Whatever was cached was dropped when the last connection was lost or closed, and
            # nothing is stored while there is none: the cache is empty here.
            stream.connect()
        if not (waiting or stream.backlogged or stream.has_data()):
            return  # nothing received (a recv would only say so)
        try:
            batches = stream.read_available()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            stream.close()
            self._reset()
            stream.connect()  # back at once when only the connection was lost (CLIENT KILL)
            return
        for batch in batches:
            if batch is None:
                self._flushes += 1
                self._drop_all()
            else:
                self._invalidate(batch)

    def _invalidate(self, keys: Iterable[bytes]) -> None:
        for key in keys:
            self._invalidations += 1
            self.cache.remove(key)
            for fetch in self._in_flight.get(key, ()):
                fetch.stale = True

    def _drop_all(self) -> None:
        self.cache.clear()
        for fetches in self._in_flight.values():
            for fetch in fetches:
                fetch.stale = True

    def _reset(self) -> None:
        self._resets += 1
        self._drop_all()

    # -- reads: counting and fetch tokens ------------------------------------------------

    def hit(self, hits: int = 1) -> None:
        try:
            self._local.hits[0] += hits
        except AttributeError:
            counter = [hits]
            with self._lock:
                self._hit_counts.append(counter)
            self._local.hits = counter

    def begin(self, keys: Sequence[bytes], misses: int) -> Fetch:
        """Register a read of ``keys`` (distinct) about to be sent, after ``sync``, and count its misses."""
        fetch = Fetch(keys)
        with self._lock:
            self._misses += misses
            for key in keys:
                self._in_flight.setdefault(key, []).append(fetch)
        return fetch

    def finish(self, fetch: Fetch, fill: Mapping[bytes, Any] = _NOTHING, merge: Merges = _NOTHING) -> None:
        """End a read; unless it went stale meanwhile, store ``fill`` (key -> entry) and, for each
        ``merge`` (key -> function of the cached entry or ``None``), what the function returns.

        No read of the socket here: an invalidation that was applied during the fetch made it
        stale, and one still on the socket is applied by the next ``sync``, before any read can
        be served the stored value, and removes it.
        """
        with self._lock:
            try:
                if (fill or merge) and not fetch.stale and self._stream.connected:
                    prefixes = self._prefixes
                    for key, entry in fill.items():
                        if not prefixes or key.startswith(prefixes):
                            self.cache.set(key, entry)
                    for key, combine in merge.items():
                        if not prefixes or key.startswith(prefixes):
                            self.cache.set(key, combine(self.cache.get(key)))
            finally:
                for key in fetch.keys:
                    fetches = self._in_flight.get(key)
                    if fetches is not None:
                        fetches.remove(fetch)
                        if not fetches:
                            del self._in_flight[key]

    # -- lifecycle -----------------------------------------------------------------------

    def stats(self) -> NearCacheStats:
        with self._lock:
            hits = sum(counter[0] for counter in self._hit_counts)
            return NearCacheStats(
                hits, self._misses, self._invalidations, self._flushes, self._resets, self._stream.barriers
            )

    @property
    def tracking_client_id(self) -> int | None:
        """The server's id of the invalidation connection (``None`` while not connected)."""
        return self._stream.client_id

    def close(self) -> None:
        with self._lock:
            self._stream.close()
            self._drop_all()
