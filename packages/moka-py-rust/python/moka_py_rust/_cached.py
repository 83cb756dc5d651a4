"""The Rust backend's own ``cached``: moka-py's generic decorator with a native hit path.

``moka_py`` uses this ``cached`` when the Rust backend is selected (API.md
section 2 lets a backend ship a faster one that behaves exactly alike).
Settings, validation, ``async`` functions, ``wait_concurrent`` and custom
``key=`` functions are all handled by the generic decorator in
``moka_py._cached`` (imported when first needed, so this package does not
depend on ``moka_py`` to import).  Only a plain sync function with the default
key gets a different wrapper: :class:`moka_py_rust._native.CachedFunction`,
whose call builds the key, reads the cache and counts the hit in Rust.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Hashable
from functools import _CacheInfo, update_wrapper
from typing import TYPE_CHECKING, Any, overload

from moka_py_rust._native import CachedFunction, Moka

if TYPE_CHECKING:
    from moka_py._cached import CachedDecorator
    from moka_py._cached import CachedFunction as CachedFunctionProtocol
    from moka_py._protocol import Policy

__all__ = ["cached"]


class _NativeWrapper(CachedFunction):
    """A memoized sync function; the Python half adds ``lru_cache``'s methods.

    Being a Python subclass gives each wrapper a ``__dict__`` (for
    ``functools.update_wrapper`` and ``cache``) and a ``__weakref__``.
    """

    cache: Moka[Hashable, Any]
    _settings: Any
    _clear_lock: threading.Lock

    def cache_info(self) -> _CacheInfo:
        """``(hits, misses, maxsize, currsize)``; ``currsize`` is ``cache.count()`` after housekeeping."""
        with self._clear_lock:
            hits, misses = self._counts()
        self.cache.run_pending_tasks()
        return _CacheInfo(hits, misses, self._settings.maxsize, self.cache.count())

    def cache_clear(self) -> None:
        """Remove every cached result and reset the hit and miss counters."""
        with self._clear_lock:
            self.cache.clear()
            self._reset_counts()

    def cache_parameters(self) -> dict[str, Any]:
        """The decorator's settings: maxsize, typed, ttl, tti, wait_concurrent, policy."""
        return dict(self._settings.parameters())

    def __reduce__(self) -> str:
        # Pickled by reference, like the function it stands for.
        return str(self.__dict__["__qualname__"])


def _wrap_native(func: Callable[..., Any], cache: Any, settings: Any) -> Any:
    from moka_py._cached import _KWARGS_MARK

    wrapper = _NativeWrapper(func, cache, settings.typed, _KWARGS_MARK)
    update_wrapper(wrapper, func)
    wrapper.cache = cache
    wrapper._settings = settings
    wrapper._clear_lock = threading.Lock()
    return wrapper


def _settings_class() -> type:
    """The generic ``_Settings`` with a native wrapper where it applies (built on first use)."""
    global _NATIVE_SETTINGS
    if _NATIVE_SETTINGS is not None:
        return _NATIVE_SETTINGS
    from moka_py._cached import _Settings

    class _NativeSettings(_Settings):
        def _new_cache(self) -> Any:
            # This backend's Moka even if another backend is selected in moka_py.
            return Moka(self.maxsize, ttl=self.ttl, tti=self.tti, policy=self.policy, weigher=self.weigher)

        def __call__(self, func: Callable[..., Any], /) -> Any:
            generic = self.key is not None or self.wait_concurrent
            if generic or not callable(func) or inspect.iscoroutinefunction(func):
                return super().__call__(func)
            try:
                cache = self._spare.pop()
            except IndexError:
                cache = self._new_cache()
            return _wrap_native(func, cache, self)

    _NATIVE_SETTINGS = _NativeSettings
    return _NativeSettings


_NATIVE_SETTINGS: type | None = None


@overload
def cached(maxsize: Callable[..., Any], /) -> CachedFunctionProtocol[Any]: ...
@overload
def cached(
    maxsize: int | None = 128,
    typed: bool = False,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    wait_concurrent: bool = False,
    policy: Policy = "tiny_lfu",
    weigher: Callable[[Any, Any], int] | None = None,
    key: Callable[..., Hashable] | None = None,
) -> CachedDecorator: ...
def cached(
    maxsize: int | Callable[..., Any] | None = 128,
    typed: bool = False,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    wait_concurrent: bool = False,
    policy: Policy = "tiny_lfu",
    weigher: Callable[[Any, Any], int] | None = None,
    key: Callable[..., Hashable] | None = None,
) -> Any:
    """Memoize a function in a ``Moka`` cache: ``moka_py.cached`` with a native hit path.

    Same settings, keys and behaviour as the generic ``moka_py._cached.cached``
    (see its documentation); needs ``moka_py`` installed.
    """
    from moka_py._cached import _check_settings

    settings = _settings_class()
    if callable(maxsize) and not isinstance(maxsize, int):
        return settings(128, False, None, None, False, "tiny_lfu", None, None)(maxsize)
    _check_settings(maxsize, key)
    return settings(maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key)
