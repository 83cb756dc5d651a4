"""Instructions per operation for every Rust speed target: ours, the least binding, the peer.

Wall-clock medians on a shared 2-core machine move by 20-40 % between runs, so a Rust target
that sits a few tens of percent from the peer can read as met in one run and missed in the next.
Instruction counts do not move: this script counts them with valgrind's callgrind
(``packages/moka-py-rust/tools/callgrind_ops.py``: the difference of an ``n``-op and a ``2n``-op
run, divided by ``n``, Python loop included) for

* ours: ``moka_py_rust`` (tiny_lfu, the target's numerator);
* the least binding: ``moka_least_binding`` (``benches/least_binding``, moka 0.12.16 behind PyO3
  and nothing else; not a cache, see ``docs/performance.md``);
* the peer: moka-py 0.5.0 in its own venv (``legacy.py``), or ``functools.lru_cache`` for the
  decorator targets,

and sets each beside ``limit x peer``, the target in instructions. Where the least binding needs
more instructions than the target allows, no PyO3 binding of this moka can meet the target by
doing less work; wall-clock time then depends on memory traffic, which callgrind does not count
(so this is evidence of where the work is, not a timing).

Run it with the bench environment's interpreter, after ``nox -s bench`` has built it::

    .nox/bench/bin/python benches/instructions.py            # every Rust target, ~2 minutes on 2 cores
    .nox/bench/bin/python benches/instructions.py -n 2000 --out /tmp/instr

It writes ``instructions.json`` and ``instructions.md`` to ``benches/results/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import legacy
from targets import TARGETS, Target

HERE = Path(__file__).resolve().parent
TOOL = HERE.parent / "packages" / "moka-py-rust" / "tools" / "callgrind_ops.py"

# The harness's operation names, as callgrind_ops.py spells them.
CALLGRIND_OP = {"get_hit_int": "get_hit", "get_miss_int": "get_miss"}


def _count(python: str, module: str, op: str, n: int) -> float:
    """Instructions per op of ``module`` for ``op`` (a callgrind_ops.py op), run by ``python``."""
    proc = subprocess.run(
        [python, str(TOOL), op, "-n", str(n), "--module", module],
        capture_output=True,
        text=True,
        check=False,
    )
    m = re.search(rf"^{re.escape(op)}\s+(\d+) instructions/op$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or m is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{module} {op}: callgrind_ops.py failed: {tail[0]}")
    return float(m.group(1))


def _rows(n: int, legacy_python: str | None) -> list[dict[str, Any]]:
    """Count every (subject, op) the Rust targets need, two at a time (counts do not depend on load)."""
    jobs: dict[tuple[str, str], tuple[str, str, str]] = {}
    plan: list[tuple[Target, str]] = []
    for t in TARGETS:
        if t.group != "rust" or t.num[1] == "memory":
            continue
        harness_op = t.num[1]
        op = CALLGRIND_OP.get(harness_op, harness_op)
        peer_job = ("functools", sys.executable) if t.den[0] == "lru_cache" else ("moka_py", legacy_python)
        plan.append((t, harness_op))
        subjects = [("ours", "moka_py_rust", sys.executable), ("peer", *peer_job)]
        if not op.startswith("cached"):  # the least binding has no decorator
            subjects.append(("least", "moka_least_binding", sys.executable))
        for role, module, python in subjects:
            if python is not None:
                jobs[(harness_op, role)] = (python, module, op)
    counts: dict[tuple[str, str], float | str] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {pool.submit(_count, *job, n): key for key, job in jobs.items()}
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            try:
                counts[key] = fut.result()
            except RuntimeError as exc:
                counts[key] = str(exc)
    rows = []
    for t, harness_op in plan:
        row: dict[str, Any] = {"target": t.text, "op": harness_op, "limit": t.limit, "peer": t.den[0]}
        for role, field in (("ours", "ours"), ("least", "least"), ("peer", "peer_instructions")):
            value = counts.get((harness_op, role))
            row[field] = value if isinstance(value, float) else None
            if isinstance(value, str):
                row.setdefault("errors", []).append(value)
        peer = row["peer_instructions"]
        row["target_instructions"] = t.limit * peer if peer else None
        row["verdict"] = _verdict(row)
        rows.append(row)
    return rows


def _verdict(row: dict[str, Any]) -> str:
    target, ours, least = row["target_instructions"], row["ours"], row["least"]
    if target is None or ours is None:
        return "missing"
    if ours <= target:
        return "ours within the target"
    if least is not None and least > target:
        return "least binding above the target"
    return "ours above the target"


def _markdown(rows: list[dict[str, Any]], n: int) -> str:
    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:,.0f}"

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if a is None or not b else f"{a / b:.2f}"

    lines = [
        "# Instructions per operation (callgrind), Rust targets",
        "",
        f"`python benches/instructions.py -n {n}`: instructions per call, Python loop included "
        "(tiny_lfu, 10,000 entries; `packages/moka-py-rust/tools/callgrind_ops.py`). The target in "
        "instructions is the limit times the peer's count.",
        "",
        "| target | peer | target | least binding | least ÷ peer | ours | ours ÷ peer | ours ÷ least "
        "| verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        peer = r["peer_instructions"]
        lines.append(
            f"| {r['target']} | {num(peer)} | {num(r['target_instructions'])} | {num(r['least'])} | "
            f"{ratio(r['least'], peer)} | {num(r['ours'])} | {ratio(r['ours'], peer)} | "
            f"{ratio(r['ours'], r['least'])} | {r['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Count, print the table, write JSON and Markdown."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5_000, help="ops in the shorter callgrind run (default 5000)")
    ap.add_argument(
        "--out", type=Path, default=HERE / "results", help="output folder (default benches/results)"
    )
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    rows = _rows(args.n, legacy.legacy_python())
    md = _markdown(rows, args.n)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"python benches/instructions.py -n {args.n}",
        "n": args.n,
        "rows": rows,
    }
    (args.out / "instructions.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / "instructions.md").write_text(md)
    return 1 if any("errors" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
