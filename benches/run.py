"""Run the moka-py benchmarks against their peers and write the reports.

    python benches/run.py                 # everything, about 10 minutes on 2 cores
    python benches/run.py --quick         # a smoke run: checks the harness, not speed
    python benches/run.py --only speed --only floor --out /tmp/bench

Groups: speed, floor (in the speed rounds), memory, hit_ratio, threads, loading; subjects that are
not installed are skipped with a note.  ``benches/README.md`` says how to read the outputs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import floor  # noqa: E402
import hit_ratio  # noqa: E402
import legacy  # noqa: E402
import loading  # noqa: E402
import memory  # noqa: E402
import report  # noqa: E402
import timing  # noqa: E402
from subjects import OURS, PEERS, SUBJECTS, load_adapter  # noqa: E402

GROUPS = ("speed", "floor", "memory", "hit_ratio", "threads", "loading")

MOKA = (*OURS, "moka-py-0.5.0[tiny_lfu]")
MEMORY_SUBJECTS = (*MOKA, *PEERS, "lru_cache", "dict")
HIT_RATIO_SUBJECTS = (*MOKA, "moka-py-0.5.0[lru]", *PEERS)
THREAD_SUBJECTS = ("rust[tiny_lfu]", "pure[tiny_lfu]", "moka-py-0.5.0[tiny_lfu]", *PEERS)


@dataclass(frozen=True)
class Sizes:
    """The groups' sizes beside the speed loops' (``timing.SpeedConfig``): a full run's by default."""

    memory_entries: int = 1_000_000
    trace_accesses: int = hit_ratio.MAX_ACCESSES
    zipf_accesses: int = 1_000_000
    thread_seconds: float = 1.0
    thread_rounds: int = 5


QUICK = Sizes(20_000, 20_000, 20_000, 0.05, 2)


_LOG_LOCK = threading.Lock()


def log(msg: str) -> None:
    """Progress on stdout, flushed (nox buffers otherwise), one whole line at a time."""
    with _LOG_LOCK:
        print(msg, flush=True)


def machine() -> str:
    """CPU model, core count and OS, as one line for the report."""
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else ():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


class Executors:
    """Where each subject runs: this process, the moka-py 0.5.0 worker, or a forced-backend worker."""

    def __init__(self, legacy_python: str | None) -> None:
        self.local = timing.LocalExecutor()
        self.legacy_python = legacy_python
        self.workers: dict[str, timing.RemoteExecutor] = {}

    def worker(self, key: str) -> timing.Executor | None:
        """A worker process, started on first use: ``"legacy"`` or a backend name."""
        if key == "legacy" and self.legacy_python is None:
            return None
        if key not in self.workers:
            env = {**os.environ, "MOKA_PY_BACKEND": key}
            name, python = f"MOKA_PY_BACKEND={key}", sys.executable
            if key == "legacy":
                name, python, env = "moka-py 0.5.0 venv", self.legacy_python or "", timing.isolated_env()
            self.workers[key] = timing.RemoteExecutor(name, python, env)
        return self.workers[key]

    def for_subject(self, subject: str, op: str = "") -> timing.Executor | None:
        """The executor for ``subject`` (``op`` prefixed ``worker:`` asks for a forced-backend worker)."""
        spec = SUBJECTS[subject]
        if spec.home == "legacy":
            return self.worker("legacy")
        if op.startswith("worker:") and spec.backend is not None:
            return self.worker(spec.backend)
        return self.local

    def close(self) -> None:
        """Stop every worker."""
        for w in self.workers.values():
            w.close()


def discover(ex: Executors) -> dict[str, dict[str, Any]]:
    """Which subjects can run here: label, version and where, or the reason they cannot."""
    found: dict[str, dict[str, Any]] = {}
    for sid, spec in SUBJECTS.items():
        if spec.group == "floor":
            continue
        try:
            if (executor := ex.for_subject(sid)) is None:
                raise ImportError("moka-py 0.5.0 venv unavailable")
            version = executor.command("version", subject=sid)
            label = load_adapter(sid).label if spec.home == "local" else f"moka-py 0.5.0 [{spec.policy}]"
            where = "harness process" if executor is ex.local else executor.name
            found[sid] = {"label": label, "version": version, "where": where, "group": spec.group}
        except Exception as exc:  # not installed or broken: reported and skipped
            log(f"  skip {sid}: {type(exc).__name__}: {exc}")
    return found


