"""Run the moka-py benchmarks against their peers and write the reports.

    python benches/run.py                 # everything, about 8 minutes on 2 cores
    python benches/run.py --quick         # a smoke run: checks the harness, not speed
    python benches/run.py --only speed --only floor --out /tmp/bench

Groups: speed, floor (in the speed rounds), memory, hit_ratio, threads, loading; subjects that are
not installed are skipped with a note.  ``benches/README.md`` says how to read the outputs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import floor  # noqa: E402
import hit_ratio  # noqa: E402
import legacy  # noqa: E402
import loading  # noqa: E402
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
    info = Path("/proc/cpuinfo")
    model = re.search(r"^model name[^:]*:(.*)$", info.read_text() if info.exists() else "", re.MULTILINE)
    cpu = model[1].strip() if model else platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


@dataclass
class Bench:
    """One run of the harness: its sizes, command line and results so far, and where each subject
    runs: this process, the moka-py 0.5.0 worker or a forced-backend worker (started on first use)."""

    cfg: timing.SpeedConfig
    sizes: Sizes
    args: argparse.Namespace
    results: dict[str, Any]
    legacy_python: str | None
    local: timing.Executor = field(default_factory=timing.LocalExecutor)
    workers: dict[str, timing.Executor | None] = field(default_factory=dict)

    def subjects(self, wanted: tuple[str, ...] | None = None) -> list[str]:
        """The subjects found here, in discovery order, of ``wanted`` if given."""
        return [s for s in self.results["subject_order"] if wanted is None or s in wanted]

    def spawn(self, key: str) -> timing.RemoteExecutor | None:
        """A new worker process: ``"legacy"`` (``None`` without its venv), ``"local"`` (this
        interpreter and environment) or a backend name (forced by ``MOKA_PY_BACKEND``)."""
        name, python, env = f"MOKA_PY_BACKEND={key}", sys.executable, {**os.environ, "MOKA_PY_BACKEND": key}
        if key == "local":
            name, env = "fresh process", dict(os.environ)
        if key == "legacy":
            name, python, env = "moka-py 0.5.0 venv", self.legacy_python or "", timing.isolated_env()
        return None if not python else timing.RemoteExecutor(name, python, env)

    def for_subject(self, subject: str, op: str = "") -> timing.Executor | None:
        """The executor for ``subject`` (``op`` prefixed ``worker:`` asks for a forced-backend worker)."""
        spec = SUBJECTS[subject]
        key = spec.backend if op.startswith("worker:") and spec.backend is not None else spec.home
        if key != "local" and key not in self.workers:
            self.workers[key] = self.spawn(key)
        return self.local if key == "local" else self.workers[key]

    def close(self) -> None:
        """Stop every worker."""
        for w in self.workers.values():
            if w is not None:
                w.close()


def discover(b: Bench) -> dict[str, dict[str, Any]]:
    """Which subjects can run here: label, version and where, or the reason they cannot."""
    found: dict[str, dict[str, Any]] = {}
    for sid, spec in SUBJECTS.items():
        if spec.group == "floor":
            continue
        try:
            if (executor := b.for_subject(sid)) is None:
                raise ImportError("moka-py 0.5.0 venv unavailable")
            version = executor.command("version", subject=sid)
            label = load_adapter(sid).label if spec.home == "local" else f"moka-py 0.5.0 [{spec.policy}]"
            where = "harness process" if executor is b.local else executor.name
            found[sid] = {"label": label, "version": version, "where": where, "group": spec.group}
        except Exception as exc:  # not installed or broken: reported and skipped
            log(f"  skip {sid}: {type(exc).__name__}: {exc}")
    return found


def run_speed(b: Bench) -> None:
    """The loop-overhead baselines; then every operation, every subject, alternating order (with
    the floor group, moka alone and the least binding too, for the operations moka alone has)."""
    floors = floor.Floors(b.cfg) if "floor" in b.args.only else None
    log("speed (median ns/op, alternating order):")
    b.results["baselines"] = timing.run_baselines(b.cfg)

    def executor_for(sid: str, op: str) -> timing.Executor | None:
        floor_ex = floors.executor(sid) if floors is not None else None
        return floor_ex or b.for_subject(sid, op)  # the least binding runs in this process

    speed: dict[str, Any] = {}
    try:
        for op, spec in timing.OPS.items():
            t0 = time.perf_counter()
            extra = floors.ids if floors is not None and op in floor.FLOOR_OP else []
            res = timing.run_speed(op, b.subjects() + extra, executor_for, b.cfg, log)
            speed[op] = {"title": spec.title, "results": res}
            best = sorted((r["median_ns"], s) for s, r in res.items() if "median_ns" in r)
            summary = ", ".join(f"{s} {v:.0f}" for v, s in best)
            log(f"  {op:<15} ({time.perf_counter() - t0:4.1f}s) ns/op: {summary}")
    finally:
        b.results["speed"] = speed
        if floors is not None:
            b.results["floor"] = floors.results()
    for sid, info in b.results["subjects"].items():
        # A backend's decorator operations may run in a worker that forces it: named once.
        where = {v["results"].get(sid, {}).get("where") for v in speed.values()}
        for w in sorted(where - {None, "local", "moka-py 0.5.0 venv"}):
            info["where"] += f"; decorators in a {w} worker"


def run_memory(b: Bench) -> None:
    """One fresh process per subject."""
    log(f"memory ({b.sizes.memory_entries:,} entries, fresh process each):")
    mem: dict[str, Any] = b.results.setdefault("memory", {})
    for sid in b.subjects(MEMORY_SUBJECTS):
        if (worker := b.spawn(SUBJECTS[sid].home)) is None:
            continue
        try:
            mem[sid] = worker.command("memory", subject_id=sid, entries=b.sizes.memory_entries)
            log(f"  {sid:<26} {mem[sid]['bytes_per_entry']:7.1f} bytes/entry (held {mem[sid]['held']:,})")
        except Exception as exc:
            mem[sid] = {"error": str(exc)}
            log(f"  {sid}: {exc}")
        finally:
            worker.close()


def run_hit_ratio(b: Bench) -> None:
    """Replay every trace at its capacities, Belady's optimum beside.  Pure-backend subjects (slow)
    run in their own worker in parallel with the rest: hit ratio is counted, not timed."""
    accesses, folder = b.sizes.trace_accesses, b.args.traces
    log(f"hit ratio (at most {accesses:,} accesses per trace; get, set on a miss):")
    if not folder.is_dir():
        log(f"  no traces at {folder}: only the Zipf traces are replayed (pass --traces FOLDER)")
    with tempfile.TemporaryDirectory(prefix="moka-bench-traces-") as tmp:
        traces = hit_ratio.prepare_traces(folder, Path(tmp), accesses, b.sizes.zipf_accesses)
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
                if (executor := b.for_subject(sid, op)) is None:
                    continue
                t0 = time.perf_counter()
                for trace, v in traces.items():
                    for cap in v["capacities"]:
                        try:
                            r = executor.command("hit_ratio", subject_id=sid, path=v["path"], capacity=cap)
                        except Exception as exc:
                            r = {"error": str(exc)}
                        out[trace][str(cap)][sid] = r
                log(f"  {sid:<26} replayed in {time.perf_counter() - t0:.0f}s")

        subjects = b.subjects(HIT_RATIO_SUBJECTS)
        slow = [s for s in subjects if SUBJECTS[s].backend == "pure"]
        fast = [s for s in subjects if s not in slow]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lane, (slow, fast), ("worker:hit_ratio", "")))
    b.results["hit_ratio"] = {
        "traces": {t: {k: v[k] for k in ("accesses", "distinct", "capacities")} for t, v in traces.items()},
        "max_accesses": accesses,
        "credits": {f: hit_ratio.CREDITS[f] for f in dict.fromkeys(map(hit_ratio.family, traces))},
        "results": out,
    }


def run_threads(b: Bench) -> None:
    """1 and 2 threads for each subject, in its own home: alternating rounds, medians.
    (One run moves by a third between runs on a 2-core VM, more than the moka subjects differ.)"""
    duration, rounds = b.sizes.thread_seconds, b.sizes.thread_rounds
    log(f"threads ({duration}s per run, {rounds} alternating rounds):")
    samples: dict[str, dict[str, list[float]]] = {}
    live = [(sid, e) for sid in b.subjects(THREAD_SUBJECTS) if (e := b.for_subject(sid)) is not None]

    def sample(sid: str, executor: timing.Executor) -> None:
        for n in (1, 2):
            got = executor.command("threads", subject_id=sid, threads=n, duration=duration)
            samples.setdefault(sid, {}).setdefault(str(n), []).append(got["ops_per_s"])

    errors = timing.rounds(live, rounds, sample)
    out: dict[str, Any] = b.results.setdefault("threads", {})
    for sid, _ in live:
        by_n = samples.get(sid, {})
        out[sid] = {**{n: statistics.median(v) for n, v in by_n.items()}, "samples": by_n}
        out[sid].update({"error": errors[sid]} if sid in errors else {})
        figures = ", ".join(f"{n} thr {out[sid][n]:,.0f} ops/s" for n in by_n)
        log(f"  {sid:<26} {figures} {errors.get(sid, '')}")


def run_loading(b: Bench) -> None:
    """``benches/loading.py``, per backend."""
    log("loading (benches/loading.py: aget_with hit against get_with hit + await, per backend):")
    sizes = ["--calls", "20000", "--repeats", "2"] if b.args.quick else []
    b.results["loading"] = loading.run(sizes, lambda line: log("  " + line))


GROUP_RUNS = {"speed": run_speed, "memory": run_memory, "hit_ratio": run_hit_ratio}
GROUP_RUNS |= {"threads": run_threads, "loading": run_loading}
"""Each group's run, in run order (the floor group runs inside the speed group)."""


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
    args.only = args.only or list(GROUPS)
    if "floor" in args.only and "speed" not in args.only:
        ap.error("the floor group runs in the speed group's rounds: add --only speed")
    out = args.out or (HERE / "results" / ("quick" if args.quick else ""))
    cfg = timing.SpeedConfig(0.002, 3, 2_000, 10_000) if args.quick else timing.SpeedConfig()
    sizes = QUICK if args.quick else Sizes()

    started = time.perf_counter()
    log(f"moka-py benchmarks: {machine()}; Python {platform.python_version()}")
    legacy_python = None if args.no_legacy else legacy.legacy_python(log)
    argv_text = shlex.join(sys.argv[1:])
    meta = {
        "machine": machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": report.utc_now(),
        "command": ("nox -s bench" + (f" -- {argv_text}" if argv_text else ""))
        if os.environ.get("NOX_CURRENT_SESSION")
        else f"python benches/run.py {argv_text}",
        "load_before": os.getloadavg()[0],  # the machine may be shared: the report says how busy it was
        "quick": args.quick,
        "groups": args.only,
        "config": {**cfg.__dict__, **sizes.__dict__},
    }
    results: dict[str, Any] = {"meta": meta}
    bench = Bench(cfg, sizes, args, results, legacy_python)
    try:
        results["subjects"] = subjects = discover(bench)
        results["subject_order"] = list(subjects)
        log("subjects: " + ", ".join(subjects))
        for group, run in GROUP_RUNS.items():
            if group in args.only:
                run(bench)
    finally:
        bench.close()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["load_after"] = os.getloadavg()[0]
    paths = report.write_all(results, out)
    log(f"wrote {', '.join(str(p) for p in paths)} in {meta['seconds']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
