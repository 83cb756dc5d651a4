"""The generic ``cached`` decorator: ``functools.lru_cache`` on top of a ``Moka``.

Only the selected backend's public ``Moka`` API is used, so this works with
every backend.  A backend may ship its own faster ``cached`` (see
``moka_py.cached``); it must behave exactly like this one.

Keys follow ``functools.lru_cache``: the positional arguments, then (if any)
a private marker followed by the keyword arguments as name/value pairs in call
order, then (if ``typed``) the types of all argument values; a lone ``int`` or
``str`` argument without ``typed`` is its own key.  For a method, the instance
is the first positional argument, so it is part of the key.

``cache_info()`` is derived from the cache's own statistics (``stats()``, API.md
section 7): each call makes exactly one recorded read (``get``, or ``[a]get_with``
with ``wait_concurrent``), so the cache's hits and misses are the calls' (see
:func:`cache_info_of`).  The wrappers count nothing themselves.

A composite key is a :class:`HashedKey`: a ``tuple`` that remembers its hash, so
that the arguments' ``__hash__`` run once per call (``lru_cache``'s ``_HashedSeq``
idea), however many cache operations the call makes.

The call path looks up no builtin at call time (user code may replace one, as
in ``builtins.len = cached(4)(len)``): the builtins it uses are bound at import.

Backends: :func:`cached_with` builds a ``cached`` that is this one in every
respect except the plain sync wrapper (default key, not ``typed``, no
``wait_concurrent``), which the backend supplies to inline its own lookup.
"""

from __future__ import annotations

import inspect
import sys
import threading
import weakref

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import id, len, map, tuple, type  # noqa: UP029
from collections.abc import Callable, Hashable
from functools import _CacheInfo, update_wrapper
from itertools import chain
from types import MethodType
from typing import Any, Generic, Optional, Protocol, TypeVar, cast, overload

from moka_py._protocol import CacheProtocol, Policy

if sys.version_info >= (3, 10):
    from typing import Concatenate, ParamSpec
else:
    from typing_extensions import Concatenate, ParamSpec

__all__ = [
    "OWN_KEY_TYPES",
    "CachedBoundMethod",
    "CachedDecorator",
    "CachedFunction",
    "CachedMethod",
    "CachedMethodDecorator",
    "HashedKey",
    "PlainWrapperFactory",
    "cache_info_of",
    "cached",
    "cached_with",
    "cachedmethod",
    "clear_with_stats",
    "make_key",
    "present_as_cached",
]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
R2 = TypeVar("R2")
R_co = TypeVar("R_co", covariant=True)
S = TypeVar("S")

_MISSING: Any = object()
"""Default for ``cache.get``: tells a miss from a cached ``None``."""

_KWARGS_MARK = object()
"""Separates positional arguments from keyword pairs in a key (never equal to a user value)."""

OWN_KEY_TYPES = frozenset({int, str})
"""Types whose lone argument is its own key (their hash is cheap or cached)."""

PlainWrapperFactory = Callable[
    [Callable[..., Any], "CacheProtocol[Hashable, Any]"],
    Optional[Callable[..., Any]],
]
"""``factory(func, cache) -> wrapper or None``: a backend's plain sync wrapper.

Called once per decorated sync function whose key is the default one, without
``typed`` or ``wait_concurrent``.  The wrapper must behave exactly like the
generic one: key ``make_key(args, kwargs, False)`` (a lone ``int``/``str``
argument, per ``OWN_KEY_TYPES``, is its own key; no kwargs: ``args`` itself),
one recorded read of the key per call (as ``cache.get``: ``cache_info()`` reads
the cache's statistics), and on a miss ``func``, then ``cache.set``.  Returning
None keeps the generic wrapper.
"""

_MAX_CAPACITY = 2**64 - 1


