"""python -m moka_py: show the active backend, check that it works, and time it.

Prints the selected backend and every installed one (with its import error,
if any), runs a short functional self-check of the selected one, then times
its hot paths beside two baselines: dict.get and a functools.lru_cache hit.
Exits with status 1 if the self-check fails.

The timings use the method of the README's performance table: a plain loop
of calls over prepared keys, garbage collector paused, timed as a whole; the
figure is the median of several loops, run in alternating order, in
nanoseconds per call, with the loop's own cost included (the cost of the
empty loop is printed beside them).  They are a quick look at this machine,
not the benchmark harness (benches/ in the repository).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import moka_py

__all__ = ["Timing", "benchmark", "main", "self_check"]

_BENCH_SECONDS = 0.2
"""Target duration of each timed run."""


def self_check() -> list[tuple[str, str | None]]:
    """Exercise the active backend; return ``(check, error or None)`` for each check."""
    results: list[tuple[str, str | None]] = []

    def check(name: str, test: Callable[[], object]) -> None:
        try:
            outcome = test()
        except Exception as exc:
            results.append((name, f"raised {type(exc).__name__}: {exc}"))
            return
        results.append((name, None if outcome is True else f"got {outcome!r}"))

    events: list[tuple[Any, Any, str]] = []

    def on_evict(key: Any, value: Any, cause: str) -> None:
        events.append((key, value, cause))

    cache: moka_py.Moka[str, int] = moka_py.Moka(10, eviction_listener=on_evict)
    missing = object()

    def set_get() -> object:
        cache.set("a", 1)
        got = (cache.get("a"), cache.get("nope"), cache.get("nope", missing) is missing, "a" in cache)
        return True if got == (1, None, True, True) else got

    def remove() -> object:
        got = (cache.remove("a"), cache.remove("a"), cache.get("a"))
        return True if got == (1, None, None) else got

    def get_with() -> object:
        first = cache.get_with("b", lambda: 2)
        second = cache.get_with("b", lambda: 1 // 0)  # a hit: the initializer must not run
        return True if (first, second) == (2, 2) else (first, second)

    def count() -> object:
        cache.set("c", 3)
        cache.set("c", 4)
        cache.run_pending_tasks()
        return True if cache.count() == 2 else cache.count()

    def listener() -> object:
        expected = [("a", 1, "explicit"), ("c", 3, "replaced")]
        return True if events == expected else events

    def size() -> object:
        lru: moka_py.Moka[int, int] = moka_py.Moka(2, policy="lru")
        for i in range(5):
            lru.set(i, i)
        lru.run_pending_tasks()
        return True if lru.count() == 2 and lru.get(4) == 4 else (lru.count(), lru.get(4))

    def ttl() -> object:
        short: moka_py.Moka[str, int] = moka_py.Moka(10, ttl=0.05)
        short.set("x", 1)
        present = short.get("x")
        time.sleep(0.25)
        got = (present, short.get("x"))
        return True if got == (1, None) else got

    def decorator() -> object:
        calls: list[int] = []

        @moka_py.cached(maxsize=8)
        def double(x: int) -> int:
            calls.append(x)
            return 2 * x

        got = (double(2), double(2), len(calls), double.cache_info().hits)
        return True if got == (4, 4, 1, 1) else got

    for name, test in [
        ("set/get", set_get),
        ("remove", remove),
        ("get_with", get_with),
        ("count after run_pending_tasks", count),
        ("eviction listener", listener),
        ("size eviction", size),
        ("ttl expiry", ttl),
        ("@cached", decorator),
    ]:
        check(name, test)
    return results


_ROUNDS = 7
"""Timed loops per operation; the median is reported."""

_LOOP_SECONDS = 0.02
"""Target duration of one timed loop."""

_KEYS = 10_000
"""Distinct keys, all in the cache (as in the README's table); the miss loop uses as many others."""


class Timing(NamedTuple):
    """The micro-benchmark's figures: medians in ns per call, loop overhead included."""

    operations: dict[str, float]
    """The active backend's operations."""
    baselines: dict[str, float]
    """The same kind of loop around ``dict.get`` and a ``functools.lru_cache`` hit."""
    empty_loop: float
    """The loop alone, included in every other figure."""


Loop = Callable[[list[int]], int]
"""Runs one call per key and returns the elapsed nanoseconds."""


def _call1(f: Callable[[int], object]) -> Loop:
    def loop(keys: list[int]) -> int:
        start = time.perf_counter_ns()
        for k in keys:
            f(k)
        return time.perf_counter_ns() - start

    return loop


def _call2(f: Callable[[int, Any], object], arg: Any) -> Loop:
    def loop(keys: list[int]) -> int:
        start = time.perf_counter_ns()
        for k in keys:
            f(k, arg)
        return time.perf_counter_ns() - start

    return loop


def _empty(keys: list[int]) -> int:
    start = time.perf_counter_ns()
    for _k in keys:
        pass
    return time.perf_counter_ns() - start


def _timed(loop: Loop, keys: list[int]) -> int:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return loop(keys)
    finally:
        if enabled:
            gc.enable()


def _calibrated(loop: Loop, universe: list[int]) -> list[int]:
    """Keys for one loop of about ``_LOOP_SECONDS``: ``universe`` repeated as often as needed."""
    probe = universe * 2
    per_call = max(_timed(loop, probe) / len(probe), 1.0)
    n = int(min(max(_LOOP_SECONDS * 1e9 / per_call, 2_000), 2_000_000))
    return (universe * (n // len(universe) + 1))[:n]


def _medians(loops: dict[str, tuple[Loop, list[int]]]) -> dict[str, float]:
    """Median ns per call of each loop over ``_ROUNDS`` rounds; the order alternates between rounds."""
    prepared = {name: (loop, _calibrated(loop, universe)) for name, (loop, universe) in loops.items()}
    samples: dict[str, list[float]] = {name: [] for name in prepared}
    names = list(prepared)
    for round_ in range(_ROUNDS):
        shift = (round_ // 2) % len(names)
        order = names[shift:] + names[:shift]
        for name in order if round_ % 2 == 0 else order[::-1]:
            loop, keys = prepared[name]
            samples[name].append(_timed(loop, keys) / len(keys))
    return {name: statistics.median(values) for name, values in samples.items()}


def benchmark() -> Timing:
    """Time the active backend's hot paths and the baselines (see the module docstring)."""
    rng = random.Random(2024)
    present = rng.sample(range(1 << 40, 1 << 48), 2 * _KEYS)
    keys, absent = present[:_KEYS], present[_KEYS:]

    cache: moka_py.Moka[int, int] = moka_py.Moka(4 * _KEYS)
    table: dict[int, int] = {}
    for k in keys:
        cache.set(k, k)
        table[k] = k
    cache.run_pending_tasks()

    def init() -> int:
        return 0

    @moka_py.cached(maxsize=4 * _KEYS)
    def cached_function(x: int) -> int:
        return x

    @functools.lru_cache(maxsize=4 * _KEYS)
    def lru_function(x: int) -> int:
        return x

    for k in keys:
        cached_function(k)
        lru_function(k)

    figures = _medians(
        {
            "get hit": (_call1(cache.get), keys),
            "get miss": (_call1(cache.get), absent),
            "set (replace)": (_call2(cache.set, 0), keys),
            "get_with hit": (_call2(cache.get_with, init), keys),
            "@cached hit": (_call1(cached_function), keys),
            "dict.get hit": (_call1(table.get), keys),
            "lru_cache hit": (_call1(lru_function), keys),
            "empty loop": (_empty, keys),
        }
    )
    baselines = {name: figures.pop(name) for name in ("dict.get hit", "lru_cache hit")}
    empty = figures.pop("empty loop")
    return Timing(figures, baselines, empty)


def main(argv: list[str] | None = None) -> int:
    """Run the report; return the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m moka_py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-bench", action="store_true", help="skip the micro-benchmark")
    args = parser.parse_args(argv)

    info = moka_py.backend()
    available = moka_py.available_backends()
    checks = self_check()
    failures = [(name, error) for name, error in checks if error is not None]
    timing = None if args.no_bench or failures else benchmark()

    if args.json:
        report = {
            "moka_py": moka_py.__version__,
            "python": sys.version.split()[0],
            "backend": {
                "name": info.name,
                "version": info.version,
                "module": getattr(info.module, "__name__", repr(info.module)),
                "priority": info.priority,
                "exact": info.exact,
            },
            "available_backends": [b._asdict() for b in available],
            "self_check": {name: error or "ok" for name, error in checks},
            "ok": not failures,
            "benchmark": None if timing is None else {
                "method": f"median of {_ROUNDS} alternating loops, ns per call, loop overhead included",
                "ns_per_call": timing.operations,
                "baselines_ns_per_call": timing.baselines,
                "empty_loop_ns_per_call": timing.empty_loop,
            },
        }
        print(json.dumps(report, indent=2))
    else:
        module = getattr(info.module, "__name__", repr(info.module))
        print(f"moka-py {moka_py.__version__} on Python {sys.version.split()[0]}")
        print(
            f"selected backend: {info.name} {info.version} (module {module}, "
            f"priority {info.priority}, exact={info.exact})"
        )
        print("installed backends:")
        for b in available:
            if b.name == info.name:
                state = "selected"
            else:
                state = "importable" if b.importable else f"FAILED: {b.error}"
            priority = "-" if b.priority is None else str(b.priority)
            print(f"  {b.name:<10} priority {priority:>4}  {b.target:<24} {state}")
        if failures:
            print("self-check: FAILED")
            for name, error in failures:
                print(f"  {name}: {error}")
        else:
            print(f"self-check: OK ({', '.join(name for name, _ in checks)})")
        if timing is not None:
            print(
                f"micro-benchmark ({info.name} backend): ns per call, median of {_ROUNDS} alternating "
                f"loops, loop overhead included (the empty loop: {timing.empty_loop:.0f} ns)"
            )
            print(f"  {'operation':<16} {'ns/call':>8}")
            for name, ns in timing.operations.items():
                print(f"  {name:<16} {ns:>8.0f}")
            print("  baselines, timed in the same rounds:")
            for name, ns in timing.baselines.items():
                print(f"  {name:<16} {ns:>8.0f}")
    if failures:
        raise SystemExit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
