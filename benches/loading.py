"""Loading benchmarks (issue 25): the cost of ``aget_with`` on a hit, per backend.

    python benches/loading.py --backend pure
    python benches/loading.py --backend rust --repeats 7

``run.py``'s ``loading`` group (``nox -s bench``) calls :func:`run` with its sizes.

Measures, in one event loop, nanoseconds per call of

* ``await cache.aget_with(k, init)`` on a hit, against
* ``cache.get_with(k, init)`` on a hit plus one ``await`` of a finished coroutine (what a caller
  pays without ``aget_with``), and their ratio (issue 25's target: at most 1.5);
* ``get_with(k, init, refresh_after=...)`` on a hit due for refresh (its reload held in flight, so
  every hit pays the refresh check) against a plain ``get_with`` hit (target: at most 3x);
* with ``--latency``: the callers' p50 / p99 latency, reading 4 keys for 2 s from a cache with
  ``ttl=0.2`` and a 50 ms loader, with ``refresh_after=0.1`` and without.

Each figure is the best of ``--repeats`` runs of ``--calls`` calls over ``--keys`` stored keys (the
best run is the one least disturbed by other processes; the machine may be shared). Standard
library only at import; the backend is imported by name (``moka_py_pure`` or ``moka_py_rust``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

BACKENDS = {"pure": "moka_py_pure", "rust": "moka_py_rust"}


async def _finished() -> None:
    return None


def _never() -> int:
    """The initializer of every timed call, ``aget_with``'s and ``get_with``'s: a hit never runs it."""
    raise AssertionError("a hit ran the initializer")


def _best(run: Callable[[int], int], calls: int, repeats: int) -> float:
    """Nanoseconds per call of the least disturbed of ``repeats`` runs of ``run(calls)`` (which
    returns the elapsed ns), after a shorter warm-up run."""
    run(calls // 10)
    return min(run(calls) for _ in range(repeats)) / calls


def _due_hits(module: Any, keys: int, calls: int, repeats: int) -> tuple[float, float]:
    """(plain get_with hit ns, due-for-refresh hit ns): every entry due, its reload held."""
    cache, hold = module.Moka(keys * 2), threading.Event()
    for k in range(keys):
        cache.set(k, k)
    time.sleep(0.05)  # every entry is now older than refresh_after

    def hits(**refresh: float) -> Callable[[int], int]:
        def run(n: int) -> int:
            started = time.perf_counter_ns()
            for i in range(n):
                cache.get_with(i % keys, hold.wait, **refresh)
            return time.perf_counter_ns() - started

        return run

    hits(refresh_after=0.01)(keys)  # claims every key (each reload waits on `hold`)
    figures = _best(hits(), calls, repeats), _best(hits(refresh_after=0.01), calls, repeats)
    hold.set()
    return figures


def latency(module: Any, refresh: bool, seconds: float = 2.0) -> tuple[float, float]:
    """Callers' (p50, p99) latency in ms, with a 50 ms loader and ttl 0.2 s."""
    cache = module.Moka(100, ttl=0.2)
    samples: list[float] = []

    def slow_load() -> int:
        time.sleep(0.05)
        return 1

    options = {"refresh_after": 0.1} if refresh else {}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for key in range(4):
            started = time.perf_counter()
            cache.get_with(key, slow_load, **options)
            samples.append((time.perf_counter() - started) * 1e3)
        time.sleep(0.001)
    samples.sort()
    return samples[len(samples) // 2], samples[len(samples) * 99 // 100]


def measure(backend: str, calls: int, keys: int, repeats: int) -> dict[str, Any]:
    """Every figure of one backend (see the module's docstring)."""
    module = importlib.import_module(BACKENDS[backend])
    cache = module.Moka(keys * 2)
    for k in range(keys):
        cache.set(k, k)
    cache.run_pending_tasks()

    aget_with, get_with = cache.aget_with, cache.get_with

    async def aget_with_hits(n: int) -> int:
        started = time.perf_counter_ns()
        for i in range(n):
            await aget_with(i % keys, _never)
        return time.perf_counter_ns() - started

    async def get_with_hits_and_an_await(n: int) -> int:
        started = time.perf_counter_ns()
        for i in range(n):
            get_with(i % keys, _never)
            await _finished()
        return time.perf_counter_ns() - started

    # Interleaved, so that a burst of load from other processes hits both alike.
    runs = (get_with_hits_and_an_await, aget_with_hits)
    pairs = [[_best(lambda n, f=f: asyncio.run(f(n)), calls, repeats) for f in runs] for _ in range(3)]  # type: ignore[misc]
    base, aget = (min(column) for column in zip(*pairs))
    plain, due = _due_hits(module, keys, calls, repeats)
    return {
        "plain_get_with_hit_ns": round(plain, 1),
        "due_for_refresh_hit_ns": round(due, 1),
        "refresh_ratio": round(due / plain, 3),
        "backend": backend,
        "version": getattr(module, "__version__", "?"),
        "python": sys.version.split()[0],
        "calls": calls,
        "keys": keys,
        "repeats": repeats,
        "get_with_hit_plus_await_ns": round(base, 1),
        "aget_with_hit_ns": round(aget, 1),
        "ratio": round(aget / base, 3),
    }


def summary(r: dict[str, Any]) -> str:
    """One line of a backend's figures, beside issue 25's targets."""
    return (
        f"{r['backend']:<5} aget_with hit {r['aget_with_hit_ns']:.1f} ns, get_with hit + await "
        f"{r['get_with_hit_plus_await_ns']:.1f} ns: ratio {r['ratio']:.2f} (target <= 1.5); due-for-refresh "
        f"hit {r['due_for_refresh_hit_ns']:.1f} ns, get_with hit {r['plain_get_with_hit_ns']:.1f} ns: ratio "
        f"{r['refresh_ratio']:.2f} (target <= 3; python {r['python']}, {r['calls']} calls x {r['repeats']})"
    )


def run(argv: list[str] | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure the backends the command line names (every importable one by default), a line each to
    ``log``; ``{backend: figures}``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        action="append",
        help="a backend to measure (repeatable; default: every importable one)",
    )
    parser.add_argument("--calls", type=int, default=200_000, help="calls per run")
    parser.add_argument("--keys", type=int, default=1_000, help="stored keys, read in turn")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (the best counts)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per backend")
    parser.add_argument("--latency", action="store_true", help="also the refresh on/off latencies")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    for backend in args.backend or [b for b, m in BACKENDS.items() if importlib.util.find_spec(m)]:
        out[backend] = measure(backend, args.calls, args.keys, args.repeats)
        log(json.dumps(out[backend]) if args.json else summary(out[backend]))
        for refresh in (False, True) if args.latency else ():
            p50, p99 = latency(importlib.import_module(BACKENDS[backend]), refresh)
            log(
                f"{backend:5} 50 ms loader, ttl 0.2 s, refresh {'on ' if refresh else 'off'}: "
                f"caller p50 {p50:6.3f} ms   p99 {p99:6.3f} ms"
            )
    return out


if __name__ == "__main__":
    run()