class CachedFunction(Protocol[P, R]):
    """What ``@cached`` returns: the function, plus ``lru_cache``'s introspection methods.

    Generic in the decorated function's parameters ``P`` and result ``R``, so
    that type checkers check calls against the function's own signature (an
    ``async def`` function's ``R`` is its coroutine).
    """

    __wrapped__: Callable[P, R]
    __name__: str
    __qualname__: str
    cache: CacheProtocol[Hashable, Any]
    """The ``Moka`` that holds the results."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function, or return its cached result for these arguments."""
        ...

    def cache_info(self) -> _CacheInfo:
        """``(hits, misses, maxsize, currsize)``, read without running the cache's housekeeping."""
        ...

    def cache_clear(self) -> None:
        """Remove every cached result and reset the cache's statistics (so the hit and miss counts)."""
        ...

    def cache_parameters(self) -> dict[str, Any]:
        """The decorator's settings: maxsize, typed, ttl, tti, wait_concurrent, policy."""
        ...

    # Bound like a function: as a method, the instance is the first argument (and part of the key).
    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None, /) -> CachedFunction[P, R]: ...
    @overload
    def __get__(
        self: CachedFunction[Concatenate[S, P2], R2], obj: S, owner: type[Any] | None = None, /
    ) -> CachedFunction[P2, R2]: ...


class CachedDecorator(Protocol):
    """What ``cached(...)`` returns when called with settings: it decorates one function."""

    def __call__(self, func: Callable[P, R], /) -> CachedFunction[P, R]:
        """Wrap ``func`` with its own cache."""
        ...


class CachedBoundMethod(Protocol[P, R_co]):
    """``obj.method`` for a :func:`cachedmethod`: the method bound to ``obj``, with ``obj``'s cache."""

    __name__: str
    __qualname__: str
    __self__: Any
    """The instance."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """Call the method, or return the result cached for this instance and these arguments."""
        ...

    def cache_info(self) -> _CacheInfo:
        """``(hits, misses, maxsize, currsize)`` of this instance's cache."""
        ...

    def cache_clear(self) -> None:
        """Empty this instance's cache and reset its counters."""
        ...

    def cache_parameters(self) -> dict[str, Any]:
        """The decorator's settings: maxsize, typed, ttl, tti, wait_concurrent, policy."""
        ...


class CachedMethodDecorator(Protocol):
    """What ``cachedmethod(...)`` returns when called with settings: it decorates one method."""

    def __call__(self, method: Callable[Concatenate[S, P], R], /) -> CachedMethod[S, P, R]:
        """Give ``method`` one cache per instance."""
        ...


class HashedKey(tuple):  # type: ignore[type-arg]
    """A composite cache key: a ``tuple`` that computes its hash once.

    Equal to (and hashing like) the plain tuple of the same items, so the
    cache can be read with either; the items' ``__hash__`` run only when the key
    is built, not at each cache operation of the call.
    """

    def __init__(self, items: tuple[Any, ...]) -> None:
        self.hashvalue = tuple.__hash__(self)

    def __hash__(self) -> int:
        return self.hashvalue

    def __reduce__(self) -> Any:
        return (HashedKey, (tuple(self),))


def make_key(args: tuple[Any, ...], kwargs: dict[str, Any], typed: bool) -> Hashable:
    """The default cache key of a call ``f(*args, **kwargs)`` (``functools.lru_cache``'s rules).

    Keyword order matters (``f(a=1, b=2)`` and ``f(b=2, a=1)`` are two keys), and
    with ``typed`` arguments of different types (``1`` and ``1.0``) are two keys.
    A lone ``int`` or ``str`` (without ``typed``) is its own key; any other key
    is a :class:`HashedKey`.
    """
    key: tuple[Any, ...] = args
    if kwargs:
        key = (*args, _KWARGS_MARK, *chain.from_iterable(kwargs.items()))
    if typed:
        return HashedKey((*key, *map(type, args), *map(type, kwargs.values())))
    if len(key) == 1 and type(key[0]) in OWN_KEY_TYPES:
        return key[0]  # type: ignore[no-any-return]
    return HashedKey(key)


