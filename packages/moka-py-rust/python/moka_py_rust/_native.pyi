"""Type information for ``moka_py_rust._native``, the compiled extension.

The module wraps the Rust ``moka`` crate (``sync::Cache``, version 0.12.14).
"""

from collections.abc import Callable, Hashable
from types import GenericAlias
from typing import Any, Final, Generic, Literal, TypeVar, overload

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_D = TypeVar("_D")

_Cause = Literal["explicit", "size", "expired", "replaced"]
_Policy = Literal["tiny_lfu", "lru"]

MOKA_VERSION: Final[str]
"""The version of the ``moka`` crate linked into this module (always "0.12.14")."""

__version__: Final[str]
"""The version of the ``moka-py-rust`` distribution."""

KEY_HASH_MIX: Final[str]
"""The name of the mixing function applied to ``hash(key)`` ("fmix64")."""

def key_hash(key: Hashable, /) -> int:
    """The 64-bit hash moka sees for ``key``, ``fmix64(hash(key) mod 2**64)``, found as the cache finds it."""

class Moka(Generic[_K, _V]):
    """A concurrent cache backed by the Rust ``moka`` crate (0.12.14).

    ``capacity`` bounds the total weight (each entry weighs 1 unless ``weigher``
    is given); ``0`` stores nothing and ``None`` means unbounded. ``ttl`` and
    ``tti`` are seconds (time to live since the last write, time to idle since
    the last access). ``eviction_listener(key, value, cause)`` is called after
    an entry leaves the cache, never while the cache holds an internal lock.
    """

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[_K, _V, _Cause], object] | None = None,
        policy: _Policy = "tiny_lfu",
        weigher: Callable[[_K, _V], int] | None = None,
    ) -> None:
        """Create an empty cache. Bad arguments raise ``TypeError`` / ``ValueError``."""

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
    def policy(self) -> _Policy:
        """The size-eviction policy."""

    def set(self, key: _K, value: _V, ttl: float | None = None, tti: float | None = None) -> None:
        """Store ``value`` under ``key``; per-entry ``ttl`` / ``tti`` only shorten the cache's."""

    @overload
    def get(self, key: _K) -> _V | None: ...
    @overload
    def get(self, key: _K, default: _D) -> _V | _D: ...
    def get_with(
        self,
        key: _K,
        initializer: Callable[[], _V],
        ttl: float | None = None,
        tti: float | None = None,
    ) -> _V:
        """Return the value of ``key``, computing it once (across threads) on a miss.

        Waiting threads get the same value, or the same exception (nothing is
        cached then). Calling ``get_with`` for the same key from inside its own
        initializer raises ``RuntimeError``.
        """

    @overload
    def remove(self, key: _K) -> _V | None: ...
    @overload
    def remove(self, key: _K, default: _D) -> _V | _D: ...
    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has a live entry (not a recorded read)."""

    def clear(self) -> None:
        """Remove every entry and run the pending housekeeping; ``count()`` is then 0."""

    def count(self) -> int:
        """The number of entries as of the last housekeeping run."""

    def weighted_size(self) -> int:
        """The total weight of the entries as of the last housekeeping run."""

    def run_pending_tasks(self) -> None:
        """Run the pending housekeeping now (admission, eviction, expiry, listener calls)."""

    def __class_getitem__(cls, item: Any, /) -> GenericAlias:
        """``Moka[K, V]``: a generic alias, for annotations."""

    def __reduce__(self) -> Any:
        """Always raises ``TypeError``: a cache cannot be pickled or copied."""

class CachedFunction:
    """The native wrapper of a sync function memoized by ``moka_py_rust.cached``.

    Calling it builds ``functools.lru_cache``'s default key for the arguments
    (``kwargs_mark`` separates keyword pairs), returns the value cached in
    ``cache`` and counts a hit; on a miss it counts the miss, calls ``func``
    and stores the result (exceptions are not cached).
    """

    def __init__(
        self, func: Callable[..., Any], cache: Moka[Any, Any], typed: bool, kwargs_mark: object, /
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The cached result for these arguments, computed and stored on a miss."""

    def __get__(self, obj: object, owner: type | None = None, /) -> Any:
        """Bound to ``obj`` like a function (``obj`` becomes the first argument)."""

    def _counts(self) -> tuple[int, int]:
        """``(hits, misses)`` since creation or the last ``_reset_counts()``."""

    def _reset_counts(self) -> None:
        """Set both counters to zero."""
