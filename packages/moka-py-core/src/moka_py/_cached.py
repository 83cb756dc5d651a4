"""The generic ``cached`` decorator: ``functools.lru_cache`` on top of a ``Moka``.

Only the selected backend's public ``Moka`` API is used, so this works with
every backend.  A backend may ship its own faster ``cached`` (see
``moka_py.cached``); it must behave exactly like this one.

Keys follow ``functools.lru_cache``: the positional arguments, then (if any)
a private marker followed by the keyword arguments as name/value pairs in call
order, then (if ``typed``) the types of all argument values; a lone ``int`` or
``str`` argument without ``typed`` is its own key.  For a method, the instance
is the first positional argument, so it is part of the key.

Hit and miss counters are :func:`itertools.count` objects: advancing one is a
single C call that cannot lose an increment between threads (unlike ``x += 1``
on a Python attribute) and costs about as much as that ``+= 1``.  They are never
replaced (``cache_clear`` records an offset instead), so a wrapper can bind them.

Backends: :func:`cached_with` builds a ``cached`` that is this one in every
respect except the plain sync wrapper (default key, not ``typed``, no
``wait_concurrent``), which the backend supplies to inline its own lookup.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Hashable
from functools import _CacheInfo, update_wrapper
from itertools import chain, count
from typing import TYPE_CHECKING, Any, Optional, Protocol, TypeVar, cast, overload

from moka_py._protocol import CacheProtocol, Policy

if TYPE_CHECKING:
    from collections.abc import Coroutine

__all__ = [
    "OWN_KEY_TYPES",
    "CachedDecorator",
    "CachedFunction",
    "PlainWrapperFactory",
    "cached",
    "cached_with",
    "make_key",
    "present_as_cached",
]

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

_MISSING: Any = object()
"""Default for ``cache.get``: tells a miss from a cached ``None``."""

_KWARGS_MARK = object()
"""Separates positional arguments from keyword pairs in a key (never equal to a user value)."""

OWN_KEY_TYPES = frozenset({int, str})
"""Types whose lone argument is its own key (their hash is cheap or cached)."""

PlainWrapperFactory = Callable[
    [Callable[..., Any], "CacheProtocol[Hashable, Any]", Callable[[], object], Callable[[], object]],
    Optional[Callable[..., Any]],
]
"""``factory(func, cache, hit, miss) -> wrapper or None``: a backend's plain sync wrapper.

Called once per decorated sync function whose key is the default one, without
``typed`` or ``wait_concurrent``.  The wrapper must behave exactly like the
generic one: key ``make_key(args, kwargs, False)`` (a lone ``int``/``str``
argument, per ``OWN_KEY_TYPES``, is its own key; no kwargs: ``args`` itself),
a hit is a recorded ``cache.get`` that finds the key and then calls ``hit()``,
a miss calls ``miss()``, then ``func``, then ``cache.set``.  ``hit``/``miss``
stay valid for the wrapper's lifetime.  Returning None keeps the generic wrapper.
"""

_MAX_CAPACITY = 2**64 - 1


class CachedFunction(Protocol[R]):
    """What ``@cached`` returns: the function, plus ``lru_cache``'s introspection methods."""

    __wrapped__: Callable[..., R]
    __name__: str
    __qualname__: str
    cache: CacheProtocol[Hashable, Any]
    """The ``Moka`` that holds the results."""

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        """Call the function, or return its cached result for these arguments."""
        ...

    def cache_info(self) -> _CacheInfo:
        """``(hits, misses, maxsize, currsize)``; ``currsize`` is ``cache.count()`` after housekeeping."""
        ...

    def cache_clear(self) -> None:
        """Remove every cached result and reset the hit and miss counters."""
        ...

    def cache_parameters(self) -> dict[str, Any]:
        """The decorator's settings: maxsize, typed, ttl, tti, wait_concurrent, policy."""
        ...


class CachedDecorator(Protocol):
    """What ``cached(...)`` returns when called with settings: it decorates one function."""

    def __call__(self, func: Callable[..., R], /) -> CachedFunction[R]:
        """Wrap ``func`` with its own cache."""
        ...


def make_key(args: tuple[Any, ...], kwargs: dict[str, Any], typed: bool) -> Hashable:
    """The default cache key of a call ``f(*args, **kwargs)`` (``functools.lru_cache``'s rules).

    Keyword order matters (``f(a=1, b=2)`` and ``f(b=2, a=1)`` are two keys), and
    with ``typed`` arguments of different types (``1`` and ``1.0``) are two keys.
    """
    key: tuple[Any, ...] = args
    if kwargs:
        key = (*args, _KWARGS_MARK, *chain.from_iterable(kwargs.items()))
    if typed:
        return (*key, *map(type, args), *map(type, kwargs.values()))
    if len(key) == 1 and type(key[0]) in OWN_KEY_TYPES:
        return key[0]  # type: ignore[no-any-return]
    return key