def _check_settings(
    maxsize: object, key: object, refresh_after: object = None, ttl: object = None
) -> None:
    """Validate what ``Moka`` does not see (it validates ttl, tti, policy and weigher itself).

    ``refresh_after`` is checked by the backends' own check (a ``ttl`` that is not a number is
    left for ``Moka``).
    """
    if refresh_after is not None:
        # moka-py-pure is a dependency of this package: its check is the one every backend's
        # get_with runs (copied into moka_py_rust by tools/generate.py).  Imported here, not at
        # module level, so that importing moka_py does not import the pure backend.
        from moka_py_pure._refresh import refresh_ns

        refresh_ns(refresh_after, ttl, None)
    if maxsize is not None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool):
            raise TypeError(f"maxsize must be an int or None, not {type(maxsize).__name__}")
        if maxsize < 0:
            raise ValueError(f"maxsize must be >= 0, got {maxsize}")
        if maxsize > _MAX_CAPACITY:
            raise ValueError(f"maxsize must be at most 2**64 - 1, got {maxsize}")
    if key is not None and not callable(key):
        raise TypeError(f"key must be callable or None, not {type(key).__name__}")


@overload
def cached(maxsize: Callable[P, R], /) -> CachedFunction[P, R]: ...
@overload
def cached(
    maxsize: int | None = 128,
    typed: bool = False,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    refresh_after: float | None = None,
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
    refresh_after: float | None = None,
    wait_concurrent: bool = False,
    policy: Policy = "tiny_lfu",
    weigher: Callable[[Any, Any], int] | None = None,
    key: Callable[..., Hashable] | None = None,
) -> CachedFunction[..., Any] | CachedDecorator:
    """Memoize a function in a ``Moka`` cache, like ``functools.lru_cache`` with TTL and TTI.

    Use it bare (``@cached``) or with settings (``@cached(maxsize=1024, ttl=10)``),
    on plain functions, methods (the instance is part of the key) and
    ``async def`` functions (the wrapper is then a coroutine function too).

    * ``maxsize``: the cache capacity; ``None`` for unbounded.
    * ``typed``: cache arguments of different types separately (``1`` vs ``1.0``).
    * ``ttl`` / ``tti``: time to live / time to idle in seconds, or ``None``.
    * ``wait_concurrent``: at most one computation per key at a time.  Threads
      wait for the running one (``Moka.get_with``); coroutines share one load
      per key and event loop (``Moka.aget_with``).  Cancelling one awaiter, or
      all of them, does not cancel the shared load.  Every caller gets the
      same result or the same exception, and exceptions are not cached.
    * ``refresh_after``: refresh-ahead (``Moka.get_with``'s ``refresh_after``,
      below ``ttl`` if both are given): a hit on a result at least that old
      returns it at once and recomputes it in the background, once per key at a
      time (on a worker thread, or as a task for ``async def``).  Calls go
      through ``get_with`` / ``aget_with`` then, so concurrent misses share one
      computation, as with ``wait_concurrent``.  A reload is not a call: it
      counts in neither of ``cache_info()``'s counts.
    * ``policy``: ``"tiny_lfu"`` or ``"lru"``; ``weigher(key, value) -> int`` makes
      ``maxsize`` a total weight.
    * ``key(*args, **kwargs) -> Hashable`` replaces the default key.

    Results, ``None`` included, are cached; exceptions are not.  Bad settings
    raise ``TypeError`` / ``ValueError`` here, before any function is wrapped.
    The wrapper has ``__wrapped__``, ``cache_info()``, ``cache_clear()``,
    ``cache_parameters()`` and ``cache`` (its ``Moka``).  ``cache_info()`` is
    an observation derived from ``cache.stats()``: reading it never changes
    what the cache decides later; reads you make through ``cache`` yourself
    count in it too, and ``cache.reset_stats()`` resets it.  ``cache_clear()``
    empties the cache and resets its statistics.  ``misses`` counts the
    function's runs; a ``wait_concurrent`` caller that gets another caller's
    result counts as a hit.  Like ``lru_cache``'s wrapper,
    ``copy.copy``/``copy.deepcopy`` return the wrapper itself and pickling is
    by qualified name.  For a per-instance cache on methods, see
    :func:`cachedmethod`.
    """
    return _configure(
        _Settings, None, maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key, refresh_after
    )


