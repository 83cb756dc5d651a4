"""``cached`` behaves like ``functools.lru_cache``'s wrapper (API.md sections 7 and 9).

Copying returns the wrapper itself, pickling goes by qualified name, a key is
hashed once per call, the call path survives user code replacing a builtin,
``cache_info()`` only observes, and ``misses`` counts the function's runs.
Every decorator form is checked: the backend's own fast wrappers and the
generic ones (``typed``, ``key=``, ``wait_concurrent``, ``async``).
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import functools
import pickle
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from moka_py import Policy, cached

from moka_py_conformance._support import run_threads

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

THREADS = 6

FORMS: dict[str, Callable[[Callable[..., Any]], Any]] = {
    "bare": cached,
    "typed": cached(typed=True),
    "wait_concurrent": cached(wait_concurrent=True),
    "key": cached(key=lambda *args, **kwargs: (args, tuple(kwargs.items()))),
    "lru": cached(maxsize=3, policy="lru"),
}
"""Decorator forms that take different wrapper paths in the backends."""


def _double(x: Any) -> Any:
    return 2 * x


async def _async_double(x: Any) -> Any:
    return 2 * x.n if isinstance(x, CountedKey) else 2 * x


# Module-level wrappers: pickle finds them by module and qualified name.
bare_double = cached(_double)
bare_double.__qualname__ = "bare_double"
typed_double = cached(typed=True)(_double)
typed_double.__qualname__ = "typed_double"
waiting_double = cached(wait_concurrent=True)(_double)
waiting_double.__qualname__ = "waiting_double"


@cached
def decorated_double(x: int) -> int:
    return 2 * x


@cached
async def decorated_async_double(x: int) -> int:
    return 2 * x


class _Doubler:
    def __call__(self, x: Any) -> Any:
        return 2 * x.n if isinstance(x, CountedKey) else 2 * x


CALLABLES: dict[str, Callable[[], Callable[..., Any]]] = {
    "function": lambda: _double,
    "partial": lambda: functools.partial(_double),
    "callable object": _Doubler,
    "async function": lambda: _async_double,
}


def _call(wrapper: Any, *args: Any, **kwargs: Any) -> Any:
    result = wrapper(*args, **kwargs)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


# --------------------------------------------------------------------------- copy and pickle


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("make", CALLABLES)
def test_copy_and_deepcopy_return_the_wrapper(form: str, make: str) -> None:
    wrapper = FORMS[form](CALLABLES[make]())
    assert _call(wrapper, 2) == 4
    assert copy.copy(wrapper) is wrapper
    assert copy.deepcopy(wrapper) is wrapper
    holder = copy.deepcopy({"f": wrapper})
    assert holder["f"] is wrapper
    assert wrapper.cache_info()[:2] == (0, 1)


@pytest.mark.parametrize(
    "wrapper", [bare_double, typed_double, waiting_double, decorated_double, decorated_async_double]
)
def test_pickling_is_by_qualified_name(wrapper: Any) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(wrapper, protocol)) is wrapper


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("make", CALLABLES)
def test_a_wrapper_pickle_cannot_find_does_not_pickle(form: str, make: str) -> None:
    # Neither a local function's wrapper nor one of a partial or callable object can be found again
    # by name. A wrapper that is an object says so with PicklingError; a wrapper that is a function
    # gets pickle's own error for functions (AttributeError for a local object before Python 3.14).
    wrapper = FORMS[form](CALLABLES[make]())
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(wrapper)


# --------------------------------------------------------------------------- one hash per call


class CountedKey:
    """A key that counts its ``__hash__`` calls."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.hashes = 0

    def __hash__(self) -> int:
        self.hashes += 1
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountedKey) and other.n == self.n


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("with_kwargs", [False, True], ids=["positional", "keyword"])
def test_a_key_is_hashed_once_per_call(form: str, is_async: bool, with_kwargs: bool) -> None:
    wrapper = FORMS[form](_async_double if is_async else _Doubler())
    key = CountedKey(3)
    for call in range(1, 4):  # a miss, then hits
        assert _call(wrapper, x=key) if with_kwargs else _call(wrapper, key)
        assert key.hashes == call, f"call {call}: {key.hashes} hashes"
    assert wrapper.cache_info()[:2] == (2, 1)


