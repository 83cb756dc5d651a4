"""Bad input (API.md section 3): the stated error, with the documented message, and no change.

Every backend raises the same exception type with the same message, so that
switching backends never changes what an application sees.
"""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest

from moka_py_conformance._support import EventLog

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

THOUSAND_YEARS = 1000 * 365 * 24 * 3600
TTL_VALUE_MSG = "{} must be finite, > 0 and at most 1000 years (31536000000 seconds), got {!r}"
TTL_TYPE_MSG = "{} must be a number of seconds (int or float) or None, not {}"


def exact(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that matches ``message`` and nothing else."""
    return "^" + re.escape(message) + "$"


class BadHash:
    """A key whose ``__hash__`` raises."""

    def __hash__(self) -> int:
        raise ZeroDivisionError("hash failed")


class BadEq:
    """Keys that collide on hash and whose ``__eq__`` raises."""

    def __init__(self, tag: int) -> None:
        self.tag = tag

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        raise LookupError("eq failed")


def snapshot(cache: Any) -> tuple[Any, ...]:
    """What a test can observe of a cache: settled counters and every known key's value."""
    cache.run_pending_tasks()
    return (cache.count(), cache.weighted_size(), cache.get("a"), cache.get("b"), "a" in cache, "b" in cache)


@pytest.fixture
def filled(Moka: Any) -> tuple[Any, EventLog]:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.run_pending_tasks()
    log.take()
    return cache, log


# --- constructor ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "error", "message"),
    [
        (True, TypeError, "capacity must be an int or None, not bool"),
        (1.5, TypeError, "capacity must be an int or None, not float"),
        ("10", TypeError, "capacity must be an int or None, not str"),
        (-1, ValueError, "capacity must be >= 0, got -1"),
        (-(2**70), ValueError, f"capacity must be >= 0, got {-(2**70)}"),
        (2**64, ValueError, f"capacity must be at most 2**64 - 1, got {2**64}"),
    ],
)
def test_bad_capacity(Moka: Any, capacity: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=exact(message)):
        Moka(capacity)


@pytest.mark.parametrize("capacity", [0, 1, 2**64 - 1, None])
def test_capacity_bounds_accepted(Moka: Any, capacity: int | None) -> None:
    assert Moka(capacity).capacity == capacity


class IntSubclass(int):
    pass


def test_int_subclasses_are_ints(Moka: Any) -> None:
    cache = Moka(IntSubclass(5), ttl=IntSubclass(3), tti=IntSubclass(4))
    assert (cache.capacity, cache.ttl, cache.tti) == (5, 3.0, 4.0)
    cache.set("k", 1, ttl=IntSubclass(60), tti=IntSubclass(60))
    assert cache.get("k") == 1


BAD_DURATIONS: list[tuple[Any, type[Exception], str]] = [
    (True, TypeError, "bool"),
    ("1", TypeError, "str"),
    ([1], TypeError, "list"),
    (math.nan, ValueError, ""),
    (math.inf, ValueError, ""),
    (-math.inf, ValueError, ""),
    (0, ValueError, ""),
    (0.0, ValueError, ""),
    (-1, ValueError, ""),
    (-0.5, ValueError, ""),
    (THOUSAND_YEARS + 1, ValueError, ""),
    (float(THOUSAND_YEARS) * 2, ValueError, ""),
    (10**400, ValueError, ""),
]


def duration_message(name: str, value: Any, error: type[Exception], type_name: str) -> str:
    if error is TypeError:
        return TTL_TYPE_MSG.format(name, type_name)
    return TTL_VALUE_MSG.format(name, value)


@pytest.mark.parametrize("name", ["ttl", "tti"])
@pytest.mark.parametrize(("value", "error", "type_name"), BAD_DURATIONS)
def test_bad_cache_wide_duration(
    Moka: Any, name: str, value: Any, error: type[Exception], type_name: str
) -> None:
    with pytest.raises(error, match=exact(duration_message(name, value, error, type_name))):
        Moka(10, **{name: value})


@pytest.mark.parametrize("name", ["ttl", "tti"])
@pytest.mark.parametrize("value", [1, 0.001, 1e-9, THOUSAND_YEARS, float(THOUSAND_YEARS)])
def test_duration_bounds_accepted(Moka: Any, name: str, value: float) -> None:
    cache = Moka(10, **{name: value})
    assert getattr(cache, name) == float(value)
    assert isinstance(getattr(cache, name), float)