def _configure(
    settings_type: type[_Settings],
    plain: PlainWrapperFactory | None,
    maxsize: int | Callable[..., Any] | None,
    typed: bool,
    ttl: float | None,
    tti: float | None,
    wait_concurrent: bool,
    policy: Policy,
    weigher: Callable[[Any, Any], int] | None,
    key: Callable[..., Hashable] | None,
    refresh_after: float | None = None,
) -> CachedFunction[..., Any] | CachedDecorator:
    """The body of ``cached``, with the backend's settings class and plain-wrapper factory (or None)."""
    if callable(maxsize) and not isinstance(maxsize, int):
        return settings_type(*_DEFAULTS, plain)(maxsize)  # bare @cached
    _check_settings(maxsize, key, refresh_after, ttl)
    # A _Settings decorates any callable; the protocol adds what it keeps of the callable's type.
    settings = settings_type(
        maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key, plain, refresh_after
    )
    return cast("CachedDecorator", settings)


def cached_with(
    plain: PlainWrapperFactory | None = None, settings_type: type[_Settings] | None = None
) -> Callable[..., Any]:
    """A ``cached`` identical to :func:`cached` except for its plain sync wrapper.

    For backends (API.md §2: a backend may provide a faster ``cached``): the
    backend module sets ``cached = cached_with(factory)``; see
    :data:`PlainWrapperFactory` for what ``factory`` must build.  A backend
    whose wrapper is more than a function (the Rust backend's reads the cache in
    native code) passes a subclass of ``_Settings`` that builds it instead.
    """
    make = _Settings if settings_type is None else settings_type

    def backend_cached(
        maxsize: int | Callable[..., Any] | None = 128,
        typed: bool = False,
        *,
        ttl: float | None = None,
        tti: float | None = None,
        refresh_after: float | None = None,
        wait_concurrent: bool = False,
        policy: Policy = "tiny_lfu",
        weigher: Callable[[Any, Any], int] | None = None,
        key: Callable[..., Hashable] | None = None,
    ) -> CachedFunction[..., Any] | CachedDecorator:
        return _configure(
            make, plain, maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key, refresh_after
        )

    return present_as_cached(backend_cached)


def present_as_cached(backend_cached: F) -> F:
    """Give a backend's own ``cached`` this one's name, docstring and annotations; return it.

    ``help()`` and ``inspect.signature`` then show the same on every backend, provided the
    backend's parameter list is this one's (the backend-parity test checks it).
    """
    update_wrapper(backend_cached, cached)
    del backend_cached.__wrapped__  # type: ignore[attr-defined]  # its own parameters, not a wrapper
    return backend_cached


def _document_methods(*methods: Callable[..., Any]) -> None:
    """Give a wrapper's ``cache_info`` and the others the docstrings of :class:`CachedFunction`'s."""
    for method in methods:
        method.__doc__ = getattr(CachedFunction, method.__name__).__doc__


# cachedmethod's parameters are cached's, written out again: type checkers need each function's
# overloads spelled in full (the settings themselves are checked and stored once, by _Settings).
@overload
def cachedmethod(maxsize: Callable[Concatenate[S, P], R], /) -> CachedMethod[S, P, R]: ...
@overload
def cachedmethod(
    maxsize: int | None = 128,
    typed: bool = False,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    refresh_after: float | None = None,
    wait_concurrent: bool = False,
    policy: Policy = "tiny_lfu",
    weigher: Callable[[Any, Any], int] | None = None,
    key: Callable[..., Hashable] | None = None,
) -> CachedMethodDecorator: ...
def cachedmethod(
    maxsize: int | Callable[..., Any] | None = 128,
    typed: bool = False,
    *,
    ttl: float | None = None,
    tti: float | None = None,
    refresh_after: float | None = None,
    wait_concurrent: bool = False,
    policy: Policy = "tiny_lfu",
    weigher: Callable[[Any, Any], int] | None = None,
    key: Callable[..., Hashable] | None = None,
) -> CachedMethod[Any, ..., Any] | CachedMethodDecorator:
    """Memoize a method with one ``Moka`` cache per instance: :func:`cached` for methods.

    The settings are :func:`cached`'s (bare ``@cachedmethod`` or with settings;
    sync and ``async def`` methods).  Each instance gets its own cache, created
    at its first call, with ``maxsize`` results at most; the key is built from
    the arguments after ``self`` (``key``, if given, receives those arguments).

    * The cache never keeps the instance alive: it is held by the descriptor,
      keyed by the instance's ``id`` and dropped by a weak-reference callback
      when the instance is collected.  So instances need not be hashable, but
      must support weak references (a class with ``__slots__`` lists
      ``"__weakref__"``).  A *result* that refers to the instance does keep it
      alive while it is cached, as in any cache.
    * Nothing is stored on the instance: pickling and copying it are
      unaffected, and a copy starts with an empty cache.
    * ``obj.method.cache_info()``, ``obj.method.cache_clear()`` and
      ``obj.method.cache_parameters()`` are those of ``obj``'s cache.
    """
    if callable(maxsize) and not isinstance(maxsize, int):
        return CachedMethod(maxsize, _Settings(*_DEFAULTS))  # bare @cachedmethod
    _check_settings(maxsize, key, refresh_after, ttl)
    settings = _Settings(
        maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key, refresh_after=refresh_after
    )

    def decorate(method: Callable[..., Any], /) -> CachedMethod[Any, ..., Any]:
        return CachedMethod(method, settings)

    return cast("CachedMethodDecorator", decorate)


