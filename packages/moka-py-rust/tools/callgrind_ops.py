"""Instructions per cache operation, counted with valgrind's callgrind.

Each operation is run twice under callgrind, ``n`` and ``2n`` times, after the same
setup (sized for ``2n``); the difference of the two totals, divided by ``n``, is the
cost of one operation with the Python loop around it, free of start-up and setup.
Instruction counts are repeatable, so they compare builds on a busy machine.

Run it with the interpreter whose ``Moka`` you want to measure, e.g.::

    # a build with symbols, into a scratch venv (for callgrind_annotate)
    CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \\
        maturin build --release -o /tmp/wheels
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install packages/moka-py-pure \\
        packages/moka-py-core /tmp/wheels/moka_py_rust-*.whl
    /tmp/venv/bin/python packages/moka-py-rust/tools/callgrind_ops.py            # every op
    /tmp/venv/bin/python packages/moka-py-rust/tools/callgrind_ops.py remove -n 5000 --keep /tmp/cg

``--module moka_py`` measures another package with the same API (moka-py 0.5.0 in its
own venv), ``--module moka_least_binding`` the least binding of ``benches/least_binding``,
and ``--module functools`` the decorator ops with ``functools.lru_cache`` (no ttl: the
floor the bench compares ``@cached`` with). ``--keep DIR`` keeps the callgrind output
files for ``callgrind_annotate``. The operations mirror ``benches/timing.py`` (tiny_lfu,
10,000 entries, int keys; str keys ``"user:<id>"`` for the ``_str`` ones; ttl = 60 s for
the ``_ttl`` ones). ``benches/instructions.py`` runs it for every Rust target.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

ENTRIES = 10_000
OPS = (
    "get_hit",
    "get_miss",
    "get_hit_str",
    "get_miss_str",
    "set_replace",
    "set_evict",
    "get_with_hit",
    "get_with_miss",
    "remove",
    "get_hit_ttl",
    "cached_hit",
    "cached_ttl_hit",
)
TTL = 60.0


def _keys(n: int, salt: int) -> list[int]:
    """``n`` distinct 48-bit ints (ids, not ``range``), seeded."""
    rng = random.Random(salt)
    out: dict[int, None] = {}
    while len(out) < n:
        out[rng.getrandbits(48) | (1 << 47)] = None
    return list(out)


def _init() -> int:
    return 7


def _prepare(module: Any, op: str, nmax: int) -> tuple[Callable[..., Any], list[Any], tuple[Any, ...]]:
    """The call, its keys (at least ``nmax``) and extra arguments; no op runs yet."""
    moka = getattr(module, "Moka", None)  # functools has none (decorator ops only)
    if moka is None and not op.startswith("cached"):
        raise SystemExit(f"{module.__name__} has no Moka: it can only run the cached_* ops")
    stored: list[Any] = _keys(ENTRIES, 1)
    rng = random.Random(2)
    draws: list[Any] = [rng.choice(stored) for _ in range(nmax)]
    fresh: list[Any] = _keys(nmax, 3)
    if op == "remove":
        cache = moka(2 * nmax)
        keys = _keys(2 * nmax, 4)
        for k in keys:
            cache.set(k, k)
        cache.run_pending_tasks()
        rng.shuffle(keys)
        return cache.remove, keys, ()
    if op in ("cached_hit", "cached_ttl_hit"):
        ttl = TTL if op == "cached_ttl_hit" else None
        if hasattr(module, "cached"):
            fn = module.cached(ENTRIES, ttl=ttl)(lambda x: x)
        else:  # functools: lru_cache, which has no ttl
            fn = module.lru_cache(maxsize=ENTRIES)(lambda x: x)
        for k in stored:
            fn(k)
        inner = getattr(fn, "cache", None)  # moka-py 0.5.0's wrapper exposes none
        if inner is not None:
            inner.run_pending_tasks()
        return fn, draws, ()
    if op in ("get_hit_str", "get_miss_str"):
        # str keys as ``benches/timing.str_keys`` makes them; a hit looks up the stored object
        as_str = {k: f"user:{k}" for k in stored}
        stored, draws = list(as_str.values()), [as_str[k] for k in draws]
        fresh = [f"user:{k}" for k in fresh]
        for s in fresh:
            hash(s)  # a str caches its hash: the loop's keys are hashed before, as in the bench
        op = op.removesuffix("_str")
    if op == "get_hit_ttl":
        cache = moka(ENTRIES, ttl=TTL)
        op = "get_hit"
    else:
        cache = moka(ENTRIES)
    for k in stored:
        cache.set(k, k)
    cache.run_pending_tasks()
    if op == "get_hit":
        return cache.get, draws, ()
    if op == "get_miss":
        return cache.get, fresh, ()
    if op == "set_replace":
        return cache.set, draws, (0,)
    if op == "set_evict":
        return cache.set, fresh, (0,)
    if op == "get_with_hit":
        return cache.get_with, draws, (_init,)
    if op == "get_with_miss":
        return cache.get_with, fresh, (_init,)
    raise SystemExit(f"unknown op {op!r}")


def child(module_name: str, op: str, n: int, nmax: int) -> None:
    """Set up for ``nmax`` ops, run ``n`` of them (the part callgrind measures)."""
    module = importlib.import_module(module_name)
    call, keys, extra = _prepare(module, op, nmax)
    keys = keys[:n]
    if extra:
        (arg,) = extra
        for k in keys:
            call(k, arg)
    else:
        for k in keys:
            call(k)


def _total(path: str) -> int:
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no total in {path}")


def _by_function(path: str, inclusive: bool) -> dict[str, int]:
    """``callgrind_annotate``'s per-function instruction counts."""
    out = subprocess.run(
        [
            "callgrind_annotate",
            f"--inclusive={'yes' if inclusive else 'no'}",
            "--threshold=100",
            "--auto=no",
            path,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts: dict[str, int] = {}
    for line in out.splitlines():
        head, _, rest = line.strip().partition(" ")
        if not rest or not head.replace(",", "").isdigit() or "PROGRAM TOTALS" in rest:
            continue
        # "(12.3%)  file:function [object]"
        name = rest.split(")", 1)[-1].strip().split(" [")[0].split(":", 1)[-1]
        counts[name] = counts.get(name, 0) + int(head.replace(",", ""))
    return counts


def profile(paths: list[str], n: int, top: int, inclusive: bool) -> None:
    """Print the functions whose cost per op grew most between the two runs."""
    short, long_ = (_by_function(p, inclusive) for p in paths)
    diff = {f: (long_.get(f, 0) - short.get(f, 0)) / n for f in set(short) | set(long_)}
    for f, d in sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"    {d:8.1f}  {f[:150]}")


def measure(
    module_name: str, op: str, n: int, keep: str | None, top: int = 0, inclusive: bool = False
) -> float:
    """Instructions per op: (Ir(2n) - Ir(n)) / n; with ``top``, also the costliest functions."""
    out_dir = keep or tempfile.mkdtemp(prefix="callgrind_ops_")
    totals = []
    paths = []
    for count in (n, 2 * n):
        out = os.path.join(out_dir, f"callgrind.{module_name}.{op}.{count}")
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            "--module",
            module_name,
            op,
            "-n",
            str(count),
            "--nmax",
            str(2 * n),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # same dict layouts in both runs
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        totals.append(_total(out))
        paths.append(out)
    if top:
        profile(paths, n, top, inclusive)
    return (totals[1] - totals[0]) / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ops", nargs="*", default=list(OPS), help=f"some of {', '.join(OPS)}")
    parser.add_argument("-n", type=int, default=20_000, help="ops in the shorter run (default 20000)")
    parser.add_argument("--module", default="moka_py_rust", help="import name of the package to measure")
    parser.add_argument("--keep", help="keep the callgrind output files in this directory")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions per op")
    parser.add_argument("--inclusive", action="store_true", help="with --top: inclusive costs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--nmax", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.module, args.ops[0], args.n, args.nmax)
        return
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    for op in args.ops:
        per_op = measure(args.module, op, args.n, args.keep, args.top, args.inclusive)
        print(f"{op:14s} {per_op:10.0f} instructions/op", flush=True)


if __name__ == "__main__":
    main()
