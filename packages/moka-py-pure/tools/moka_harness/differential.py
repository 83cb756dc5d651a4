"""Compare the pure backend with the real moka 0.12.16 (via the harness) on random traces.

PYTHONPATH=src python tools/moka_harness/differential.py --seeds 0:100 --ops 5000 [--kind rewrite]
    [--record FILE [--append]]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests"))

from moka_replay import replay  # noqa: E402

HARNESS = HERE / "target" / "release" / "moka-harness"


def duration(rng: random.Random) -> int | None:
    r = rng.random()
    if r < 0.5:
        return None
    if r < 0.75:
        return rng.randrange(1, 3 * 10**9)
    if r < 0.9:
        return rng.randrange(1, 200 * 10**9)
    return rng.randrange(1, 10 * 86400 * 10**9)


def step(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.3:
        return rng.randrange(0, 5000)
    if r < 0.7:
        return rng.randrange(10**6, 10**8)
    if r < 0.95:
        return rng.randrange(10**8, 2 * 10**9)
    return rng.randrange(60 * 10**9, 3 * 86400 * 10**9)


def d(x: int | None) -> str:
    return "-" if x is None else str(x)


def trace(seed: int, n: int) -> dict[str, Any]:
    rng = random.Random(seed)
    cap = rng.choice([rng.randrange(0, 65), -1]) if rng.random() < 0.2 else rng.randrange(1, 65)
    timed = rng.random() < 0.6
    per_op = rng.random() < 0.5
    pe = rng.choice([0.0, 0.3, 0.8]) if timed else 0.0
    t: dict[str, Any] = dict(
        seed=seed,
        cap=cap,
        lru=rng.random() < 0.5,
        weigher=rng.random() < 0.3,
        listener=rng.random() < 0.85,
        ttl=rng.choice([-1, -1, rng.randrange(10**6, 3 * 10**9)]) if timed else -1,
        tti=rng.choice([-1, -1, rng.randrange(10**6, 3 * 10**9)]) if timed else -1,
    )
    nkeys = rng.choice([cap * 2 + 2 if cap > 0 else 20, 100])
    ops: list[str] = []
    for _ in range(n):
        r = rng.random()
        k = rng.randrange(nkeys)
        v = rng.randrange(1000) * 1000 + rng.randrange(11)
        ttl = duration(rng) if rng.random() < pe else None
        tti = duration(rng) if rng.random() < pe else None
        if r < 0.30:
            ops.append(f"S {k} {v} {d(ttl)} {d(tti)}")
        elif r < 0.55:
            ops.append(f"G {k}")
        elif r < 0.60:
            ops.append(f"H {k}")
        elif r < 0.68:
            ops.append(f"W {k} {v} {d(ttl)} {d(tti)}")
        elif r < 0.74:
            ops.append(f"R {k}")
        elif r < 0.745:
            # advance at least 1 ns first: the pure backend's clear() also removes entries written
            # in the same instant (see _cache.Moka.clear), moka keeps those
            ops += ["T 1", "C"]
        elif r < 0.76 and not per_op:
            ops.append("P")
        elif timed:
            ops.append(f"T {step(rng)}")
        else:
            ops.append(f"G {k}")
        if per_op:
            ops.append("P")
    ops.append("P")
    t["ops"] = ops
    return t


def rewrite_trace(seed: int, n: int) -> dict[str, Any]:
    """Writes over entries that expired but are still stored (moka#575's case, fixed in 0.12.15).

    Few keys, short ttls (per-entry on about half the writes, cache-wide in some traces), clock
    steps around them, and housekeeping only now and then, so most writes land on an entry whose
    deadline has passed but which housekeeping has not removed yet.
    """
    rng = random.Random(seed)
    per_entry = rng.random() < 0.8
    t: dict[str, Any] = dict(
        seed=seed,
        cap=rng.choice([-1, rng.randrange(2, 16)]),
        lru=rng.random() < 0.5,
        weigher=False,
        listener=True,
        ttl=rng.choice([-1, rng.randrange(10**6, 10**8)]) if rng.random() < 0.5 or not per_entry else -1,
        tti=rng.choice([-1, -1, rng.randrange(10**6, 10**8)]),
    )
    ops: list[str] = []
    for _ in range(n):
        r = rng.random()
        k = rng.randrange(8)
        v = rng.randrange(1000) * 1000 + rng.randrange(11)
        ttl = rng.randrange(1, 10**8) if per_entry and rng.random() < 0.5 else None
        tti = rng.randrange(1, 10**8) if per_entry and rng.random() < 0.25 else None
        if r < 0.40:
            ops.append(f"S {k} {v} {d(ttl)} {d(tti)}")
        elif r < 0.60:
            ops.append(f"G {k}")
        elif r < 0.65:
            ops.append(f"W {k} {v} {d(ttl)} {d(tti)}")
        elif r < 0.68:
            ops.append(f"R {k}")
        elif r < 0.71:
            ops.append("P")
        else:
            ops.append(f"T {rng.randrange(0, 6 * 10**7)}")
    ops.append("P")
    t["ops"] = ops
    return t


def moka(t: dict[str, Any]) -> list[str]:
    args = [str(t["cap"]), "lru" if t["lru"] else "tiny", str(int(t["weigher"])), str(int(t["listener"]))]
    args += [str(t["ttl"]), str(t["tti"])]
    res = subprocess.run(
        [str(HARNESS), *args], input="\n".join(t["ops"]) + "\n", capture_output=True, text=True, check=True
    )
    return res.stdout.splitlines()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0:100")
    ap.add_argument("--ops", type=int, default=5000)
    ap.add_argument(
        "--kind", choices=["mixed", "rewrite"], default="mixed",
        help="mixed: every operation; rewrite: writes over expired, not yet removed entries",
    )  # fmt: skip
    ap.add_argument("--record", help="write the traces (with moka's outputs) to this .json.gz")
    ap.add_argument("--append", action="store_true", help="with --record: add to the file's traces")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.seeds.split(":"))
    bad = 0
    recorded = []
    for seed in range(lo, hi):
        t = (rewrite_trace if a.kind == "rewrite" else trace)(seed, a.ops)
        expected = moka(t)
        got = replay(t)
        if got != expected:
            bad += 1
            diffs = (i for i, (x, y) in enumerate(zip(got, expected)) if x != y)
            i = next(diffs, min(len(got), len(expected)))
            print(f"seed {seed}: first difference at line {i}: pure={got[i:i+1]} moka={expected[i:i+1]}")
        t["expected"] = expected
        recorded.append(t)
    print(f"{bad} mismatches in {hi - lo} traces")
    if a.record:
        if a.append and Path(a.record).exists():
            with gzip.open(a.record, "rt") as old:
                recorded = json.load(old) + recorded
        with gzip.GzipFile(a.record, "wb", mtime=0) as f:
            f.write(json.dumps(recorded, separators=(",", ":")).encode())


if __name__ == "__main__":
    main()
