"""Construction, properties, repr, pickling, typing, validation and GC."""

from __future__ import annotations

import copy
import gc
import pickle
import types
import weakref
from typing import Any

import moka_py_pure
import pytest
from moka_py_pure import Moka


def test_backend_attributes() -> None:
    assert moka_py_pure.name == "pure"
    assert moka_py_pure.priority == 10
    assert moka_py_pure.exact is True
    assert moka_py_pure.Moka is Moka
    assert moka_py_pure.__version__ == "1.0.0.dev0"


def test_properties_and_repr() -> None:
    c: Moka[str, int] = Moka(100, ttl=10, tti=2.5, policy="lru")
    assert (c.capacity, c.ttl, c.tti, c.policy) == (100, 10.0, 2.5, "lru")
    assert isinstance(c.ttl, float)
    assert repr(c) == "Moka(capacity=100, ttl=10.0, tti=2.5, policy='lru', backend='pure')"
    assert repr(Moka(None)) == "Moka(capacity=None, ttl=None, tti=None, policy='tiny_lfu', backend='pure')"


def test_generic_alias() -> None:
    alias = Moka[str, int]
    assert isinstance(alias, types.GenericAlias)
    assert alias.__origin__ is Moka


def test_pickling_is_refused() -> None:
    c: Moka[Any, Any] = Moka(10)
    for f in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot pickle 'Moka' object"):
            f(c)


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"capacity": "1"}, TypeError, "capacity must be an int or None, not str"),
        ({"capacity": True}, TypeError, "capacity must be an int or None, not bool"),
        ({"capacity": -1}, ValueError, "capacity must be >= 0, got -1"),
        ({"capacity": 2**64}, ValueError, f"capacity must be at most 2**64 - 1, got {2**64}"),
        ({"ttl": "1"}, TypeError, "ttl must be a number of seconds (int or float) or None, not str"),
        ({"tti": False}, TypeError, "tti must be a number of seconds (int or float) or None, not bool"),
        (
            {"ttl": 0},
            ValueError,
            "ttl must be finite, > 0 and at most 1000 years (31536000000 seconds), got 0",
        ),
        (
            {"tti": float("nan")},
            ValueError,
            "tti must be finite, > 0 and at most 1000 years (31536000000 seconds), got nan",
        ),
        (
            {"ttl": 31_536_000_001},
            ValueError,
            "ttl must be finite, > 0 and at most 1000 years (31536000000 seconds), got 31536000001",
        ),
        ({"policy": 1}, TypeError, "policy must be 'tiny_lfu' or 'lru', not int"),
        ({"policy": "LRU"}, ValueError, "policy must be 'tiny_lfu' or 'lru', got 'LRU'"),
        ({"eviction_listener": 3}, TypeError, "eviction_listener must be callable or None, not int"),
        ({"weigher": "w"}, TypeError, "weigher must be callable or None, not str"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], exc: type, message: str) -> None:
    args = {"capacity": 10, **kwargs}
    with pytest.raises(exc) as info:
        Moka(**args)
    assert str(info.value) == message


def test_validation_order_and_nothing_changes() -> None:
    c: Moka[Any, Any] = Moka(10, weigher=lambda k, v: v)
    with pytest.raises(TypeError, match=r"^ttl must"):
        c.set([], 1, ttl="x")  # type: ignore[arg-type]  # durations are checked before the key is hashed
    with pytest.raises(TypeError, match="unhashable"):
        c.set([], 1)
    with pytest.raises(TypeError, match=r"^weigher must return an int, not str"):
        c.set("a", "x")
    with pytest.raises(ValueError, match=r"^weigher must return an int >= 0, got -1"):
        c.set("a", -1)
    with pytest.raises(TypeError, match=r"^initializer must be callable, not int"):
        c.get_with([], 1, ttl="x")  # type: ignore[arg-type]  # the initializer is checked first
    assert "a" not in c and c._wlog == []
    bad: Moka[Any, Any] = Moka(10, weigher=lambda k, v: 1 // 0)
    with pytest.raises(ZeroDivisionError):  # a weigher's own exception propagates unchanged
        bad.set("a", 1)
    assert "a" not in bad and bad._wlog == []


def test_float_durations_round_to_nanoseconds() -> None:
    from moka_py_pure._validation import duration_ns

    assert duration_ns("ttl", 1) == 1_000_000_000
    assert duration_ns("ttl", 0.1) == 100_000_000
    assert duration_ns("ttl", 1e-9) == 1
    assert duration_ns("ttl", 31_536_000_000) == 31_536_000_000 * 10**9


def test_bad_key_hash_or_eq_propagates() -> None:
    class Bad:
        def __hash__(self) -> int:
            raise RuntimeError("no hash")

    c: Moka[Any, Any] = Moka(10)
    for op in (lambda: c.get(Bad()), lambda: c.set(Bad(), 1), lambda: c.remove(Bad()), lambda: Bad() in c):
        with pytest.raises(RuntimeError, match="no hash"):
            op()

    class BadEq:
        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no eq")

    c.set(1, "one")  # hash(1) == 1: BadEq() probes the same slot
    with pytest.raises(RuntimeError, match="no eq"):
        c.set(BadEq(), 2)
    assert c.get(1) == "one"
    c.run_pending_tasks()
    assert c.count() == 1


def test_self_referencing_cache_is_collected() -> None:
    c: Moka[Any, Any] = Moka(10, eviction_listener=lambda k, v, cause: None)
    c.set("self", c)
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None


def test_none_values_and_defaults() -> None:
    c: Moka[Any, Any] = Moka(10)
    c.set("n", None)
    sentinel = object()
    assert c.get("n", sentinel) is None
    assert c.get("missing", sentinel) is sentinel
    assert c.remove("n", sentinel) is None
    assert c.remove("n", sentinel) is sentinel
