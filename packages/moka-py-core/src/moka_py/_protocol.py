"""The typed contract between ``moka_py`` and its backends.

A backend is any importable object (usually a module) registered under the
``moka_py.backends`` entry-point group that satisfies :class:`Backend`.  Its
``Moka`` class must satisfy :class:`CacheProtocol`.  Nothing in this module is
on a cache's hot path: ``moka_py.Moka`` is the backend's own class.  :class:`CacheProtocol` repeats
the signatures of ``_typing.pyi``'s ``Moka`` on purpose: a protocol only takes keys in (``K`` is
contravariant) and a class cannot be both what users construct and a structural contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Iterator, Mapping
from typing import Any, Literal, Protocol, TypeVar, overload, runtime_checkable

__all__ = [
    "Backend",
    "CacheProtocol",
    "CacheStats",
    "CachedFactory",
    "Cause",
    "EvictionListener",
    "Policy",
    "Weigher",
]

K = TypeVar("K", bound=Hashable, contravariant=True)  # keys are only ever passed in
V = TypeVar("V")
D = TypeVar("D")

Cause = Literal["explicit", "size", "expired", "replaced"]
"""Why an entry left the cache, as passed to an eviction listener."""

Policy = Literal["tiny_lfu", "lru"]
"""The size-eviction policy of a cache."""

EvictionListener = Callable[[Any, Any, Cause], object]
Weigher = Callable[[Any, Any], int]


class CacheStats(Protocol):
    """What ``Moka.stats()`` returns: an immutable snapshot of a cache's counters (API.md
    section 7).  Each backend has its own class; all have these attributes."""

    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def loads(self) -> int: ...
    @property
    def load_failures(self) -> int: ...
    @property
    def load_time(self) -> float: ...
    @property
    def evictions(self) -> Mapping[str, int]: ...
    @property
    def eviction_weight(self) -> int: ...
    @property
    def hit_rate(self) -> float: ...


@runtime_checkable
class CacheProtocol(Protocol[K, V]):
    """What every backend's ``Moka`` class provides (API.md sections 3 and 7)."""

    def __init__(
        self,
        capacity: int | None,
        ttl: float | None = None,
        tti: float | None = None,
        eviction_listener: Callable[[K, V, Cause], object] | None = None,
        policy: Policy = "tiny_lfu",
        weigher: Callable[[K, V], int] | None = None,
    ) -> None: ...

    @property
    def capacity(self) -> int | None: ...
    @property
    def ttl(self) -> float | None: ...
    @property
    def tti(self) -> float | None: ...
    @property
    def policy(self) -> Policy: ...

    def set(self, key: K, value: V, ttl: float | None = None, tti: float | None = None) -> None: ...
    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get_with(
        self,
        key: K,
        initializer: Callable[[], V],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> V: ...
    def aget_with(
        self,
        key: K,
        initializer: Callable[[], Awaitable[V]],
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
    ) -> Coroutine[Any, Any, V]: ...
    @overload
    def remove(self, key: K) -> V | None: ...
    @overload
    def remove(self, key: K, default: D) -> V | D: ...
    def __contains__(self, key: object) -> bool: ...
    def clear(self) -> None: ...
    def count(self) -> int: ...
    def weighted_size(self) -> int: ...
    def run_pending_tasks(self) -> None: ...

    # API.md section 7 (keys come back out of keys()/items()/iteration, typed Any here because K
    # is contravariant: the protocol only takes keys in)
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> list[Any]: ...
    def values(self) -> list[V]: ...
    def items(self) -> list[tuple[Any, V]]: ...
    def __getitem__(self, key: K) -> V: ...
    def __setitem__(self, key: K, value: V) -> None: ...
    def __delitem__(self, key: K) -> None: ...
    @overload
    def pop(self, key: K) -> V: ...
    @overload
    def pop(self, key: K, default: D = ...) -> V | D: ...
    @overload
    def setdefault(self, key: K) -> V | None: ...
    @overload
    def setdefault(self, key: K, default: V) -> V: ...
    def update(self, other: Any = (), /, **kwargs: V) -> None: ...
    @overload
    def peek(self, key: K) -> V | None: ...
    @overload
    def peek(self, key: K, default: D) -> V | D: ...
    @overload
    def expires_in(self, key: K) -> float | None: ...
    @overload
    def expires_in(self, key: K, default: D) -> float | D: ...
    def get_many(self, keys: Iterable[K]) -> dict[Any, V]: ...
    def set_many(
        self, items: Any, ttl: float | None = None, tti: float | None = None
    ) -> None: ...
    def remove_many(self, keys: Iterable[K]) -> dict[Any, V]: ...
    def remove_if(self, predicate: Callable[[Any, V], object]) -> int: ...
    def stats(self) -> CacheStats: ...
    def reset_stats(self) -> None: ...


class CachedFactory(Protocol):
    """The signature of ``moka_py.cached`` (API.md section 5).

    A backend may ship its own faster implementation as ``cached``; it must be
    indistinguishable from the generic one to the conformance suite.
    """

    def __call__(
        self,
        maxsize: int | Callable[..., Any] | None = 128,
        typed: bool = False,
        *,
        ttl: float | None = None,
        tti: float | None = None,
        wait_concurrent: bool = False,
        policy: Policy = "tiny_lfu",
        weigher: Callable[[Any, Any], int] | None = None,
        key: Callable[..., Hashable] | None = None,
    ) -> Any: ...


class Backend(Protocol):
    """What an entry point in ``moka_py.backends`` loads (API.md section 2)."""

    @property
    def name(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def exact(self) -> bool: ...
    @property
    def Moka(self) -> type[CacheProtocol[Any, Any]]: ...  # noqa: N802 - the public class name
    @property
    def __version__(self) -> str: ...
