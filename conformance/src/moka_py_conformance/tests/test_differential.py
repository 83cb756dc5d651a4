"""Differential tier, size decisions: lockstep with the reference for backends that claim ``exact``.

Hypothesis drives the backend under test and the pure reference (``moka_py_pure``) with the same
calls (see ``_lockstep.py``); at every sync point (``run_pending_tasks()``) the returned values, the
listener events in order, ``count()`` and ``weighted_size()`` must be identical. Both policies, unit
weights and a weigher (zero weights and weights above the capacity included), with a sync point after
every call or with moka's batching (sync points up to 200 calls apart, so that the 64-record flush
points decide inside a batch, and reads are applied before writes).

Loads take part (see ``_lockstep.py``): ``get_with`` and ``aget_with`` hits and misses, some with
an initializer that raises, ``get_with`` with a ``refresh_after`` that is never due, and ``aget_with``
with one that every hit is past: each such hit starts a reload, which writes over the value it
found (``"replaced"``), or fails, or has its write refused by a ``set``, ``remove`` or ``clear``
made while it is held, and which a second hit must not duplicate. The op waits for its reload, so
the reload's write falls at the same point of both caches' logs.

Two tests: short call lists that hypothesis builds and shrinks, and long traces (from a seed that
hypothesis draws) that are long enough for the frequency sketch to halve its counters. The keys are
ints of one shape per trace (``KEY_SHAPES``): the sketch and the map see ``hash(key)``, so a backend
that computes it its own way must agree with Python where ``hash()`` is not the identity.

Time matters in one way here: moka's 300 ms housekeeping trigger. Each sync point restarts that
timer, so a batch that ran longer than ``BATCH_TIME_LIMIT`` (a stall on a loaded machine) could have
been cut by the timer in one cache and not the other: such a trace is retried with fresh caches, and
discarded (never failed) if it stalls every time. Expiry in real time has its own module,
``test_differential_expiry``.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from moka_py_conformance._lockstep import DUE, DURING, NEVER, OTHER_KINDS, Lockstep, Op, Overran, weigh

BATCH_TIME_LIMIT = 0.15  # seconds; far below the 300 ms trigger
ATTEMPTS = 3  # runs of one trace before it is discarded as stalled
LONG_TRACE = 4_000  # calls: the sketch halves its counters every 10 x max(128, capacity) increments

KINDS = ["set", "get", "get_with", "remove", "contains", "clear", "run_pending_tasks", *OTHER_KINDS]
KINDS += ["aget_with"]

M61 = (1 << 61) - 1  # CPython's modulus for numeric hashes
KEY_SHAPES: dict[str, Callable[[int], int]] = {
    "small": lambda i: i,  # hash(i) == i
    "negative": lambda i: -i,  # hash(-1) == hash(-2) == -2
    "modulus": lambda i: M61 - 4 + i,  # hash() wraps to 0 at 2**61 - 1
    "i64 ends": lambda i: (1 << 63) - 1 - i // 2 if i % 2 else -(1 << 63) + i // 2,
    "beyond i64": lambda i: (1 << 64) + i * M61,  # one hash() for all
}
"""Distinct int keys for the key indexes of a trace, by shape."""
KIND_WEIGHTS = [30, 35, 20, 8, 4, 1, 2, *([2] * len(OTHER_KINDS)), 14]

# How a load op is made: (fails, refreshes, during); see ``load_op``.
LOAD_VARIANTS = st.tuples(
    st.sampled_from([False, False, False, True]),
    st.booleans(),
    st.sampled_from([None, None, *DURING]),
)


def load_op(kind: str, key: int, serial: int, others: tuple[int, ...], variant: tuple[Any, ...]) -> Op:
    """The op; a ``get_with`` or ``aget_with`` one made as ``variant`` says (others ignore it):
    its initializer raises (``fails``), it has a ``refresh_after`` (``NEVER`` due for ``get_with``,
    ``DUE`` for ``aget_with``), and what an ``aget_with`` calls while its reload is held."""
    if kind not in ("get_with", "aget_with"):
        return Op(kind, key, serial, others=others)
    fails, refreshes, during = variant
    if kind == "get_with":
        return Op(kind, key, serial, fails=fails, refresh=NEVER if refreshes else None)
    return Op(kind, key, serial, fails=fails, refresh=DUE if refreshes else None, during=during)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    capacity = draw(st.integers(1, 64) | st.sampled_from([0, 1, 2, 3]))
    return {
        "capacity": capacity,
        "keys": draw(st.integers(capacity + 1, 3 * capacity + 8)),
        "policy": draw(st.sampled_from(["tiny_lfu", "lru"])),
        "weigher": draw(st.booleans()),
        # most calls between two sync points (an explicit run_pending_tasks() may come sooner)
        "batch": draw(st.sampled_from([1, 16, 100, 200])),
        "shape": draw(st.sampled_from(sorted(KEY_SHAPES))),
        # without a listener no events are compared, but stats() still counts every removal
        "listener": draw(st.booleans()),
    }


def run_calls(reference: Any, Moka: Any, config: dict[str, Any], calls: list[Op]) -> None:
    """One trace: the calls in lockstep, compared at every sync point. Raises ``Overran`` on a stall."""
    weigher = weigh if config["weigher"] else None
    pair = Lockstep(
        reference,
        Moka,
        config["capacity"],
        policy=config["policy"],
        weigher=weigher,
        listener=config["listener"],
    )
    try:
        compare_calls(pair, config, calls)
    finally:
        pair.close()


def compare_calls(pair: Lockstep, config: dict[str, Any], calls: list[Op]) -> None:
    shape = KEY_SHAPES[config["shape"]]
    started = time.monotonic()
    pending = 0
    for call in calls:
        if call.kind != "run_pending_tasks":
            shaped = tuple(shape(k) for k in call.others)
            pair.apply(dataclasses.replace(call, key=shape(call.key), others=shaped))
            pending += 1
            if pending < config["batch"]:
                continue
        pair.sync()
        pending = 0
        if time.monotonic() - started > BATCH_TIME_LIMIT:
            raise Overran
        pair.compare()
        started = time.monotonic()
    pair.sync()
    if time.monotonic() - started > BATCH_TIME_LIMIT:
        raise Overran
    pair.compare()


def run_with_retries(reference: Any, Moka: Any, config: dict[str, Any], calls: list[Op]) -> None:
    for _ in range(ATTEMPTS):
        try:
            run_calls(reference, Moka, config, calls)
            return
        except Overran:
            continue
    reject()  # the machine was too busy every time: no verdict on this trace


@st.composite
def call_lists(draw: st.DrawFn, keys: int) -> list[Op]:
    kinds = st.sampled_from([kind for kind, weight in zip(KINDS, KIND_WEIGHTS) for _ in range(weight)])
    key = st.integers(0, keys - 1)
    drawn = draw(st.lists(st.tuples(kinds, key, st.lists(key, max_size=3), LOAD_VARIANTS), max_size=200))
    return [
        load_op(kind, k, serial, tuple(others), variant)
        for serial, (kind, k, others, variant) in enumerate(drawn)
    ]


def more_keys(rng: random.Random, keys: int) -> tuple[int, ...]:
    return tuple(rng.randrange(keys) for _ in range(rng.randrange(4)))


def random_calls(rng: random.Random, keys: int, count: int) -> list[Op]:
    kinds = rng.choices(KINDS, weights=KIND_WEIGHTS, k=count)
    return [
        load_op(kind, rng.randrange(keys), serial, more_keys(rng, keys), random_variant(rng))
        for serial, kind in enumerate(kinds)
    ]


def random_variant(rng: random.Random) -> tuple[Any, ...]:
    return (rng.random() < 0.25, rng.random() < 0.5, rng.choice([None, None, *DURING]))


_TOLERATE_REJECTS = [*settings().suppress_health_check, HealthCheck.filter_too_much]


@settings(suppress_health_check=_TOLERATE_REJECTS)
@given(data=st.data(), config=configurations())
def test_lockstep_size_decisions(
    reference: Any, Moka: Any, data: st.DataObject, config: dict[str, Any]
) -> None:
    calls = data.draw(call_lists(config["keys"]), label="calls")
    run_with_retries(reference, Moka, config, calls)


@settings(max_examples=max(4, settings().max_examples // 10), suppress_health_check=_TOLERATE_REJECTS)
@given(config=configurations(), seed=st.integers(0, 2**32 - 1))
def test_lockstep_long_traces(reference: Any, Moka: Any, config: dict[str, Any], seed: int) -> None:
    calls = random_calls(random.Random(seed), config["keys"], LONG_TRACE)
    run_with_retries(reference, Moka, config, calls)


def test_lockstep_runs_at_all(reference: Any, Moka: Any) -> None:
    """Guards the tests above against comparing nothing: a trace with known evictions compares them."""
    pair = Lockstep(reference, Moka, 2, policy="lru")
    for serial in range(4):
        pair.apply(Op("set", serial, serial))
    pair.sync()
    events = [log.events[:] for log in pair.logs]
    assert events[0] == events[1] == [(0, 0, "size"), (1, 1, "size")]
    pair.compare()


def test_lockstep_compares_evictions_without_a_listener(reference: Any, Moka: Any) -> None:
    """Without a listener there are no events to compare, but stats() counts the same removals."""
    pair = Lockstep(reference, Moka, 2, policy="lru", listener=False)
    for serial in range(4):
        pair.apply(Op("set", serial, serial))
    pair.apply(Op("set", 3, 3))
    pair.apply(Op("remove", 2, 5))
    pair.sync()
    for cache in pair.caches:
        stats = cache.stats()
        assert dict(stats.evictions) == {"size": 2, "replaced": 1, "explicit": 1, "expired": 0}
        assert stats.eviction_weight == 2
    assert pair.logs[0].events == pair.logs[1].events == []
    pair.compare()


@pytest.mark.parametrize(
    ("during", "events", "left"),
    [
        (None, [(1, 1, "replaced")], 2),  # the reload writes over the value the hit returned
        ("set", [(1, 1, "replaced")], 2 + 6 * 10**9),  # the set wins; the reload writes nothing
        ("remove", [(1, 1, "explicit")], "missing"),  # and brings nothing back
        ("hit", [(1, 1, "replaced")], 2),  # a second hit starts no second reload
    ],
)
def test_lockstep_compares_refreshes(
    reference: Any, Moka: Any, during: str | None, events: list[Any], left: Any
) -> None:
    """Guards the refresh ops against comparing nothing: a due aget_with hit's reload runs, on both
    caches, before the op returns; what it wrote (or did not) is seen at once."""
    pair = Lockstep(reference, Moka, 10)
    try:
        pair.apply(Op("set", 1, 1))
        pair.apply(Op("aget_with", 1, 2, refresh=DUE, during=during))
        pair.apply(Op("peek", 1))
        for cache, log in zip(pair.caches, pair.logs):
            assert log.events == events
            assert cache.peek(1, "missing") == left
            assert cache.stats().loads == 1
        pair.sync()
        pair.compare()
    finally:
        pair.close()


@pytest.mark.parametrize("bad", ["results", "events"])
def test_lockstep_compare_notices_a_difference(reference: Any, Moka: Any, bad: str) -> None:
    """The comparison itself can fail: a difference in returned values or in events is reported."""
    pair = Lockstep(reference, Moka, 4)
    pair.apply(Op("set", 1, 1))
    if bad == "results":
        pair.results[1][-1] = "something else"
    else:
        pair.logs[1](1, 1, "explicit")
    pair.sync()
    with pytest.raises(AssertionError, match="differ from the reference"):
        pair.compare()
