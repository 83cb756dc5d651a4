"""``cachedmethod``: one cache per instance (API.md section 9), against whichever backend is selected.

The caches never keep an instance alive, work for unhashable instances, leave
the instance picklable and copyable, and are inspected per instance through
``obj.method.cache_info()`` and ``obj.method.cache_clear()``.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import pickle
import threading
import weakref
from typing import Any

import pytest
from moka_py import cachedmethod

from moka_py_conformance._support import run_threads

pytestmark = pytest.mark.contract  # the contract tier (conformance README)


class Account:
    """Unhashable (``__eq__`` without ``__hash__``), picklable, with cached methods."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.calls: list[Any] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Account) and other.owner == self.owner

    __hash__ = None  # type: ignore[assignment]

    @cachedmethod(maxsize=16)
    def label(self, n: int, *, suffix: str = "") -> str:
        """Describe ``n``."""
        self.calls.append(n)
        return f"{self.owner}:{n}{suffix}"

    @cachedmethod
    def bare(self, n: int) -> str:
        self.calls.append(n)
        return f"{self.owner}:{n}"

    @cachedmethod(maxsize=8)
    async def fetch(self, n: int) -> str:
        self.calls.append(n)
        await asyncio.sleep(0)
        return f"{self.owner}:{n}"

    @cachedmethod(key=lambda n, **_: n % 10)
    def by_last_digit(self, n: int) -> int:
        self.calls.append(n)
        return n


def test_each_instance_has_its_own_cache() -> None:
    a, b = Account("a"), Account("b")
    assert [a.label(1), a.label(1), b.label(1), a.label(2), b.label(1)] == ["a:1", "a:1", "b:1", "a:2", "b:1"]
    assert a.calls == [1, 2] and b.calls == [1]
    assert a.label.cache_info()[:3] == (1, 2, 16)
    assert b.label.cache_info()[:3] == (1, 1, 16)
    a.label.cache_clear()
    assert a.label.cache_info()[:2] == (0, 0)
    assert b.label.cache_info()[:2] == (1, 1)
    assert a.label(1) == "a:1" and a.calls == [1, 2, 1]
    assert b.label(1) == "b:1" and b.calls == [1]


def test_equal_unhashable_instances_do_not_share() -> None:
    a, twin = Account("a"), Account("a")
    assert a == twin
    with pytest.raises(TypeError):
        hash(a)
    assert a.label(5) == twin.label(5) == "a:5"
    assert a.calls == [5] and twin.calls == [5]


def test_keywords_and_the_unbound_call_use_the_instance_cache() -> None:
    a = Account("a")
    assert a.label(1, suffix="!") == "a:1!"
    assert a.label(1, suffix="!") == "a:1!"
    assert Account.label(a, 1, suffix="!") == "a:1!"
    assert a.calls == [1]
    assert a.label.cache_info()[:2] == (2, 1)


def test_the_key_function_gets_the_arguments_without_the_instance() -> None:
    a = Account("a")
    assert [a.by_last_digit(3), a.by_last_digit(13), a.by_last_digit(4)] == [3, 3, 4]
    assert a.calls == [3, 4]


def test_the_instance_is_not_kept_alive() -> None:
    a = Account("a")
    a.label(1)
    a.bare(1)
    asyncio.run(a.fetch(1))
    gone = weakref.ref(a)
    del a
    gc.collect()
    assert gone() is None


def test_a_new_instance_starts_empty_even_at_a_reused_address() -> None:
    for i in range(50):
        a = Account("a")  # ids are often reused once the previous instance is gone
        assert a.label.cache_info()[:2] == (0, 0), i
        a.label(i)
        assert a.label.cache_info()[:2] == (0, 1)
        del a


def test_the_instance_stays_picklable_and_copies_start_empty() -> None:
    a = Account("a")
    a.label(1)
    restored = pickle.loads(pickle.dumps(a))
    assert restored.owner == "a" and restored.calls == [1]
    assert restored.label.cache_info()[:2] == (0, 0)
    assert restored.label(1) == "a:1" and restored.calls == [1, 1]
    for twin in (copy.copy(a), copy.deepcopy(a)):
        assert twin.label.cache_info()[:2] == (0, 0)
    assert a.label.cache_info()[:2] == (0, 1)


def test_async_methods_cache_per_instance() -> None:
    a, b = Account("a"), Account("b")

    async def main() -> list[str]:
        return [await a.fetch(1), await a.fetch(1), await b.fetch(1)]

    assert asyncio.run(main()) == ["a:1", "a:1", "b:1"]
    assert a.calls == [1] and b.calls == [1]
    assert a.fetch.cache_info()[:3] == (1, 1, 8)
    assert inspect.iscoroutinefunction(a.fetch)
    assert inspect.iscoroutinefunction(Account.fetch.__wrapped__)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_wait_concurrent_computes_once_per_instance(is_async: bool) -> None:
    release = threading.Event()

    class Slow:
        def __init__(self) -> None:
            self.runs = 0

        @cachedmethod(wait_concurrent=True)
        def value(self, x: int) -> int:
            self.runs += 1
            release.wait(30)
            return x

        @cachedmethod(wait_concurrent=True)
        async def avalue(self, x: int) -> int:
            self.runs += 1
            for _ in range(5):
                await asyncio.sleep(0)
            return x

    obj = Slow()
    if is_async:

        async def main() -> list[int]:
            return list(await asyncio.gather(*(obj.avalue(3) for _ in range(6))))

        assert asyncio.run(main()) == [3] * 6
        info = obj.avalue.cache_info()
    else:
        timer = threading.Timer(0.5, release.set)
        timer.start()
        try:
            results = run_threads(lambda: obj.value(3), count=6)
        finally:
            timer.cancel()
            release.set()
        assert results == [("ok", 3)] * 6
        info = obj.value.cache_info()
    assert obj.runs == 1
    assert (info.hits, info.misses) == (5, 1)


def test_slots_classes_need_a_weakref_slot() -> None:
    class Slotted:
        __slots__ = ("n",)

        def __init__(self) -> None:
            self.n = 1

        @cachedmethod
        def twice(self) -> int:
            return 2 * self.n

    class WeakSlotted:
        __slots__ = ("__weakref__", "n")

        def __init__(self) -> None:
            self.n = 1

        @cachedmethod
        def twice(self) -> int:
            return 2 * self.n

    with pytest.raises(TypeError, match="__weakref__"):
        Slotted().twice()
    obj = WeakSlotted()
    assert obj.twice() == obj.twice() == 2
    assert obj.twice.cache_info()[:2] == (1, 1)


def test_metadata_and_parameters() -> None:
    a = Account("a")
    assert Account.label.__doc__ == "Describe ``n``."
    assert Account.label.__name__ == "label"
    assert Account.label.__qualname__ == "Account.label"
    assert Account.label.__wrapped__.__name__ == "label"
    assert a.label.__name__ == "label"
    assert a.label.__self__ is a
    assert a.label.cache_parameters() == {
        "maxsize": 16,
        "typed": False,
        "ttl": None,
        "tti": None,
        "refresh_after": None,
        "wait_concurrent": False,
        "policy": "tiny_lfu",
    }
    assert a.bare.cache_parameters()["maxsize"] == 128


def test_bad_settings_raise_at_decoration_time() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        cachedmethod(maxsize=-1)
    with pytest.raises(TypeError, match="key"):
        cachedmethod(key=3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="ttl"):
        cachedmethod(ttl=-1)
    with pytest.raises(TypeError, match="callable"):
        cachedmethod()(3)  # type: ignore[arg-type]