def run_speed(
    ex: Executors,
    subjects: list[str],
    cfg: timing.SpeedConfig,
    results: dict[str, Any],
    floors: floor.Floors | None = None,
) -> None:
    """The loop-overhead baselines; then every operation, every subject, alternating order (with
    ``floors``, moka alone and the least binding too, for the operations moka alone has)."""
    results["baselines"] = timing.run_baselines(cfg)

    def executor_for(sid: str, op: str) -> timing.Executor | None:
        floor_ex = floors.executor(sid) if floors is not None else None
        return floor_ex or ex.for_subject(sid, op)  # the least binding runs in this process

    speed: dict[str, Any] = {}
    for op, spec in timing.OPS.items():
        t0 = time.perf_counter()
        extra = floors.ids if floors is not None and op in floor.FLOOR_OP else []
        res = timing.run_speed(op, subjects + extra, executor_for, cfg, log)
        speed[op] = {"title": spec.title, "results": res}
        best = sorted((r["median_ns"], s) for s, r in res.items() if "median_ns" in r)
        summary = ", ".join(f"{s} {v:.0f}" for v, s in best)
        log(f"  {op:<15} ({time.perf_counter() - t0:4.1f}s) ns/op: {summary}")
    results["speed"] = speed


def run_memory(ex: Executors, subjects: list[str], entries: int, results: dict[str, Any]) -> None:
    """One fresh process per subject."""
    mem: dict[str, Any] = {}
    for sid in subjects:
        spec = SUBJECTS[sid]
        python = ex.legacy_python if spec.home == "legacy" else sys.executable
        if python is None:
            continue
        try:
            env = timing.isolated_env() if spec.home == "legacy" else None
            mem[sid] = memory.measure_in_subprocess(sid, entries, python, env)
            log(f"  {sid:<26} {mem[sid]['bytes_per_entry']:7.1f} bytes/entry (held {mem[sid]['held']:,})")
        except Exception as exc:
            mem[sid] = {"error": str(exc)}
            log(f"  {sid}: {exc}")
    results["memory"] = mem


def run_hit_ratio(
    ex: Executors, subjects: list[str], folder: Path | None, accesses: int, zipf: int, results: dict[str, Any]
) -> None:
    """Replay every trace at its capacities, Belady's optimum beside.  Pure-backend subjects (slow)
    run in their own worker in parallel with the rest: hit ratio is counted, not timed."""
    if folder is not None and not folder.is_dir():
        log(f"  no traces at {folder}: only the Zipf traces are replayed (pass --traces FOLDER)")
        folder = None
    with tempfile.TemporaryDirectory(prefix="moka-bench-traces-") as tmp:
        traces = hit_ratio.prepare_traces(folder, Path(tmp), accesses, zipf)
        out: dict[str, dict[str, dict[str, Any]]] = {}  # trace -> capacity -> subject -> figures
        for t, v in traces.items():
            keys = hit_ratio.read_trace(v["path"])
            out[t] = {str(c): {"belady": {"ratio": hit_ratio.belady(keys, c)}} for c in v["capacities"]}
            log(
                f"  {t:<20} {v['accesses']:>9,} accesses, {v['distinct']:>7,} keys; Belady "
                + ", ".join(f"@{c} {out[t][str(c)]['belady']['ratio']:.4f}" for c in v["capacities"])
            )

        def lane(sids: list[str], op: str) -> None:
            for sid in sids:
                if (executor := ex.for_subject(sid, op)) is None:
                    continue
                t0 = time.perf_counter()
                for trace, v in traces.items():
                    for cap in v["capacities"]:
                        try:
                            r = executor.command("hit_ratio", subject=sid, trace=v["path"], capacity=cap)
                        except Exception as exc:
                            r = {"error": str(exc)}
                        out[trace][str(cap)][sid] = r
                log(f"  {sid:<26} replayed in {time.perf_counter() - t0:.0f}s")

        slow = [s for s in subjects if SUBJECTS[s].backend == "pure"]
        fast = [s for s in subjects if s not in slow]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lane, (slow, fast), ("worker:hit_ratio", "")))
    results["hit_ratio"] = {
        "traces": {t: {k: v[k] for k in ("accesses", "distinct", "capacities")} for t, v in traces.items()},
        "max_accesses": accesses,
        "credits": {f: hit_ratio.CREDITS[f] for f in dict.fromkeys(map(hit_ratio.family, traces))},
        "results": out,
    }


