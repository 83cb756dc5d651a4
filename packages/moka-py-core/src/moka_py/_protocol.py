"""The typed contract between ``moka_py`` and its backends.

A backend is any importable object (usually a module) registered under the
``moka_py.backends`` entry-point group that satisfies :class:`Backend`.  Its
``Moka`` class must satisfy :class:`CacheProtocol`.  Nothing in this module is
on a cache's hot path: ``moka_py.Moka`` is the backend's own class.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Literal, Protocol, TypeVar, overload, runtime_checkable

__all__ = [
    "Backend",
    "CacheProtocol",
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


@runtime_checkable
class CacheProtocol(Protocol[K, V]):
    """What every backend's ``Moka`` class provides (API.md section 3)."""

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
    ) -> V: ...
    @overload
    def remove(self, key: K) -> V | None: ...
    @overload
    def remove(self, key: K, default: D) -> V | D: ...
    def __contains__(self, key: object) -> bool: ...
    def clear(self) -> None: ...
    def count(self) -> int: ...
    def weighted_size(self) -> int: ...
    def run_pending_tasks(self) -> None: ...


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
