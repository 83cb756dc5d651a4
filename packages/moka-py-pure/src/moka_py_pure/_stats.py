"""``CacheStats``: the immutable snapshot ``Moka.stats()`` returns (API.md section 7)."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass

CAUSES = ("explicit", "size", "expired", "replaced")


@dataclass(frozen=True)
class CacheStats:
    """What a cache counted since it was created or since ``reset_stats()``.

    * ``hits`` / ``misses``: recorded reads (``get``, ``c[k]``, ``get_many``, and the first lookup
      of ``get_with``) that found a live entry / did not;
    * ``loads``: ``get_with`` initializer runs, ``load_failures`` those that raised, ``load_time``
      the seconds spent in them;
    * ``evictions``: cause -> number of entries removed with that cause (what an eviction listener
      is told, counted with or without one); ``eviction_weight``: the total weight of those
      removed as ``"size"`` or ``"expired"``.
    """

    hits: int
    misses: int
    loads: int
    load_failures: int
    load_time: float
    evictions: Mapping[str, int]
    eviction_weight: int

    @property
    def hit_rate(self) -> float:
        """``hits / (hits + misses)``, or 1.0 when nothing was read."""
        reads = self.hits + self.misses
        return self.hits / reads if reads else 1.0


def make_stats(
    hits: int,
    misses: int,
    loads: int,
    load_failures: int,
    load_ns: int,
    evictions: Mapping[str, int],
    eviction_weight: int,
) -> CacheStats:
    """A snapshot; ``evictions`` is copied (every cause present) and read-only."""
    counts = types.MappingProxyType({cause: evictions.get(cause, 0) for cause in CAUSES})
    return CacheStats(hits, misses, loads, load_failures, load_ns / 1e9, counts, eviction_weight)
