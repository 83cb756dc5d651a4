"""Keys follow dict equality across kinds of key objects (API.md section 3: "Keys: any hashable").

A backend may store some kinds of keys differently from others: the Rust backend hands int-valued
keys (ints, bools, integral floats) and exact ``str`` keys to moka by value and interns every other
key. So this file drives a cache and a ``dict`` side by side through every operation with keys that
are equal but of different kinds (``1``, ``1.0``, ``True``, ``Decimal(1)``, ``Fraction(1)``, int
subclasses, ``str`` subclasses, classes with their own ``__eq__``), equal strs that are distinct
objects, strs of every storage width, keys whose hashes are equal but whose values are not (``-1``
and ``-2``; ``1`` and ``2**61``), and keys at and beyond the edges of the 64-bit range, in any
order. Which of several equal key objects a listener event carries is not part of the contract, so
events are compared by equality.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from decimal import Decimal
from fractions import Fraction
from numbers import Number
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from moka_py_conformance._support import EventLog

MISSING = object()
HASH_MODULUS = 2**61 - 1  # CPython's numeric hash modulus: ints that differ by it share a hash


class IntLike:
    """A key of its own class that equals numbers of its value (its own ``__eq__`` and ``__hash__``)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __hash__(self) -> int:
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IntLike):
            return self.n == other.n
        if isinstance(other, Number):
            number: object = other
            return bool(number == self.n)
        return NotImplemented

    def __repr__(self) -> str:
        return f"IntLike({self.n})"


class StrLike:
    """A key of its own class that equals strs of its text (its own ``__eq__`` and ``__hash__``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StrLike):
            return self.text == other.text
        if isinstance(other, str):
            return self.text == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"StrLike({self.text!r})"


class PlainStr(str):
    """A str subclass that keeps str's equality."""


class LoudStr(str):
    """A str subclass with its own (str-equivalent) ``__eq__`` and ``__hash__``."""

    def __eq__(self, other: object) -> bool:
        return str(self) == other

    def __hash__(self) -> int:
        return str.__hash__(self)


def text_group(text: str) -> list[Hashable]:
    """Objects that are all equal to ``text``: two distinct str objects, subclasses, a str-like."""
    copy = "".join(list(text))  # an equal str, built at run time: not the same object
    assert copy == text and (copy is not text or len(text) < 2)
    return [text, copy, PlainStr(text), LoudStr(text), StrLike(text)]


class PlainInt(int):
    """An int subclass that keeps int's equality."""


class LoudInt(int):
    """An int subclass with its own (int-equivalent) ``__eq__`` and ``__hash__``."""

    def __eq__(self, other: object) -> bool:
        return int(self) == other

    def __hash__(self) -> int:
        return int.__hash__(self)


def numeric_group(n: int) -> list[Hashable]:
    """Objects that are all equal to ``n`` (and to each other)."""
    group: list[Hashable] = [n, PlainInt(n), LoudInt(n), Decimal(n), Fraction(n), IntLike(n)]
    if float(n) == n:
        group.append(float(n))
    if n in (0, 1):
        group.append(bool(n))
    return group


GROUPS: list[list[Hashable]] = [
    *(
        numeric_group(n)
        for n in (
            0,
            1,
            -1,
            -2,  # hash(-1) == hash(-2)
            2,
            10**9 + 7,
            HASH_MODULUS,  # hash 0, like 0
            HASH_MODULUS + 1,  # hash 1, like 1
            2**63 - 1,  # the 64-bit edges
            -(2**63),
            2**63,  # beyond them
            -(2**63) - 1,
            2**70,
        )
    ),
    [0.5, Fraction(1, 2), Decimal("0.5")],
    [float("inf"), Decimal("inf")],
    text_group("1"),
    text_group(""),
    text_group("key:10"),
    text_group("café"),  # 1 byte per character, not ASCII
    text_group("ключ"),  # 2 bytes per character
    text_group("鍵🔑"),  # 4 bytes per character
    [b"1"],
    [(1,), (1.0,), (True,)],
    [None],
]


