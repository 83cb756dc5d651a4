"""Hit ratio on seeded synthetic traces, replayed the way a user fills a cache.

Traces (one int key per access, written once to a binary file so every subject, in
this process or in a worker, replays exactly the same sequence):

* ``zipf-0.8`` / ``zipf-1.0``: ``accesses`` draws from ``universe`` keys whose
  popularity follows Zipf's law with exponent s (rank r is drawn with probability
  proportional to ``1 / r**s``); ranks are mapped to keys through a seeded shuffle.
* ``zipf-1.0+scans``: the same Zipf(1.0) stream cut into 20 blocks; after 70 % of
  each block comes a scan of never-seen keys filling the other 30 % (sequential
  one-time reads, as a batch job or a crawler makes).  Scans can never hit, so the
  best possible ratio is below 0.7; what the scan costs is the popular entries it
  pushes out.

Replay (``Adapter.replay``): ``get(k)``; on a miss, ``set(k, k)``.  moka subjects
(both backends and moka-py 0.5.0) also run ``run_pending_tasks()`` every 64
accesses, so that moka's time-based housekeeping trigger cannot make the slow
pure backend and the fast Rust one decide at different accesses; no warm-up is
excluded.  Capacities: 1,000 and 10,000.

Standard library only, so moka-py 0.5.0's worker can import it.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from subjects import load_adapter

__all__ = ["CAPACITIES", "TRACES", "TraceSpec", "make_trace", "replay_file", "write_traces"]

CAPACITIES = (1_000, 10_000)
SEED = 8_675_309
KEY_BASE = 1_000_000_000
"""Keys are ``KEY_BASE + id``: ints outside CPython's small-int cache, as real ids are."""
SCAN_BASE = 10**13


@dataclass(frozen=True)
class TraceSpec:
    """A trace: Zipf exponent, and whether scans are mixed in."""

    name: str
    s: float
    scans: bool


TRACES = (
    TraceSpec("zipf-0.8", 0.8, False),
    TraceSpec("zipf-1.0", 1.0, False),
    TraceSpec("zipf-1.0+scans", 1.0, True),
)


def zipf_draws(s: float, universe: int, n: int, rng: random.Random) -> list[int]:
    """``n`` keys drawn from ``universe`` keys with Zipf(s) popularity (rank -> key via a shuffle)."""
    cum = list(itertools.accumulate(1.0 / (r**s) for r in range(1, universe + 1)))
    ranks = rng.choices(range(universe), cum_weights=cum, k=n)
    ids = list(range(universe))
    rng.shuffle(ids)
    return [KEY_BASE + ids[r] for r in ranks]


def make_trace(spec: TraceSpec, universe: int, accesses: int) -> array[int]:
    """Build one trace (deterministic for given arguments)."""
    rng = random.Random(f"{SEED}:{spec.name}:{universe}:{accesses}")
    if not spec.scans:
        return array("q", zipf_draws(spec.s, universe, accesses, rng))
    blocks = 20
    block = accesses // blocks
    zipf_part = block * 7 // 10
    draws = zipf_draws(spec.s, universe, zipf_part * blocks, rng)
    out = array("q")
    scan_key = SCAN_BASE
    for b in range(blocks):
        out.extend(draws[b * zipf_part : (b + 1) * zipf_part])
        scan_len = block - zipf_part
        out.extend(range(scan_key, scan_key + scan_len))
        scan_key += scan_len
    return out


def write_traces(directory: Path, universe: int, accesses: int) -> dict[str, str]:
    """Write every trace as raw int64s into ``directory``; return name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for spec in TRACES:
        path = directory / f"{spec.name}-{universe}-{accesses}.i64"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                make_trace(spec, universe, accesses).tofile(fh)
            tmp.replace(path)
        paths[spec.name] = str(path)
    return paths


def read_trace(path: str) -> list[int]:
    """A trace file as a list of ints (a list iterates faster than an array, for every subject alike)."""
    arr = array("q")
    with open(path, "rb") as fh:
        arr.frombytes(fh.read())
    return arr.tolist()


def replay_file(subject_id: str, path: str, capacity: int) -> dict[str, Any]:
    """Replay one trace into a new cache of ``capacity``: hits, accesses, ratio and ns per access."""
    adapter = load_adapter(subject_id)
    cache = adapter.new_cache(capacity)
    if cache is None:
        raise ValueError(f"{subject_id} has no plain bounded cache")
    trace = read_trace(path)
    t0 = time.perf_counter_ns()
    hits = adapter.replay(cache, trace)
    elapsed = time.perf_counter_ns() - t0
    adapter.dispose(cache)
    return {
        "hits": hits,
        "accesses": len(trace),
        "ratio": hits / len(trace),
        "ns_per_access": elapsed / len(trace),
    }
