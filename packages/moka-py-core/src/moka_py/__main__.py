"""``python -m moka_py``: show the active backend, self-check it, and time it.

Prints the selected backend, every installed backend (with its import error,
if any), the result of a short functional self-check, and a micro-benchmark
of the active backend in nanoseconds per operation.  Exits with status 1 if
the self-check fails.  ``--json`` prints the same information as one JSON
object; ``--no-bench`` skips the benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import moka_py

__all__ = ["benchmark", "main", "self_check"]

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


def _time_ns(run: Callable[[int], None], n: int) -> int:
    start = time.perf_counter_ns()
    run(n)
    return time.perf_counter_ns() - start


def _measure(run: Callable[[int], None], empty: Callable[[int], None]) -> float:
    """ns per operation of ``run(n)`` minus the loop's own cost, ``n`` sized for about 0.2 s."""
    probe = 2_000
    per_op = max(_time_ns(run, probe) / probe, 1.0)
    n = int(min(max(_BENCH_SECONDS * 1e9 / per_op, 10_000), 5_000_000))
    spent = _time_ns(run, n) - _time_ns(empty, n)
    return max(spent / n, 0.0)


def benchmark() -> list[tuple[str, float]]:
    """Time the active backend's hot paths; return ``(operation, ns per operation)`` pairs."""
    cache: moka_py.Moka[int, int] = moka_py.Moka(4096)
    for i in range(1024):
        cache.set(i, i)
    cache.run_pending_tasks()
    get = cache.get
    set_ = cache.set
    get_with = cache.get_with

    def init() -> int:
        return 0

    @moka_py.cached(maxsize=4096)
    def cached_function(x: int) -> int:
        return x

    cached_function(7)

    def empty(n: int) -> None:
        for _ in range(n):
            pass

    def get_hit(n: int) -> None:
        for _ in range(n):
            get(7)

    def get_miss(n: int) -> None:
        for _ in range(n):
            get(-1)

    def set_replace(n: int) -> None:
        for i in range(n):
            set_(i & 1023, i)

    def get_with_hit(n: int) -> None:
        for _ in range(n):
            get_with(7, init)

    def decorator_hit(n: int) -> None:
        for _ in range(n):
            cached_function(7)

    return [
        (name, _measure(run, empty))
        for name, run in [
            ("get hit", get_hit),
            ("get miss", get_miss),
            ("set (replace)", set_replace),
            ("get_with hit", get_with_hit),
            ("@cached hit", decorator_hit),
        ]
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the report; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m moka_py", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-bench", action="store_true", help="skip the micro-benchmark")
    args = parser.parse_args(argv)

    info = moka_py.backend()
    available = moka_py.available_backends()
    checks = self_check()
    failures = [(name, error) for name, error in checks if error is not None]
    timings = [] if args.no_bench or failures else benchmark()

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
            "benchmark_ns_per_op": dict(timings),
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
        if timings:
            print(f"micro-benchmark ({info.name} backend, ns per operation, loop overhead subtracted):")
            print(f"  {'operation':<16} {'ns/op':>8}")
            for name, ns in timings:
                print(f"  {name:<16} {ns:>8.0f}")
    if failures:
        raise SystemExit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