class CachedMethod(Generic[S, P, R]):
    """What ``@cachedmethod`` puts in a class: a descriptor with one cache per instance.

    ``obj.method`` is ``obj``'s wrapper bound to ``obj`` (a
    :class:`CachedBoundMethod` to type checkers).  The wrappers are found by the
    instance's ``id``; an entry lives as long as its instance: the weak reference's callback
    removes it while the instance is being deallocated, before its ``id`` can
    be reused.  The callback takes no lock (a collection can run it on a thread
    that holds ``_lock``); it removes only its own entry.
    """

    __wrapped__: Callable[Concatenate[S, P], R]
    __name__: str
    __qualname__: str

    def __init__(self, method: Callable[Concatenate[S, P], R], settings: _Settings) -> None:
        if not callable(method):
            raise TypeError(f"cachedmethod() needs a callable to decorate, not {type(method).__name__}")
        self._method = method
        self._settings = settings
        self._lock = threading.Lock()
        self._per_instance: dict[int, tuple[weakref.ref[Any], CachedFunction[..., Any]]] = {}
        self._name = getattr(method, "__qualname__", repr(method))
        update_wrapper(self, method)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = f"{owner.__qualname__}.{name}"

    def _wrapper_of(self, obj: Any) -> CachedFunction[..., Any]:
        """``obj``'s wrapper (the method with ``obj``'s cache), made at the first call."""
        entry = self._per_instance.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        with self._lock:
            entry = self._per_instance.get(id(obj))
            if entry is not None and entry[0]() is obj:
                return entry[1]
            per_instance = self._per_instance
            slot = id(obj)

            def forget(ref: weakref.ref[Any]) -> None:
                if per_instance.get(slot, (None,))[0] is ref:
                    per_instance.pop(slot, None)

            try:
                ref = weakref.ref(obj, forget)
            except TypeError:
                raise TypeError(
                    f"cachedmethod {self._name}: {type(obj).__qualname__} instances do not support weak "
                    "references, which the per-instance cache needs in order not to keep them alive "
                    "(a class with __slots__ must list '__weakref__')"
                ) from None
            wrapper = _wrap(self._method, self._settings.take_cache(), self._settings, skip_self=True)
            per_instance[slot] = (ref, wrapper)
            return wrapper

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None, /) -> CachedMethod[S, P, R]: ...
    @overload
    def __get__(self, obj: S, owner: type[Any] | None = None, /) -> CachedBoundMethod[P, R]: ...
    def __get__(self, obj: S | None, owner: type[Any] | None = None, /) -> Any:
        if obj is None:
            return self
        return MethodType(self._wrapper_of(obj), obj)

    def __call__(self, obj: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``Class.method(obj, ...)``: call through ``obj``'s cache."""
        return self._wrapper_of(obj)(obj, *args, **kwargs)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<cachedmethod {self._name}>"


_DEFAULTS: tuple[int, bool, None, None, bool, Policy, None, None] = (
    128,
    False,
    None,
    None,
    False,
    "tiny_lfu",
    None,
    None,
)
"""``cached``'s and ``cachedmethod``'s defaults in ``_Settings`` order, for the bare decorators."""


class _Settings:
    """A configured decorator; it builds one cache per decorated function."""

    def __init__(
        self,
        maxsize: int | None,
        typed: bool,
        ttl: float | None,
        tti: float | None,
        wait_concurrent: bool,
        policy: Policy,
        weigher: Callable[[Any, Any], int] | None,
        key: Callable[..., Hashable] | None,
        plain: PlainWrapperFactory | None = None,
        refresh_after: float | None = None,
    ) -> None:
        self.maxsize = maxsize
        self.refresh_after = refresh_after
        self.typed = bool(typed)
        self.ttl = ttl
        self.tti = tti
        self.wait_concurrent = bool(wait_concurrent)
        self.policy = policy
        self.weigher = weigher
        self.key = key
        self.plain = plain
        # Building the first cache now makes Moka validate ttl, tti, policy and
        # weigher at decoration time; the first decorated function then uses it.
        self._spare: list[CacheProtocol[Hashable, Any]] = [self._new_cache()]

    def _new_cache(self) -> CacheProtocol[Hashable, Any]:
        from moka_py import Moka  # the selected backend's class; moka_py is imported by now

        return Moka(self.maxsize, ttl=self.ttl, tti=self.tti, policy=self.policy, weigher=self.weigher)

    def parameters(self) -> dict[str, Any]:
        """The settings reported by ``cache_parameters()``."""
        return {
            "maxsize": self.maxsize,
            "typed": self.typed,
            "ttl": self.ttl,
            "tti": self.tti,
            "refresh_after": self.refresh_after,
            "wait_concurrent": self.wait_concurrent,
            "policy": self.policy,
        }

    def take_cache(self) -> CacheProtocol[Hashable, Any]:
        """A new cache with these settings (the one built for validation first)."""
        try:
            return self._spare.pop()
        except IndexError:
            return self._new_cache()

    def __call__(self, func: Callable[..., Any], /) -> CachedFunction[..., Any]:
        """Wrap ``func`` with its own cache."""
        if not callable(func):
            raise TypeError(f"cached() needs a callable to decorate, not {type(func).__name__}")
        return _wrap(func, self.take_cache(), self)


def _key_builder(
    typed: bool, key: Callable[..., Hashable] | None, skip_self: bool = False
) -> Callable[[tuple[Any, ...], dict[str, Any]], Hashable]:
    """``build(args, kwargs) -> key`` for the given settings.

    ``skip_self`` leaves the first positional argument (a :func:`cachedmethod`'s
    instance) out of the key.  A ``key=`` function's tuple result becomes a
    :class:`HashedKey` (hashed once per call); other results are used as given.
    """
    first = 1 if skip_self else 0
    if key is not None:
        user_key = key

        def build_user(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            k = user_key(*args[first:], **kwargs)
            return HashedKey(k) if type(k) is tuple else k

        return build_user

    if skip_self:

        def build_after_self(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            return make_key(args[1:], kwargs, typed)

        return build_after_self

    def build(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        return make_key(args, kwargs, typed)

    return build


def cache_info_of(
    cache: CacheProtocol[Hashable, Any], maxsize: int | None, loads_are_misses: bool = False
) -> _CacheInfo:
    """``cache_info()`` of a wrapper over ``cache``, from ``cache.stats()`` (all wrappers use this).

    Each call of a wrapper makes exactly one recorded read, so the cache's
    ``hits``/``misses`` are the calls' (and reads made through ``cache``
    directly count too).  With ``loads_are_misses`` (``wait_concurrent``,
    whose one read is ``get_with`` or ``aget_with``) the misses are the
    initializer runs (``loads``) and every other read is a hit (a caller that
    waited for another caller's run, even one that raised, counts as a hit).

    An observation: ``currsize`` is ``len(cache)`` (API.md section 7), which
    counts exactly the readable entries without running housekeeping (that
    would change the cache's later decisions).
    """
    stats = cache.stats()
    if loads_are_misses:
        hits, misses = stats.hits + stats.misses - stats.loads, stats.loads
    else:
        hits, misses = stats.hits, stats.misses
    return _CacheInfo(hits, misses, maxsize, len(cache))


def clear_with_stats(cache: CacheProtocol[Hashable, Any]) -> None:
    """``cache_clear()``: empty the cache, then reset its statistics (the clear's removals included)."""
    cache.clear()
    cache.reset_stats()


def _refreshing_wrapper(
    func: Callable[..., Any],
    cache: CacheProtocol[Hashable, Any],
    build: Callable[[tuple[Any, ...], dict[str, Any]], Hashable],
    refresh_after: float,
) -> Callable[..., Any]:
    """The wrapper of a ``refresh_after`` decorator: each call is one ``get_with`` / ``aget_with``.

    Its one recorded read is the call's hit or miss; a background reload is no call, so it counts
    in the cache's ``loads`` but in neither of ``cache_info()``'s counts.
    """
    if inspect.iscoroutinefunction(func):
        aget_with = cache.aget_with

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            load = lambda: func(*args, **kwargs)  # noqa: E731
            return await aget_with(build(args, kwargs), load, refresh_after=refresh_after)

        return async_wrapper
    get_with = cache.get_with

    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        load = lambda: func(*args, **kwargs)  # noqa: E731
        return get_with(build(args, kwargs), load, refresh_after=refresh_after)

    return sync_wrapper


def _wrap(
    func: Callable[..., Any],
    cache: CacheProtocol[Hashable, Any],
    settings: _Settings,
    skip_self: bool = False,
) -> CachedFunction[..., Any]:
    """Build the wrapper of ``func`` (four variants: sync/async x plain/wait_concurrent).

    ``skip_self``: the wrapper of a :func:`cachedmethod` for one instance (the
    instance is passed, but is not part of the key).
    """
    get = cache.get
    set_ = cache.set
    get_with = cache.get_with
    build = _key_builder(settings.typed, settings.key, skip_self)
    fast_key = settings.key is None and not settings.typed and not skip_self
    own_key_types = OWN_KEY_TYPES
    missing = _MISSING
    kwargs_mark = _KWARGS_MARK
    hashed_key = HashedKey

    wrapper: Any
    refresh_after = settings.refresh_after
    if refresh_after is not None:
        wrapper = _refreshing_wrapper(func, cache, build, refresh_after)
    elif inspect.iscoroutinefunction(func):
        if settings.wait_concurrent:
            aget_with = cache.aget_with

            # One shared load per key and event loop (the cache's aget_with), one recorded read
            # per call: cache_info()'s misses are its loads (the runs).
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                return await aget_with(build(args, kwargs), lambda: func(*args, **kwargs))

        else:

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                k = build(args, kwargs)
                value = get(k, missing)
                if value is not missing:
                    return value
                value = await func(*args, **kwargs)
                set_(k, value)
                return value

    elif settings.wait_concurrent:

        # One recorded read per call, get_with's: cache_info()'s misses are its loads (the runs).
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return get_with(build(args, kwargs), lambda: func(*args, **kwargs))

    elif (
        fast_key
        and settings.plain is not None
        and (backend_wrapper := settings.plain(func, cache))
    ):
        wrapper = backend_wrapper

    elif fast_key:
        # The common case, with make_key's untyped rules inlined (no extra call on a hit).
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                k = hashed_key((*args, kwargs_mark, *chain.from_iterable(kwargs.items())))
            elif len(args) == 1 and type(args[0]) in own_key_types:
                k = args[0]
            else:
                k = hashed_key(args)
            value = get(k, missing)
            if value is not missing:
                return value
            value = func(*args, **kwargs)
            set_(k, value)
            return value

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = build(args, kwargs)
            value = get(k, missing)
            if value is not missing:
                return value
            value = func(*args, **kwargs)
            set_(k, value)
            return value

    loads_are_misses = settings.wait_concurrent

    def cache_info() -> _CacheInfo:
        return cache_info_of(cache, settings.maxsize, loads_are_misses)

    def cache_clear() -> None:
        clear_with_stats(cache)

    def cache_parameters() -> dict[str, Any]:
        return settings.parameters()

    _document_methods(cache_info, cache_clear, cache_parameters)
    update_wrapper(wrapper, func)
    wrapper.cache_info = cache_info
    wrapper.cache_clear = cache_clear
    wrapper.cache_parameters = cache_parameters
    wrapper.cache = cache
    return cast("CachedFunction[..., Any]", wrapper)
