"""What type checkers see as ``moka_py.Moka``.

At run time ``moka_py.Moka`` is the selected backend's own class; every
backend's class has this interface (``moka_py.CacheProtocol``).
"""

from collections.abc import Callable, Hashable
from types import GenericAlias
from typing import Any, Generic, TypeVar, overload

from moka_py._protocol import Cause, Policy

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

class Moka(Generic[K, V]):
    """A thread-safe in-memory cache with size (TinyLFU or LRU), TTL and TTI eviction.

    ``capacity`` bounds the total weight of the entries (each weighs 1 unless
    ``weigher(key, value) -> int`` is given); ``None`` means unbounded.  ``ttl``
    and ``tti`` are in seconds (time to live / time to idle), ``None`` disables
    them.  ``eviction_listener(key, value, cause)`` is told about every entry
    that leaves, with cause ``"explicit"``, ``"size"``, ``"expired"`` or
    ``"replaced"``.
    """

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[K, V, Cause], object] | None = None,
        policy: Policy = "tiny_lfu",
        weigher: Callable[[K, V], int] | None = None,
    ) -> None:
        """Create an empty cache; bad arguments raise ``TypeError`` or ``ValueError``."""

    @property
    def capacity(self) -> int | None:
        """The maximum total weight, or ``None`` if unbounded."""

    @property
    def ttl(self) -> float | None:
        """The cache-wide time to live in seconds, or ``None``."""

    @property
    def tti(self) -> float | None:
        """The cache-wide time to idle in seconds, or ``None``."""

    @property
    def policy(self) -> Policy:
        """The size-eviction policy: ``"tiny_lfu"`` or ``"lru"``."""

    def set(self, key: K, value: V, ttl: float | None = None, tti: float | None = None) -> None:
        """Insert or replace ``key``; per-entry ``ttl`` / ``tti`` can only shorten the cache-wide ones."""

    @overload
    def get(self, key: K) -> V | None:
        """The value of ``key``, or ``default`` (``None``) if it is absent or expired (a recorded read)."""
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get_with(
        self,
        key: K,
        initializer: Callable[[], V],
        ttl: float | None = None,
        tti: float | None = None,
    ) -> V:
        """The value of ``key``; on a miss, run ``initializer()`` once (across threads) and store it.

        Concurrent callers for the same key wait and get the same value, or the
        same exception (nothing is stored on error).
        """

    @overload
    def remove(self, key: K) -> V | None:
        """Remove ``key`` and return its value, or ``default`` (``None``) if it was absent."""
    @overload
    def remove(self, key: K, default: D) -> V | D: ...
    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is present and not expired (not recorded as a read)."""

    def clear(self) -> None:
        """Remove every entry now (each one is reported to the eviction listener)."""

    def count(self) -> int:
        """The number of entries, as of the last housekeeping (see ``run_pending_tasks``)."""

    def weighted_size(self) -> int:
        """The total weight of the entries, as of the last housekeeping."""

    def run_pending_tasks(self) -> None:
        """Run the pending housekeeping now: apply recorded reads and writes, evict, expire."""

    def __class_getitem__(cls, item: Any, /) -> GenericAlias:
        """``Moka[str, int]`` works at run time too."""