def _double_count(k: CountedKey) -> int:
    return 2 * k.n


@pytest.mark.parametrize("form", FORMS)
def test_a_key_is_hashed_once_per_call_on_eviction_paths(form: str) -> None:
    # Many distinct keys through a small cache: misses, evictions and housekeeping in between.
    wrapper = FORMS[form](_double_count)
    keys = [CountedKey(n) for n in range(40)]
    rng = random.Random(7)
    for _ in range(400):
        k = rng.choice(keys)
        before = k.hashes
        assert wrapper(k) == 2 * k.n
        assert k.hashes == before + 1


# --------------------------------------------------------------------------- replaced builtins


@pytest.mark.parametrize("wait_concurrent", [False, True])
@pytest.mark.parametrize("name", ["len", "hash"])
def test_caching_a_builtin_in_place_works(name: str, wait_concurrent: bool) -> None:
    original = getattr(builtins, name)
    wrapper = cached(4, wait_concurrent=wait_concurrent)(original)
    setattr(builtins, name, wrapper)
    try:
        # Enough distinct calls through a tiny cache for evictions and housekeeping to run.
        for i in range(300):
            assert wrapper(f"s{i % 9}") == original(f"s{i % 9}")
        wrapper.cache.run_pending_tasks()
        info = wrapper.cache_info()
    finally:
        setattr(builtins, name, original)
    assert info.hits + info.misses == 300
    assert info.misses >= 9
    assert info.currsize <= 4


# --------------------------------------------------------------------------- cache_info observes


def _run_calls(calls: list[int], read_info: bool, policy: Policy) -> tuple[Any, list[int]]:
    ran: list[int] = []

    @cached(maxsize=2, policy=policy)
    def identity(x: int) -> int:
        ran.append(x)
        return x

    for x in calls:
        identity(x)
        if read_info:
            identity.cache_info()
    return identity.cache_info()[:2], ran


@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
@pytest.mark.parametrize("seed", range(5))
def test_reading_cache_info_changes_nothing_later(policy: Policy, seed: int) -> None:
    from moka_py import Moka

    if not hasattr(Moka, "__len__"):
        pytest.skip("cache_info() is an observation once the backend has len() (API.md section 7)")
    rng = random.Random(seed)
    calls = [rng.choice([1, 2, 3, 7, 9]) for _ in range(60)]
    assert _run_calls(calls, True, policy) == _run_calls(calls, False, policy)


# --------------------------------------------------------------------------- waiters are hits


def test_wait_concurrent_waiters_count_as_hits_threads() -> None:
    release = threading.Event()
    ran: list[int] = []

    @cached(wait_concurrent=True)
    def slow(x: int) -> int:
        ran.append(x)
        release.wait(30)  # the other threads queue up meanwhile (or hit the stored result later)
        return x

    timer = threading.Timer(0.5, release.set)
    timer.start()
    try:
        results = run_threads(lambda: slow(7), count=THREADS)
    finally:
        timer.cancel()
        release.set()
    assert results == [("ok", 7)] * THREADS
    assert ran == [7]
    info = slow.cache_info()
    assert (info.hits, info.misses) == (THREADS - 1, 1)


def test_wait_concurrent_waiters_count_as_hits_async() -> None:
    ran: list[int] = []

    @cached(wait_concurrent=True)
    async def slow(x: int) -> int:
        ran.append(x)
        for _ in range(5):
            await asyncio.sleep(0)  # every awaiter joins the running task meanwhile
        return x

    async def main() -> list[int]:
        return list(await asyncio.gather(*(slow(7) for _ in range(THREADS))))

    assert asyncio.run(main()) == [7] * THREADS
    assert ran == [7]
    info = slow.cache_info()
    assert (info.hits, info.misses) == (THREADS - 1, 1)


def test_wait_concurrent_misses_count_runs_when_the_function_raises() -> None:
    ran: list[int] = []

    @cached(wait_concurrent=True)
    def fragile(x: int) -> int:
        ran.append(x)
        if len(ran) == 1:
            raise LookupError("first run fails")
        return x

    with pytest.raises(LookupError):
        fragile(1)
    assert fragile(1) == 1
    assert fragile(1) == 1
    assert (fragile.cache_info().hits, fragile.cache_info().misses) == (1, len(ran))