def _check_settings(maxsize: object, key: object) -> None:
    """Validate what ``Moka`` does not see (it validates ttl, tti, policy and weigher itself)."""
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
def cached(maxsize: Callable[..., R], /) -> CachedFunction[R]: ...
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
) -> CachedFunction[Any] | CachedDecorator:
    """Memoize a function in a ``Moka`` cache, like ``functools.lru_cache`` with TTL and TTI.

    Use it bare (``@cached``) or with settings (``@cached(maxsize=1024, ttl=10)``),
    on plain functions, methods (the instance is part of the key) and
    ``async def`` functions (the wrapper is then a coroutine function too).

    * ``maxsize``: the cache capacity; ``None`` for unbounded.
    * ``typed``: cache arguments of different types separately (``1`` vs ``1.0``).
    * ``ttl`` / ``tti``: time to live / time to idle in seconds, or ``None``.
    * ``wait_concurrent``: at most one computation per key at a time.  Threads
      wait for the running one (``Moka.get_with``); coroutines share one
      ``asyncio.Task`` per key and event loop.  Cancelling one awaiter does not
      cancel the shared task.  Every caller gets the same result or the same
      exception, and exceptions are not cached.
    * ``policy``: ``"tiny_lfu"`` or ``"lru"``; ``weigher(key, value) -> int`` makes
      ``maxsize`` a total weight.
    * ``key(*args, **kwargs) -> Hashable`` replaces the default key.

    Results, ``None`` included, are cached; exceptions are not.  Bad settings
    raise ``TypeError`` / ``ValueError`` here, before any function is wrapped.
    The wrapper has ``__wrapped__``, ``cache_info()``, ``cache_clear()``,
    ``cache_parameters()`` and ``cache`` (its ``Moka``).  ``cache_info()``
    runs the cache's pending housekeeping first, so that ``currsize`` (its
    ``count()``) is exact rather than moka's lagging estimate.
    """
    return _configure(None, maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key)


def _configure(
    plain: PlainWrapperFactory | None,
    maxsize: int | Callable[..., Any] | None,
    typed: bool,
    ttl: float | None,
    tti: float | None,
    wait_concurrent: bool,
    policy: Policy,
    weigher: Callable[[Any, Any], int] | None,
    key: Callable[..., Hashable] | None,
) -> CachedFunction[Any] | CachedDecorator:
    """The body of ``cached``, with the backend's plain-wrapper factory (or None)."""
    if callable(maxsize) and not isinstance(maxsize, int):
        return _Settings(128, False, None, None, False, "tiny_lfu", None, None, plain)(maxsize)
    _check_settings(maxsize, key)
    return _Settings(maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key, plain)


def cached_with(plain: PlainWrapperFactory) -> Callable[..., Any]:
    """A ``cached`` identical to :func:`cached` except for its plain sync wrapper.

    For backends (API.md §2: a backend may provide a faster ``cached``): the
    backend module sets ``cached = cached_with(factory)``; see
    :data:`PlainWrapperFactory` for what ``factory`` must build.
    """

    def backend_cached(
        maxsize: int | Callable[..., Any] | None = 128,
        typed: bool = False,
        *,
        ttl: float | None = None,
        tti: float | None = None,
        wait_concurrent: bool = False,
        policy: Policy = "tiny_lfu",
        weigher: Callable[[Any, Any], int] | None = None,
        key: Callable[..., Hashable] | None = None,
    ) -> CachedFunction[Any] | CachedDecorator:
        return _configure(plain, maxsize, typed, ttl, tti, wait_concurrent, policy, weigher, key)

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
    ) -> None:
        self.maxsize = maxsize
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
            "wait_concurrent": self.wait_concurrent,
            "policy": self.policy,
        }

    def __call__(self, func: Callable[..., Any], /) -> CachedFunction[Any]:
        """Wrap ``func`` with its own cache."""
        if not callable(func):
            raise TypeError(f"cached() needs a callable to decorate, not {type(func).__name__}")
        try:
            cache = self._spare.pop()
        except IndexError:
            cache = self._new_cache()
        return _wrap(func, cache, self)