def run_threads(
    ex: Executors, subjects: list[str], duration: float, rounds: int, results: dict[str, Any]
) -> None:
    """1 and 2 threads for each subject, in its own home: ``rounds`` alternating rounds, medians.
    (One run moves by a third between runs on a 2-core VM, more than the moka subjects differ.)"""
    samples: dict[str, dict[str, list[float]]] = {}
    errors: dict[str, str] = {}
    live = [(sid, e) for sid in subjects if (e := ex.for_subject(sid)) is not None]
    for r in range(rounds):
        for sid, executor in timing.alternating(live, r):
            if sid in errors:
                continue
            for n in (1, 2):
                try:
                    got = executor.command("threads", subject=sid, threads=n, duration=duration)
                except Exception as exc:
                    errors[sid] = str(exc)
                    break
                samples.setdefault(sid, {}).setdefault(str(n), []).append(got["ops_per_s"])
    out: dict[str, Any] = {}
    for sid, _ in live:
        by_n = samples.get(sid, {})
        out[sid] = {**{n: statistics.median(v) for n, v in by_n.items()}, "samples": by_n}
        out[sid].update({"error": errors[sid]} if sid in errors else {})
        figures = ", ".join(f"{n} thr {out[sid][n]:,.0f} ops/s" for n in by_n)
        log(f"  {sid:<26} {figures} {errors.get(sid, '')}")
    results["threads"] = out


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen groups, write the reports."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, few repeats (seconds)")
    ap.add_argument("--only", action="append", choices=GROUPS, metavar="GROUP", help=f"repeatable: {GROUPS}")
    ap.add_argument("--out", type=Path, help="output folder (default benches/results, or its quick/)")
    traces = HERE.parent.parent / "shared" / "traces"
    ap.add_argument("--traces", type=Path, default=traces, help="published traces (default ../shared/traces)")
    ap.add_argument("--no-legacy", action="store_true", help="skip moka-py 0.5.0 (no venv is created)")
    args = ap.parse_args(argv)

    groups = args.only or list(GROUPS)
    if "floor" in groups and "speed" not in groups:
        ap.error("the floor group runs in the speed group's rounds: add --only speed")
    out = args.out or (HERE / "results" / ("quick" if args.quick else ""))
    cfg = timing.SpeedConfig(0.002, 3, 2_000, 10_000) if args.quick else timing.SpeedConfig()
    sizes = QUICK if args.quick else Sizes()

    started = time.perf_counter()
    log(f"moka-py benchmarks: {machine()}; Python {platform.python_version()}")
    legacy_python = None if args.no_legacy else legacy.legacy_python(log)
    ex = Executors(legacy_python)
    argv_text = shlex.join(sys.argv[1:])
    meta = {
        "machine": machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": ("nox -s bench" + (f" -- {argv_text}" if argv_text else ""))
        if os.environ.get("NOX_CURRENT_SESSION")
        else f"python benches/run.py {argv_text}",
        "load_before": os.getloadavg()[0],  # the machine may be shared: the report says how busy it was
        "quick": args.quick,
        "groups": groups,
        "config": {**cfg.__dict__, **sizes.__dict__},
    }
    results: dict[str, Any] = {"meta": meta}
    try:
        results["subjects"] = subjects = discover(ex)
        results["subject_order"] = order = list(subjects)
        log("subjects: " + ", ".join(order))
        if "speed" in groups:
            if "floor" in groups:
                log("moka alone (benches/moka_floor): building; it runs in the speed rounds")
            floors = floor.Floors(cfg, log) if "floor" in groups else None
            try:
                log("speed (median ns/op, alternating order):")
                run_speed(ex, order, cfg, results, floors)
            finally:
                if floors is not None:
                    floors.close()
                    results["floor"] = floors.results()
        if "memory" in groups:
            log(f"memory ({sizes.memory_entries:,} entries, fresh process each):")
            run_memory(ex, [s for s in MEMORY_SUBJECTS if s in subjects], sizes.memory_entries, results)
        if "hit_ratio" in groups:
            log(f"hit ratio (at most {sizes.trace_accesses:,} accesses per trace; get, set on a miss):")
            hr_subjects = [s for s in HIT_RATIO_SUBJECTS if s in subjects]
            run_hit_ratio(ex, hr_subjects, args.traces, sizes.trace_accesses, sizes.zipf_accesses, results)
        if "threads" in groups:
            log(f"threads ({sizes.thread_seconds}s per run, {sizes.thread_rounds} alternating rounds):")
            thr_subjects = [s for s in THREAD_SUBJECTS if s in subjects]
            run_threads(ex, thr_subjects, sizes.thread_seconds, sizes.thread_rounds, results)
        if "loading" in groups:
            log("loading (benches/loading.py: aget_with hit against get_with hit + await, per backend):")
            results["loading"] = loading.run(quick=args.quick, log=log)
    finally:
        ex.close()
    for sid, info in results.get("subjects", {}).items():
        # A backend's decorator operations may run in a worker that forces it: named once.
        where = {op["results"].get(sid, {}).get("where") for op in results.get("speed", {}).values()}
        for w in sorted(where - {None, "local", "moka-py 0.5.0 venv"}):
            info["where"] += f"; decorators in a {w} worker"
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["load_after"] = os.getloadavg()[0]
    paths = report.write_all(results, out)
    log(f"wrote {', '.join(str(p) for p in paths)} in {meta['seconds']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
