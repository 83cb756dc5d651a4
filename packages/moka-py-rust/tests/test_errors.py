"""Argument errors: exact types and messages of COMMON.md, nothing changed."""

import math

import pytest

YEARS = 31536000000


class IntSub(int):
    pass


@pytest.mark.parametrize(
    "value, exc, msg",
    [
        ("10", TypeError, "capacity must be an int or None, not str"),
        (True, TypeError, "capacity must be an int or None, not bool"),
        (1.0, TypeError, "capacity must be an int or None, not float"),
        (-1, ValueError, "capacity must be >= 0, got -1"),
        (-(2**70), ValueError, f"capacity must be >= 0, got {-(2**70)}"),
        (2**64, ValueError, f"capacity must be at most 2**64 - 1, got {2**64}"),
    ],
)
def test_capacity(Moka, value, exc, msg):
    with pytest.raises(exc) as info:
        Moka(value)
    assert str(info.value) == msg


def test_capacity_limits_ok(Moka):
    assert Moka(2**64 - 1).capacity == 2**64 - 1
    assert Moka(IntSub(5)).capacity == 5


def bad_duration(name, x):
    return f"{name} must be finite, > 0 and at most 1000 years ({YEARS} seconds), got {x!r}"


DURATION_CASES = [
    ("1", TypeError, "{name} must be a number of seconds (int or float) or None, not str"),
    (True, TypeError, "{name} must be a number of seconds (int or float) or None, not bool"),
    ([1], TypeError, "{name} must be a number of seconds (int or float) or None, not list"),
    (0, ValueError, None),
    (-1, ValueError, None),
    (0.0, ValueError, None),
    (-0.5, ValueError, None),
    (math.nan, ValueError, None),
    (math.inf, ValueError, None),
    (YEARS + 1, ValueError, None),
    (float(YEARS) * 1.001, ValueError, None),
    (2**80, ValueError, None),
]


@pytest.mark.parametrize("name", ["ttl", "tti"])
@pytest.mark.parametrize("value, exc, template", DURATION_CASES)
def test_durations_constructor(Moka, name, value, exc, template):
    msg = template.format(name=name) if template else bad_duration(name, value)
    with pytest.raises(exc) as info:
        Moka(10, **{name: value})
    assert str(info.value) == msg


@pytest.mark.parametrize("name", ["ttl", "tti"])
@pytest.mark.parametrize("value, exc, template", DURATION_CASES)
def test_durations_per_entry(Moka, name, value, exc, template):
    msg = template.format(name=name) if template else bad_duration(name, value)
    c = Moka(10)
    with pytest.raises(exc) as info:
        c.set("k", 1, **{name: value})
    assert str(info.value) == msg
    with pytest.raises(exc) as info:
        c.get_with("k", lambda: 1, **{name: value})
    assert str(info.value) == msg
    assert "k" not in c


def test_duration_limits_ok(Moka):
    c = Moka(10, ttl=YEARS, tti=float(YEARS))
    assert c.ttl == float(YEARS) and c.tti == float(YEARS)
    c.set(1, 1, ttl=YEARS, tti=1e-9)
    assert Moka(1, ttl=IntSub(3)).ttl == 3.0


@pytest.mark.parametrize(
    "value, exc, msg",
    [
        (None, TypeError, "policy must be 'tiny_lfu' or 'lru', not NoneType"),
        (1, TypeError, "policy must be 'tiny_lfu' or 'lru', not int"),
        ("LRU", ValueError, "policy must be 'tiny_lfu' or 'lru', got 'LRU'"),
        ("", ValueError, "policy must be 'tiny_lfu' or 'lru', got ''"),
    ],
)
def test_policy(Moka, value, exc, msg):
    with pytest.raises(exc) as info:
        Moka(10, policy=value)
    assert str(info.value) == msg


def test_callables(Moka):
    with pytest.raises(TypeError) as info:
        Moka(10, eviction_listener=3)
    assert str(info.value) == "eviction_listener must be callable or None, not int"
    with pytest.raises(TypeError) as info:
        Moka(10, weigher="w")
    assert str(info.value) == "weigher must be callable or None, not str"
    c = Moka(10)
    with pytest.raises(TypeError) as info:
        c.get_with("k", 42)
    assert str(info.value) == "initializer must be callable, not int"


def test_validation_order(Moka):
    # capacity before ttl before tti before listener before policy before weigher
    with pytest.raises(TypeError, match="^capacity"):
        Moka("x", ttl="x", tti="x", eviction_listener=1, policy=1, weigher=1)
    with pytest.raises(TypeError, match="^ttl"):
        Moka(1, ttl="x", tti="x", eviction_listener=1, policy=1, weigher=1)
    with pytest.raises(TypeError, match="^tti"):
        Moka(1, tti="x", eviction_listener=1, policy=1, weigher=1)
    with pytest.raises(TypeError, match="^eviction_listener"):
        Moka(1, eviction_listener=1, policy=1, weigher=1)
    with pytest.raises(TypeError, match="^policy"):
        Moka(1, policy=1, weigher=1)
    c = Moka(1)
    # get_with: initializer, then ttl, then tti, then the key
    with pytest.raises(TypeError, match="^initializer"):
        c.get_with([], 1, ttl="x")
    with pytest.raises(TypeError, match="^ttl"):
        c.get_with([], lambda: 1, ttl="x", tti="x")
    with pytest.raises(TypeError, match="^tti"):
        c.get_with([], lambda: 1, tti="x")
    # set: ttl / tti before hashing the key
    with pytest.raises(TypeError, match="^ttl"):
        c.set([], 1, ttl="x")


@pytest.mark.parametrize(
    "result, exc, msg",
    [
        ("1", TypeError, "weigher must return an int, not str"),
        (True, TypeError, "weigher must return an int, not bool"),
        (1.0, TypeError, "weigher must return an int, not float"),
        (None, TypeError, "weigher must return an int, not NoneType"),
        (-1, ValueError, "weigher must return an int >= 0, got -1"),
        (-(2**70), ValueError, f"weigher must return an int >= 0, got {-(2**70)}"),
    ],
)
def test_weigher_results(Moka, result, exc, msg):
    c = Moka(10, weigher=lambda k, v: result)
    with pytest.raises(exc) as info:
        c.set("k", "v")
    assert str(info.value) == msg
    assert "k" not in c
    with pytest.raises(exc):
        c.get_with("k", lambda: "v")
    assert "k" not in c


def test_weigher_exception_propagates(Moka):
    class Boom(Exception):
        pass

    def weigher(k, v):
        raise Boom

    c = Moka(10, weigher=weigher)
    with pytest.raises(Boom):
        c.set("k", "v")
    assert "k" not in c
    c.run_pending_tasks()
    assert c.count() == 0


def test_unhashable_key(Moka):
    c = Moka(10)
    for op in [lambda: c.set([], 1), lambda: c.get([]), lambda: c.remove([]),
               lambda: [] in c, lambda: c.get_with([], lambda: 1)]:
        with pytest.raises(TypeError, match="unhashable type: 'list'"):
            op()
