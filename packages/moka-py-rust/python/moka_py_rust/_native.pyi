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
    """``moka_py.Moka`` when the Rust backend is selected.

    Its docstrings are compiled in from the one copy in ``moka_py/_typing.pyi``
    (see ``tools/docstrings.py``); read them with ``help(moka_py.Moka)``.
    """

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[_K, _V, _Cause], object] | None = None,
        policy: _Policy = "tiny_lfu",
        weigher: Callable[[_K, _V], int] | None = None,
    ) -> None: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def ttl(self) -> float | None: ...
    @property
    def tti(self) -> float | None: ...
    @property
    def policy(self) -> _Policy: ...
    def set(self, key: _K, value: _V, ttl: float | None = None, tti: float | None = None) -> None: ...
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
    ) -> _V: ...
    @overload
    def remove(self, key: _K) -> _V | None: ...
    @overload
    def remove(self, key: _K, default: _D) -> _V | _D: ...
    def __contains__(self, key: object) -> bool: ...
    def clear(self) -> None: ...
    def count(self) -> int: ...
    def weighted_size(self) -> int: ...
    def run_pending_tasks(self) -> None: ...
    def __class_getitem__(cls, item: Any, /) -> GenericAlias: ...
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