@pytest.mark.parametrize(
    ("policy", "error", "message"),
    [
        ("lfu", ValueError, "policy must be 'tiny_lfu' or 'lru', got 'lfu'"),
        ("", ValueError, "policy must be 'tiny_lfu' or 'lru', got ''"),
        ("LRU", ValueError, "policy must be 'tiny_lfu' or 'lru', got 'LRU'"),
        (None, TypeError, "policy must be 'tiny_lfu' or 'lru', not NoneType"),
        (1, TypeError, "policy must be 'tiny_lfu' or 'lru', not int"),
    ],
)
def test_bad_policy(Moka: Any, policy: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=exact(message)):
        Moka(10, policy=policy)


@pytest.mark.parametrize("argument", ["eviction_listener", "weigher"])
@pytest.mark.parametrize(("value", "type_name"), [(1, "int"), ("f", "str"), (object(), "object")])
def test_non_callable_hooks(Moka: Any, argument: str, value: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=exact(f"{argument} must be callable or None, not {type_name}")):
        Moka(10, **{argument: value})


def test_arguments_checked_in_parameter_order(Moka: Any) -> None:
    with pytest.raises(TypeError, match="^capacity"):
        Moka("x", ttl="y", tti="z", eviction_listener=1, policy=3, weigher=1)
    with pytest.raises(TypeError, match="^ttl"):
        Moka(1, ttl="y", tti="z", eviction_listener=1, policy=3, weigher=1)
    with pytest.raises(TypeError, match="^tti"):
        Moka(1, tti="z", eviction_listener=1, policy=3, weigher=1)
    with pytest.raises(TypeError, match="^eviction_listener"):
        Moka(1, eviction_listener=1, policy=3, weigher=1)
    with pytest.raises(TypeError, match="^policy"):
        Moka(1, policy=3, weigher=1)


def test_call_arguments_checked_before_the_key(Moka: Any) -> None:
    """``get_with`` checks its initializer, then ttl, then tti, and only then hashes the key; ``set``
    checks ttl and tti before hashing the key."""
    cache = Moka(1)
    with pytest.raises(TypeError, match="^initializer"):
        cache.get_with([], 1, ttl="x", tti="y")
    with pytest.raises(TypeError, match="^ttl"):
        cache.get_with([], lambda: 1, ttl="x", tti="y")
    with pytest.raises(TypeError, match="^tti"):
        cache.get_with([], lambda: 1, tti="y")
    with pytest.raises(TypeError, match="^ttl"):
        cache.set([], 1, ttl="x", tti="y")
    with pytest.raises(TypeError, match="^tti"):
        cache.set([], 1, tti="y")


# --- per-entry durations ----------------------------------------------------------------------


def test_per_entry_duration_bounds_accepted(Moka: Any) -> None:
    cache = Moka(10)
    cache.set("a", 1, ttl=THOUSAND_YEARS, tti=float(THOUSAND_YEARS))
    cache.get_with("b", lambda: 2, ttl=float(THOUSAND_YEARS), tti=THOUSAND_YEARS)
    assert (cache.get("a"), cache.get("b")) == (1, 2)
    cache.set("c", 3, ttl=1e-9)  # accepted, and expired at once


@pytest.mark.parametrize("name", ["ttl", "tti"])
@pytest.mark.parametrize(("value", "error", "type_name"), BAD_DURATIONS)
def test_bad_per_entry_duration_changes_nothing(
    filled: tuple[Any, EventLog], name: str, value: Any, error: type[Exception], type_name: str
) -> None:
    cache, log = filled
    before = snapshot(cache)
    message = exact(duration_message(name, value, error, type_name))
    with pytest.raises(error, match=message):
        cache.set("a", 100, **{name: value})
    with pytest.raises(error, match=message):
        cache.set("new", 100, **{name: value})
    with pytest.raises(error, match=message):
        cache.get_with("new", lambda: 100, **{name: value})
    assert snapshot(cache) == before
    assert "new" not in cache
    assert log.take() == []


def test_non_callable_initializer(filled: tuple[Any, EventLog]) -> None:
    cache, log = filled
    before = snapshot(cache)
    with pytest.raises(TypeError, match=exact("initializer must be callable, not int")):
        cache.get_with("new", 5)
    with pytest.raises(TypeError, match=exact("initializer must be callable, not NoneType")):
        cache.get_with("a", None)
    assert snapshot(cache) == before
    assert log.take() == []


# --- weigher ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        (-1, ValueError, "weigher must return an int >= 0, got -1"),
        (-(2**70), ValueError, f"weigher must return an int >= 0, got {-(2**70)}"),
        (1.0, TypeError, "weigher must return an int, not float"),
        (True, TypeError, "weigher must return an int, not bool"),
        (None, TypeError, "weigher must return an int, not NoneType"),
        ("3", TypeError, "weigher must return an int, not str"),
    ],
)
def test_bad_weigher_result_changes_nothing(
    Moka: Any, result: Any, error: type[Exception], message: str
) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log, weigher=lambda k, v: result if v == "bad" else 1)
    cache.set("a", 1)
    cache.set("b", 2)
    before = snapshot(cache)
    log.take()
    with pytest.raises(error, match=exact(message)):
        cache.set("a", "bad")
    with pytest.raises(error, match=exact(message)):
        cache.set("new", "bad")
    with pytest.raises(error, match=exact(message)):
        cache.get_with("new", lambda: "bad")
    assert snapshot(cache) == before
    assert "new" not in cache
    assert log.take() == []


