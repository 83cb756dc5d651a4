"""Lockstep comparison with the reference for backends that claim ``exact`` (API.md section 4).

The backend under test and the pure reference (``moka_py_pure``) receive the same random
operations on int keys (whose hashes are stable across processes). At every sync point
(``run_pending_tasks()``), the listener events (key, value, cause, in order), every returned value,
``count()`` and ``weighted_size()`` must be identical.

Only size-based decisions are compared here, so time matters in one way: moka's 300 ms housekeeping
trigger. Each sync point restarts that timer; a batch that took longer than ``BATCH_TIME_LIMIT`` (a
stall on a loaded machine) could have been cut by the timer in one cache and not the other, so such a
trace is retried with fresh caches instead of being compared.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from moka_py_conformance._support import EventLog

OPS_PER_CONFIGURATION = 20_000
BATCH_TIME_LIMIT = 0.15  # seconds; far below the 300 ms trigger
MAX_RETRIES = 20


class TimingStall(Exception):
    """A batch between sync points ran so long that moka's 300 ms trigger might have fired."""


@pytest.fixture(scope="module")
def reference(backend: Any) -> Any:
    if not getattr(backend, "exact", False):
        pytest.skip(f"backend {backend.name!r} does not claim exact (moka-identical) decisions")
    import moka_py_pure

    if backend is moka_py_pure:
        pytest.skip("the pure backend is the reference itself")
    return moka_py_pure.Moka


def weigh(key: int, value: int) -> int:
    return (key * 7 + value) % 5  # 0 to 4: zero weights included


@dataclass
class Side:
    cache: Any
    log: EventLog = field(default_factory=EventLog)
    results: list[Any] = field(default_factory=list)


def make_pair(reference: Any, Moka: Any, capacity: int, policy: str, weighted: bool) -> tuple[Side, Side]:
    logs = EventLog(), EventLog()
    kwargs: dict[str, Any] = {"policy": policy, "weigher": weigh if weighted else None}
    # Created back to back so that their clocks (and 300 ms timers) start together.
    left = Side(reference(capacity, eviction_listener=logs[0], **kwargs), logs[0])
    right = Side(Moka(capacity, eviction_listener=logs[1], **kwargs), logs[1])
    return left, right


Operation = Callable[[Any], Any]


def random_operation(rng: random.Random, keys: int, serial: int) -> tuple[str, Operation]:
    key = rng.randrange(keys)
    kind = rng.choices(
        ["set", "get", "get_with", "remove", "clear", "run_pending_tasks"],
        weights=[30, 35, 20, 8, 1, 6],
    )[0]
    if kind == "set":
        return f"set({key}, {serial})", lambda c: c.set(key, serial)
    if kind == "get":
        return f"get({key})", lambda c: c.get(key, "missing")
    if kind == "get_with":
        return f"get_with({key}, {serial})", lambda c: c.get_with(key, lambda: serial)
    if kind == "remove":
        return f"remove({key})", lambda c: c.remove(key, "missing")
    if kind == "clear":
        return "clear()", lambda c: c.clear()
    return "run_pending_tasks()", lambda c: c.run_pending_tasks()


def compare(left: Side, right: Side, history: list[str]) -> None:
    left.cache.run_pending_tasks()
    right.cache.run_pending_tasks()
    where = f"after {len(history)} operations; last ones: {history[-8:]}"
    assert right.results == left.results, f"returned values differ {where}"
    assert right.log.take() == left.log.take(), f"listener events differ {where}"
    assert right.cache.count() == left.cache.count(), f"count() differs {where}"
    assert right.cache.weighted_size() == left.cache.weighted_size(), f"weighted_size() differs {where}"
    left.results.clear()
    right.results.clear()


def run_trace(
    reference: Any, Moka: Any, seed: int, operations: int, policy: str, weighted: bool, max_batch: int
) -> None:
    rng = random.Random(seed)
    capacity = rng.randint(1, 64)
    keys = rng.randint(capacity + 1, 3 * capacity + 8)
    left, right = make_pair(reference, Moka, capacity, policy, weighted)
    history: list[str] = []
    done = 0
    while done < operations:
        batch = rng.randint(1, max_batch)
        started = time.monotonic()
        for _ in range(min(batch, operations - done)):
            name, operation = random_operation(rng, keys, done)
            history.append(name)
            for side in (left, right):
                side.results.append(operation(side.cache))
            done += 1
        if time.monotonic() - started > BATCH_TIME_LIMIT:
            raise TimingStall
        compare(left, right, history)


def run_configuration(reference: Any, Moka: Any, policy: str, weighted: bool, max_batch: int) -> None:
    seed = zlib.crc32(f"{policy}-{weighted}-{max_batch}".encode())
    done = 0
    retries = 0
    trace = 0
    while done < OPS_PER_CONFIGURATION:
        operations = min(2_000, OPS_PER_CONFIGURATION - done)
        try:
            run_trace(reference, Moka, seed * 1000 + trace, operations, policy, weighted, max_batch)
        except TimingStall:
            retries += 1
            if retries > MAX_RETRIES:
                pytest.fail(f"{retries} traces stalled past {BATCH_TIME_LIMIT} s between sync points")
            continue
        done += operations
        trace += 1


@pytest.mark.parametrize("weighted", [False, True], ids=["unit-weights", "weigher"])
@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
def test_lockstep_sync_after_every_operation(reference: Any, Moka: Any, policy: str, weighted: bool) -> None:
    run_configuration(reference, Moka, policy, weighted, max_batch=1)


@pytest.mark.parametrize("weighted", [False, True], ids=["unit-weights", "weigher"])
@pytest.mark.parametrize("policy", ["tiny_lfu", "lru"])
def test_lockstep_with_moka_batching(reference: Any, Moka: Any, policy: str, weighted: bool) -> None:
    # Sync points every 1 to 200 operations: moka's 64-record flush points decide inside a batch.
    run_configuration(reference, Moka, policy, weighted, max_batch=200)
