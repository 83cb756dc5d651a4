"""Bulk calls against their loops, and the cost of ``len()``: medians of repeated timings.

* ``get_many`` of 100 present keys against 100 ``get`` calls, ``set_many`` of 100 pairs (replacing
  present keys) against 100 ``set`` calls, on a 10,000-entry tiny_lfu cache; the ratio is
  bulk time / loop time (issue 24's targets on the Rust backend: 0.5 and 0.7);
* ``len(cache)`` of a 10,000-entry cache.

Run it with an interpreter where the backends are installed (``nox -s tests`` venvs work)::

    python benches/bulk_ops.py                 # every installed backend
    python benches/bulk_ops.py --backend rust --repeat 51

Each figure is the median of ``--repeat`` timings (``time.perf_counter_ns``) of one call (or one
loop of 100 calls), after a warm-up; the cache is rebuilt for no timing, so the numbers include
moka's housekeeping runs that 100 recorded operations trigger, as real calls do.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from typing import Any

ENTRIES = 10_000
BATCH = 100


def _median_ns(run: Callable[[], object], repeat: int) -> float:
    for _ in range(5):
        run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        run()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples)


def measure(Moka: Any, repeat: int) -> dict[str, float]:  # noqa: N803 - the class under test
    """Median nanoseconds of each timed call, and the two ratios."""
    cache = Moka(ENTRIES * 2)
    for i in range(ENTRIES):
        cache.set(i, i)
    cache.run_pending_tasks()
    keys = list(range(0, ENTRIES, ENTRIES // BATCH))[:BATCH]
    pairs = {k: k for k in keys}
    get, set_ = cache.get, cache.set

    def gets() -> None:
        for k in keys:
            get(k)

    def sets() -> None:
        for k in keys:
            set_(k, k)

    out = {
        "get x100": _median_ns(gets, repeat),
        "get_many(100)": _median_ns(lambda: cache.get_many(keys), repeat),
        "set x100": _median_ns(sets, repeat),
        "set_many(100)": _median_ns(lambda: cache.set_many(pairs), repeat),
        "len (10,000 entries)": _median_ns(lambda: len(cache), repeat),
    }
    out["get_many / gets"] = out["get_many(100)"] / out["get x100"]
    out["set_many / sets"] = out["set_many(100)"] / out["set x100"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["rust", "pure"], help="default: both")
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    for name in args.backend or ["rust", "pure"]:
        try:
            module = importlib.import_module(f"moka_py_{name}")
        except ImportError:
            print(f"{name}: not installed")
            continue
        for what, value in measure(module.Moka, args.repeat).items():
            shown = f"{value:.2f}" if "/" in what else f"{value / 1000:,.1f} us"
            print(f"{name:5} {what:22} {shown}")


if __name__ == "__main__":
    main()
