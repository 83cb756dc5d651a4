"""Instructions per operation under valgrind's callgrind: the stable view of the Rust backend.

Wall-clock medians on a shared 2-core machine move by 20-40 % between runs; instruction counts do
not (they count work, not memory traffic).  ``packages/moka-py-rust/tools/callgrind_ops.py``
counts one operation (an ``n``-op run subtracted from a ``2n``-op one, Python loop included;
tiny_lfu, 10,000 entries) for ours, the least binding, moka-py 0.5.0 (its venv) and, for the
decorators, ``functools.lru_cache``.  After ``nox -s bench`` has built the environment::

    .nox/bench/bin/python benches/instructions.py          # every operation, ~2 minutes on 2 cores

It writes ``instructions.json`` and ``instructions.md`` to ``benches/results/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import legacy
from report import table, utc_now

HERE = Path(__file__).resolve().parent
TOOL = HERE.parent / "packages" / "moka-py-rust" / "tools" / "callgrind_ops.py"
OPS = (
    "get_hit", "get_miss", "get_hit_str", "set_replace", "set_evict",
    "get_with_hit", "remove", "get_hit_ttl", "cached_hit", "cached_ttl_hit",
)  # fmt: skip
COLUMNS = ("moka-py 0.5.0", "lru_cache", "least binding", "ours")
DIVISORS = ("moka-py 0.5.0", "least binding")
"""The columns ours is divided by."""


def count(python: str, module: str, op: str, n: int) -> float | str:
    """Instructions per op of ``module`` for ``op``, run by ``python`` (or the error, as text)."""
    cmd = [python, str(TOOL), op, "-n", str(n), "--module", module]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(rf"^{re.escape(op)}\s+(\d+) instructions/op$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or m is None:
        return f"{module} {op}: " + ((proc.stderr or proc.stdout).strip().splitlines() or ["no output"])[-1]
    return float(m.group(1))


def main(argv: list[str] | None = None) -> int:
    """Count every (operation, subject), print the table, write JSON and Markdown."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5_000, help="ops in the shorter callgrind run (default 5000)")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder (benches/results)")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    old = legacy.legacy_python()
    jobs: dict[tuple[str, str], tuple[str, str]] = {}
    for op in OPS:
        jobs[(op, "ours")] = (sys.executable, "moka_py_rust")
        if old is not None:
            jobs[(op, "moka-py 0.5.0")] = (old, "moka_py")
        if op.startswith("cached"):  # the least binding has no decorator
            jobs[(op, "lru_cache")] = (sys.executable, "functools")
        else:
            jobs[(op, "least binding")] = (sys.executable, "moka_least_binding")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {key: pool.submit(count, *job, key[0], args.n) for key, job in jobs.items()}
        counts = {key: f.result() for key, f in futures.items()}
    rows = {op: {c: counts.get((op, c)) for c in COLUMNS} for op in OPS}
    errors = [v for v in counts.values() if isinstance(v, str)]
    command = f"python benches/instructions.py -n {args.n}"

    def cell(x: float | str | None) -> str:
        return f"{x:,.0f}" if isinstance(x, float) else "-"

    def ratio(a: float | str | None, b: float | str | None) -> str:
        return f"{a / b:.2f}" if isinstance(a, float) and isinstance(b, float) and b else "-"

    cells = [
        [op, *(cell(r[c]) for c in COLUMNS), *(ratio(r["ours"], r[c]) for c in DIVISORS)]
        for op, r in rows.items()
    ]
    lines = [
        "# Instructions per operation (callgrind)",
        "",
        f"`{command}`: instructions per call, Python loop included "
        "(tiny_lfu, 10,000 entries; `packages/moka-py-rust/tools/callgrind_ops.py`).",
        "",
        table(["operation", *COLUMNS, *(f"ours ÷ {c}" for c in DIVISORS)], cells),
        *(f"\nerror: {e}" for e in errors),
    ]
    md = "\n".join(lines) + "\n"
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "date": utc_now(),
        "command": command,
        "rows": rows,
        "errors": errors,
    }
    (args.out / "instructions.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / "instructions.md").write_text(md)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