def test_the_groups_are_classes_of_equal_keys() -> None:
    """The test's own premise: equal within a group, both ways; unequal across groups."""
    for gi, group in enumerate(GROUPS):
        for a in group:
            for b in group:
                assert a == b and b == a and hash(a) == hash(b), (a, b)
            for other in GROUPS[gi + 1 :]:
                for b in other:
                    assert a != b and b != a, (a, b)


Op = tuple[str, int, int]
ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "set", "get", "contains", "remove", "get_with"]),
        st.integers(0, len(GROUPS) - 1),
        st.integers(0, 20),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(calls=ops)
def test_operations_agree_with_a_dict(Moka: Any, calls: list[Op]) -> None:
    log = EventLog()
    cache = Moka(None, eviction_listener=log)
    model: dict[Hashable, int] = {}
    for step, (op, gi, vi) in enumerate(calls):
        group = GROUPS[gi]
        key = group[vi % len(group)]
        expected_events: list[tuple[Hashable, int, str]] = []
        if op == "set":
            if key in model:
                expected_events.append((key, model[key], "replaced"))
            cache.set(key, step)
            model[key] = step
        elif op == "get":
            assert cache.get(key, MISSING) == model.get(key, MISSING), (op, key)
        elif op == "contains":
            assert (key in cache) == (key in model), (op, key)
        elif op == "remove":
            if key in model:
                expected_events.append((key, model[key], "explicit"))
            assert cache.remove(key, MISSING) == model.pop(key, MISSING), (op, key)
        else:
            assert cache.get_with(key, lambda s=step: s) == model.setdefault(key, step), (op, key)
        assert log.take() == expected_events, (op, key)
    cache.run_pending_tasks()
    assert cache.count() == len(model)
    for stored, value in model.items():
        for key in GROUPS[next(i for i, g in enumerate(GROUPS) if stored in g)]:
            assert cache.get(key) == value, key


def race_equal_writers(Moka: Any, keys: int, kinds: tuple[Any, Any] = (int, Decimal)) -> Any:
    """One cache written by two threads, ``a(n)`` and ``b(n)`` for each ``n`` (``kinds = (a, b)``:
    ``n`` and ``Decimal(n)`` by default), while a third keeps running housekeeping (so writers often
    find moka busy and wait for it)."""
    cache = Moka(None)
    start = threading.Barrier(3)
    done = threading.Event()

    def write(kind: Any) -> None:
        start.wait()
        for n in range(keys):
            cache.set(kind(n), n)

    def churn() -> None:
        start.wait()
        while not done.is_set():
            cache.run_pending_tasks()

    writers = [threading.Thread(target=write, args=(kind,)) for kind in kinds]
    busy = threading.Thread(target=churn)
    for t in (*writers, busy):
        t.start()
    for t in writers:
        t.join()
    done.set()
    busy.join()
    cache.run_pending_tasks()
    return cache


def test_concurrent_writers_of_equal_keys_share_one_entry(Moka: Any) -> None:
    """Equal keys of different kinds written at the same time still make one entry per key."""
    keys = 64
    for _ in range(100):
        cache = race_equal_writers(Moka, keys)
        assert cache.count() == keys
        assert all(cache.get(n) == n and cache.get(Decimal(n)) == n for n in range(keys))


def str_of(n: int) -> str:
    return f"k{n}"


def str_like_of(n: int) -> StrLike:
    return StrLike(f"k{n}")


def test_concurrent_writers_of_equal_text_keys_share_one_entry(Moka: Any) -> None:
    """The same for ``str`` keys and equal keys of a class of their own."""
    keys = 64
    for _ in range(100):
        cache = race_equal_writers(Moka, keys, (str_of, str_like_of))
        assert cache.count() == keys
        assert all(cache.get(str_of(n)) == n and cache.get(str_like_of(n)) == n for n in range(keys))
