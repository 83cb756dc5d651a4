"""Differential tier, expiry in real time: lockstep with the reference for backends that claim ``exact``.

The backend under test and the pure reference (``moka_py_pure``), both on the real monotonic clock,
receive the same calls in bursts on a quantized schedule (``_ticks.py``): every deadline falls
mid-tick, far from any call, and no burst runs where a timer-wheel bucket boundary of either cache
could fall. Each burst is framed by sync points (``run_pending_tasks()``); at its end the returned
values, the listener events in order, ``count()`` and ``weighted_size()`` must be identical.

Hypothesis draws the cache (capacity, policy, weigher, cache-wide ttl/tti) and the bursts: calls on
a few keys with per-entry ttl/tti, and gaps of one to four ticks between bursts, during which
entries expire. So the comparison covers ttl and tti expiry (reported ``"expired"`` by housekeeping,
or by a write or ``remove`` that finds the expired entry), tti renewal on reads (capped by a per-entry
ttl), and per-entry expiry through moka's timer wheel, including its *late* removal: an entry past
its deadline is invisible at once but stays in the map, counted by ``count()``, and is overwritten
(``"replaced"``) or removed (returned by ``remove``) as a present entry, until housekeeping runs in a
later 1.07 s wheel bucket.

Loads take part: ``get_with`` and ``aget_with`` with per-entry ttl/tti, some with an initializer
that raises, and ``aget_with`` with a ``refresh_after`` every hit is past (``DUE``, below every ttl),
whose reload writes with the call's ttl/tti (its deadline then counts from the reload's write) or
is refused by a call made while it is held; the op waits for the reload (``_lockstep.py``), inside
the burst's window.

Examples cost seconds of real time each, so they are few: ``max_examples // 20`` of the profile's.
A burst that overran its window (a busy machine) makes the example start again with fresh caches;
after ``ATTEMPTS`` overruns it is discarded, never failed. Shrinking is off: each shrink step would
cost seconds too, and the failure message already lists the calls made on both caches.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, reject, settings
from hypothesis import strategies as st

from moka_py_conformance._lockstep import DUE, DURING, Lockstep, Op, Overran, weigh
from moka_py_conformance._ticks import TICK, TickSchedule, duration

ATTEMPTS = 3
KEYS = 6
KINDS = ["set"] * 7 + ["get"] * 6 + ["get_with"] * 3 + ["remove"] * 2 + ["contains"] * 2 + ["clear"]
# section 7: reads that renew a tti (cache[k], get_many) and ones that must not (peek, expires_in,
# len, items), writes with per-entry durations (set_many), removals (pop, remove_many, remove_if)
KINDS += ["getitem", "peek", "peek", "expires_in", "expires_in", "get_many", "set_many", "pop"]
KINDS += ["remove_many", "remove_if", "len", "items", "stats"]
KINDS += ["aget_with"] * 3  # section 8, see the module docstring

Burst = tuple[int, list[Op]]  # (ticks since the previous burst, calls)

entry_durations = st.none() | st.integers(0, 6).map(duration)
cache_durations = st.none() | st.integers(1, 8).map(duration)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "capacity": draw(st.none() | st.integers(1, 4)),
        "policy": draw(st.sampled_from(["tiny_lfu", "lru"])),
        "weigher": weigh if draw(st.booleans()) else None,
        "ttl": draw(cache_durations),
        "tti": draw(cache_durations),
    }


@st.composite
def schedules(draw: st.DrawFn) -> list[Burst]:
    bursts: list[Burst] = []
    serial = 0
    for _ in range(draw(st.integers(3, 8))):
        calls = []
        for _ in range(draw(st.integers(1, 6))):
            kind, key = draw(st.sampled_from(KINDS)), draw(st.integers(0, KEYS - 1))
            ttl, tti = None, None
            if kind in ("set", "get_with", "aget_with", "set_many"):
                ttl, tti = draw(entry_durations), draw(entry_durations)
            others: tuple[int, ...] = ()
            if kind in ("get_many", "set_many", "remove_many", "remove_if"):
                others = tuple(draw(st.lists(st.integers(0, KEYS - 1), max_size=2)))
            serial += 1
            op = Op(kind, key, serial, ttl, tti, others)
            if kind in ("get_with", "aget_with"):
                op = dataclasses.replace(op, fails=draw(st.sampled_from([False, False, False, True])))
            if kind == "aget_with" and draw(st.booleans()):
                op = dataclasses.replace(op, refresh=DUE, during=draw(st.sampled_from([None, *DURING])))
            calls.append(op)
        bursts.append((draw(st.integers(1, 4)), calls))
    return bursts


def run_schedule(reference: Any, Moka: Any, config: dict[str, Any], bursts: list[Burst]) -> bool:
    """Run the bursts in lockstep on real time; False if a burst overran its window."""
    before = time.monotonic()
    pair = Lockstep(reference, Moka, quantum=TICK, **config)
    try:
        return compare_bursts(pair, before, bursts)
    finally:
        pair.close()


def compare_bursts(pair: Lockstep, before: float, bursts: list[Burst]) -> bool:
    schedule = TickSchedule((before, time.monotonic()))
    for gap, calls in bursts:
        tick = schedule.wait_for_burst(gap)
        pair.note(f"# tick {tick}, {time.monotonic() - schedule.start:.3f} s")
        pair.sync()
        try:
            for call in calls:
                pair.apply(call)
        except Overran:
            return False  # a reload stalled: no verdict
        pair.sync()
        if not schedule.burst_in_time():
            return False
        pair.compare()
        reference_cache = pair.caches[0]
        if reference_cache.count() > sum(key in reference_cache for key in range(KEYS)):
            event("an expired entry still in the map after a sync point")
    for cause in sorted(pair.causes):
        event(f"{cause!r} events")
    return True


@settings(
    max_examples=max(3, settings().max_examples // 20),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.filter_too_much],
)
@given(config=configurations(), bursts=schedules())
def test_lockstep_expiry_in_real_time(
    reference: Any, Moka: Any, config: dict[str, Any], bursts: list[Burst]
) -> None:
    for _ in range(ATTEMPTS):
        if run_schedule(reference, Moka, config, bursts):
            return
    reject()  # the machine was too busy every time: no verdict on this schedule