def _key_builder(typed: bool, key: Callable[..., Hashable] | None) -> Callable[..., Hashable]:
    """``build(args, kwargs) -> key`` for the given settings."""
    if key is not None:
        user_key = key

        def build_user(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            return user_key(*args, **kwargs)

        return build_user

    def build(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        return make_key(args, kwargs, typed)

    return build


def _wrap(
    func: Callable[..., Any], cache: CacheProtocol[Hashable, Any], settings: _Settings
) -> CachedFunction[Any]:
    """Build the wrapper of ``func`` (four variants: sync/async x plain/wait_concurrent)."""
    get = cache.get
    set_ = cache.set
    get_with = cache.get_with
    build = _key_builder(settings.typed, settings.key)
    fast_key = settings.key is None and not settings.typed
    own_key_types = OWN_KEY_TYPES
    missing = _MISSING

    counters_lock = threading.Lock()
    hits = count()
    misses = count()
    hit = hits.__next__
    miss = misses.__next__
    # Reading an itertools.count means advancing it: the offsets count those reads, plus the values
    # the counters had when cache_clear() reset them.
    hit_base = 0
    miss_base = 0

    wrapper: Any
    if inspect.iscoroutinefunction(func):
        if settings.wait_concurrent:
            wrapper = _async_coalescing(func, get, set_, build, hit, miss)
        else:

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                k = build(args, kwargs)
                value = get(k, missing)
                if value is not missing:
                    hit()
                    return value
                miss()
                value = await func(*args, **kwargs)
                set_(k, value)
                return value

    elif settings.wait_concurrent:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = build(args, kwargs)
            value = get(k, missing)
            if value is not missing:
                hit()
                return value
            miss()
            return get_with(k, lambda: func(*args, **kwargs))

    elif fast_key and settings.plain is not None and (
        backend_wrapper := settings.plain(func, cache, hit, miss)
    ):
        wrapper = backend_wrapper

    elif fast_key:
        # The common case, with make_key's untyped rules inlined (no extra call on a hit).
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                k = make_key(args, kwargs, False)
            elif len(args) == 1 and type(args[0]) in own_key_types:
                k = args[0]
            else:
                k = args
            value = get(k, missing)
            if value is not missing:
                hit()
                return value
            miss()
            value = func(*args, **kwargs)
            set_(k, value)
            return value

    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            k = build(args, kwargs)
            value = get(k, missing)
            if value is not missing:
                hit()
                return value
            miss()
            value = func(*args, **kwargs)
            set_(k, value)
            return value

    def cache_info() -> _CacheInfo:
        nonlocal hit_base, miss_base
        with counters_lock:
            n_hits = hit() - hit_base
            n_misses = miss() - miss_base
            hit_base += 1
            miss_base += 1
        cache.run_pending_tasks()
        return _CacheInfo(n_hits, n_misses, settings.maxsize, cache.count())

    def cache_clear() -> None:
        nonlocal hit_base, miss_base
        with counters_lock:
            cache.clear()
            hit_base = hit() + 1
            miss_base = miss() + 1

    def cache_parameters() -> dict[str, Any]:
        return settings.parameters()

    _document_methods(cache_info, cache_clear, cache_parameters)
    update_wrapper(wrapper, func)
    wrapper.cache_info = cache_info
    wrapper.cache_clear = cache_clear
    wrapper.cache_parameters = cache_parameters
    wrapper.cache = cache
    return cast("CachedFunction[Any]", wrapper)


def _async_coalescing(
    func: Callable[..., Awaitable[Any]],
    get: Callable[[Hashable, Any], Any],
    set_: Callable[[Hashable, Any], None],
    build: Callable[..., Hashable],
    hit: Callable[[], object],
    miss: Callable[[], object],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The ``async`` wrapper with ``wait_concurrent``: one shared task per (event loop, key).

    A slot is touched only by the thread running its loop, so the dict needs
    no lock.  The task removes its own slot as it finishes (before any awaiter
    resumes), so a later miss starts a fresh computation instead of seeing a
    finished one; a done-callback covers a task cancelled before it started.
    """
    in_flight: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Task[Any]] = {}
    missing = _MISSING
    name = f"moka_py.cached({getattr(func, '__qualname__', func)!r})"

    def forget(slot: tuple[asyncio.AbstractEventLoop, Hashable], task: asyncio.Task[Any]) -> None:
        if in_flight.get(slot) is task:
            del in_flight[slot]

    def on_done(slot: tuple[asyncio.AbstractEventLoop, Hashable], task: asyncio.Task[Any]) -> None:
        forget(slot, task)
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" if every awaiter left

    async def compute(
        slot: tuple[asyncio.AbstractEventLoop, Hashable], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            value = await func(*args, **kwargs)
            set_(slot[1], value)
            return value
        finally:
            task = asyncio.current_task()
            if task is not None:
                forget(slot, task)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        k = build(args, kwargs)
        value = get(k, missing)
        if value is not missing:
            hit()
            return value
        miss()
        loop = asyncio.get_running_loop()
        slot = (loop, k)
        task = in_flight.get(slot)
        if task is None:
            task = loop.create_task(compute(slot, args, kwargs), name=name)
            in_flight[slot] = task
            task.add_done_callback(lambda t: on_done(slot, t))
        return await asyncio.shield(task)

    return wrapper