def test_weigher_exception_propagates_and_changes_nothing(Moka: Any) -> None:
    log = EventLog()

    def weigher(key: Any, value: Any) -> int:
        if value == "boom":
            raise OSError("weigher failed")
        return 1

    cache = Moka(10, eviction_listener=log, weigher=weigher)
    cache.set("a", 1)
    before = snapshot(cache)
    log.take()
    with pytest.raises(OSError, match="weigher failed"):
        cache.set("a", "boom")
    with pytest.raises(OSError, match="weigher failed"):
        cache.get_with("b", lambda: "boom")
    assert snapshot(cache) == before
    assert log.take() == []


def test_weigher_called_with_key_and_value_once_per_insert(Moka: Any) -> None:
    calls: list[tuple[Any, Any]] = []

    def weigher(key: Any, value: Any) -> int:
        calls.append((key, value))
        return len(value)

    cache = Moka(100, weigher=weigher)
    cache.set("a", "xyz")
    cache.get_with("b", lambda: "pq")
    cache.get_with("b", lambda: "never")
    cache.run_pending_tasks()
    assert calls == [("a", "xyz"), ("b", "pq")]
    assert cache.weighted_size() == 5
    assert cache.count() == 2


def test_huge_weight_is_clamped(Moka: Any) -> None:
    cache = Moka(None, weigher=lambda k, v: v)
    cache.set("big", 2**40)
    cache.set("small", 3)
    cache.run_pending_tasks()
    assert cache.weighted_size() == 2**32 - 1 + 3


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [[1], {"a": 1}, {1}, bytearray(b"x")])
def test_unhashable_keys_raise_like_dict(filled: tuple[Any, EventLog], key: Any) -> None:
    cache, log = filled
    before = snapshot(cache)
    with pytest.raises(TypeError) as expected:
        {}[key]
    operations: list[Callable[[], object]] = [
        lambda: cache.set(key, 1),
        lambda: cache.get(key),
        lambda: cache.get_with(key, lambda: 1),
        lambda: cache.remove(key),
        lambda: key in cache,
    ]
    for operation in operations:
        with pytest.raises(TypeError) as raised:
            operation()
        assert str(raised.value) == str(expected.value)
    assert snapshot(cache) == before
    assert log.take() == []


def test_raising_hash_propagates_and_changes_nothing(filled: tuple[Any, EventLog]) -> None:
    cache, log = filled
    before = snapshot(cache)
    key = BadHash()
    operations: list[Callable[[], object]] = [
        lambda: cache.set(key, 1),
        lambda: cache.get(key),
        lambda: cache.get_with(key, lambda: 1),
        lambda: cache.remove(key),
        lambda: key in cache,
    ]
    for operation in operations:
        with pytest.raises(ZeroDivisionError, match="hash failed"):
            operation()
    assert snapshot(cache) == before
    assert log.take() == []


def test_raising_eq_propagates_and_changes_nothing(Moka: Any) -> None:
    log = EventLog()
    cache = Moka(10, eviction_listener=log)
    first, second = BadEq(1), BadEq(2)
    cache.set(first, "first")
    cache.run_pending_tasks()
    assert cache.get(first) == "first"  # identity short-cuts __eq__, as in dict
    operations: list[Callable[[], object]] = [
        lambda: cache.set(second, "second"),
        lambda: cache.get(second),
        lambda: cache.get_with(second, lambda: "second"),
        lambda: cache.remove(second),
        lambda: second in cache,
    ]
    for operation in operations:
        with pytest.raises(LookupError, match="eq failed"):
            operation()
    cache.run_pending_tasks()
    assert cache.get(first) == "first"
    assert cache.count() == 1
    assert log.take() == []


# --- pickling ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [pickle.dumps, copy.copy, copy.deepcopy, lambda c: pickle.dumps(c, protocol=0)],
    ids=["pickle", "copy", "deepcopy", "pickle-0"],
)
def test_pickling_refused(Moka: Any, operation: Any) -> None:
    cache = Moka(10)
    cache.set("a", 1)
    with pytest.raises(TypeError, match=exact("cannot pickle 'Moka' object")):
        operation(cache)
    assert cache.get("a") == 1
