"""The Rust backend's own ``cached``: moka-py's generic decorator with a native hit path.

``moka_py`` uses this ``cached`` when the Rust backend is selected (API.md
section 2 lets a backend ship a faster one that behaves exactly alike).
Settings, validation, ``async`` functions, ``wait_concurrent`` and custom
``key=`` functions are all handled by the generic decorator in
``moka_py._cached``.  Only a plain sync function with the default key gets a
different wrapper: :class:`moka_py_rust._native.CachedFunction`, whose call
builds the key and reads the cache in Rust (``cache_info()`` reads the
cache's statistics, like the generic wrapper's).

This module imports ``moka_py``: ``moka_py_rust`` imports it only when
``cached`` is first asked for (the backend does not depend on the core
package).  Its docstrings and ``cached``'s signature are the generic ones.
"""

from __future__ import annotations

import inspect
import pickle
import sys
from collections.abc import Callable, Hashable
from functools import _CacheInfo, update_wrapper
from typing import Any

from moka_py._cached import (
    _KWARGS_MARK,
    _document_methods,
    _Settings,
    cache_info_of,
    cached_with,
    clear_with_stats,
)

from moka_py_rust._native import CachedFunction as NativeCachedFunction
from moka_py_rust._native import Moka

__all__ = ["cached"]


class _NativeWrapper(NativeCachedFunction):
    """A memoized sync function; the Python half adds ``lru_cache``'s methods.

    Being a Python subclass gives each wrapper a ``__dict__`` (for
    ``functools.update_wrapper`` and ``cache``) and a ``__weakref__``.
    """

    __wrapped__: Callable[..., Any]
    cache: Moka[Hashable, Any]
    _settings: _Settings

    def cache_info(self) -> _CacheInfo:
        return cache_info_of(self.cache, self._settings.maxsize)

    def cache_clear(self) -> None:
        clear_with_stats(self.cache)

    def cache_parameters(self) -> dict[str, Any]:
        return dict(self._settings.parameters())

    def __repr__(self) -> str:
        # The generic wrapper is a function: its repr, with this wrapper's address.
        # (A partial or a callable object has no __qualname__ to show: the wrapped object stands in.)
        name = self.__dict__.get("__qualname__") or f"cached({self.__wrapped__!r})"
        return f"<function {name} at {id(self):#x}>"

    def __copy__(self) -> _NativeWrapper:
        return self  # like lru_cache's wrapper (and a function): one cache, one wrapper

    def __deepcopy__(self, memo: Any) -> _NativeWrapper:
        return self

    def __reduce__(self) -> str:
        # Pickled by reference, like the function it stands for (and lru_cache's wrapper).
        return _name_of(self)


def _name_of(wrapper: _NativeWrapper) -> str:
    """The qualified name pickle finds ``wrapper`` by, else a ``PicklingError`` saying why."""
    module = wrapper.__dict__.get("__module__")
    qualname = wrapper.__dict__.get("__qualname__")
    what = f"cannot pickle {wrapper!r} by reference"
    if not isinstance(qualname, str) or not isinstance(module, str):
        kind = type(wrapper.__wrapped__).__qualname__
        missing = "no __qualname__ and __module__ to be found by"
        raise pickle.PicklingError(f"{what}: the cached {kind} has {missing}")
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not wrapper:
        raise pickle.PicklingError(f"{what}: {module}.{qualname} is not this wrapper")
    return qualname


_document_methods(_NativeWrapper.cache_info, _NativeWrapper.cache_clear, _NativeWrapper.cache_parameters)


def _wrap_native(func: Callable[..., Any], cache: Any, settings: _Settings) -> Any:
    wrapper = _NativeWrapper(func, cache, settings.typed, _KWARGS_MARK)
    update_wrapper(wrapper, func)
    wrapper.cache = cache
    wrapper._settings = settings
    return wrapper


class _NativeSettings(_Settings):
    """The generic ``_Settings`` with a native wrapper where it applies."""

    def _new_cache(self) -> Any:
        # This backend's Moka even if another backend is selected in moka_py.
        return Moka(self.maxsize, ttl=self.ttl, tti=self.tti, policy=self.policy, weigher=self.weigher)

    def __call__(self, func: Callable[..., Any], /) -> Any:
        generic = self.key is not None or self.wait_concurrent or self.refresh_after is not None
        if generic or not callable(func) or inspect.iscoroutinefunction(func):
            return super().__call__(func)
        try:
            cache = self._spare.pop()
        except IndexError:
            cache = self._new_cache()
        return _wrap_native(func, cache, self)


cached = cached_with(settings_type=_NativeSettings)
