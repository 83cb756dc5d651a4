"""moka's own floor: what the ``moka`` crate alone costs per operation, beside the Python call floor.

The Rust targets of issue #5 are ratios to moka-py 0.5.0.  A binding cannot be cheaper than
moka's own work plus the Python call that reaches it, so the harness measures the first part
with ``benches/moka_floor`` (a standalone Cargo binary: moka built the way the Rust backend
builds it, ``u64`` keys and values, the operations and method of :mod:`timing`), and the
report puts it next to the matching loop-overhead baseline and each target in ns.

Two builds of the same source: against the moka version the Rust backend pins, and against
the version moka-py 0.5.0 links (cargo holds one 0.12.x per dependency graph, so the second
build uses a copied manifest, its own lock file and target folder, made at run time).

Each build runs as a server (``moka-floor --serve``, one :class:`FloorExecutor` per build), and
moka alone under each policy is one more subject of the speed group: prepared with the others
and timed in the same alternating rounds, so a slow phase of the machine moves the floor, the
peer and ours alike (when it ran in rounds of its own, the verdicts flipped between runs).  The
call floor (:data:`CALL_FLOOR`, the loop-overhead baseline of the operation's call shape) is one
more subject of the same rounds, so the sum beside each target is in phase too.

The sum leaves out what any binding must add: PyO3's call and argument handling, a value
reference, moka in a shared object (its thread-locals reached through ``__tls_get_addr``).  The
*least binding* (``benches/least_binding``, the ``least-binding[...]`` subjects) measures that: moka
behind PyO3 doing one ``hash(key)``, the moka call and one value reference per call, nothing
else (keys are their hash: a floor, not a cache).  It is timed in the same rounds; a target below
it is below what any PyO3 binding of this moka costs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from subjects import load_adapter
from targets import TARGETS
from timing import BASELINES, Executor, LocalExecutor, Prepared, SpeedConfig, keyset, stop_worker

__all__ = [
    "CALL_FLOOR",
    "FLOOR_OP",
    "CallFloorExecutor",
    "PEER_MOKA",
    "PINNED_MOKA",
    "FloorExecutor",
    "Floors",
    "least_id",
    "build",
    "target_rows",
]

CRATE = Path(__file__).resolve().parent / "moka_floor"
PINNED_MOKA = "0.12.16"
"""The version ``packages/moka-py-rust`` pins (and ``moka_floor/Cargo.toml`` with it)."""
PEER_MOKA = "0.12.16"
"""The version moka-py 0.5.0's extension links (its panic locations name ``moka-0.12.16``)."""

FLOOR_OP = {
    "get_hit_int": "get_hit_int",
    "get_hit_str": "get_hit_int",
    "get_miss_int": "get_miss_int",
    "get_miss_str": "get_miss_int",
    "set_replace": "set_replace",
    "set_evict": "set_evict",
    "get_with_hit": "get_with_hit",
    "remove": "remove",
    "get_hit_ttl": "get_hit_ttl",
    "cached_hit": "get_hit_int",
    "cached_ttl_hit": "get_hit_ttl",
}
"""The moka-alone operation under each harness operation.  moka sees a 64-bit hash whatever the
Python key type (the backend hashes the key before calling moka), so str keys map to the int
figure, and a decorator hit is a ``get`` hit."""

CALL_FLOOR = {
    "get_hit_int": "call1: id(k)",
    "get_hit_str": "call1: id(k)",
    "get_miss_int": "call1: id(k)",
    "get_miss_str": "call1: id(k)",
    "set_replace": "call2: {}.get(k, x)",
    "set_evict": "call2: {}.get(k, x)",
    "get_with_hit": "call2: {}.get(k, x)",
    "remove": "call1: id(k)",
    "get_hit_ttl": "call1: id(k)",
    "cached_hit": "call1: id(k)",
    "cached_ttl_hit": "call1: id(k)",
}
"""The baseline loop with the same shape as the moka-py subjects' call for each operation
(``subjects.MokaAdapter``: ``get(k)``, ``set(k, v)``, ``get_with(k, f)``, ``remove(k)``;
a decorated ``f(k)``)."""

Log = Callable[[str], None]


def _cargo(args: list[str], log: Log) -> bool:
    proc = subprocess.run(["cargo", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        log(f"  cargo {' '.join(args[:2])} failed:\n{tail}")
        return False
    return True


def _locked_moka(lock: Path) -> str | None:
    """The moka version a ``Cargo.lock`` resolved."""
    m = re.search(r'name = "moka"\nversion = "([^"]+)"', lock.read_text())
    return m.group(1) if m else None


def _peer_manifest(folder: Path) -> Path:
    """A copy of the crate's manifest pinned to :data:`PEER_MOKA`, building the same ``src``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (CRATE / "Cargo.toml").read_text()
    pinned = f'version = "={PINNED_MOKA}"'
    if pinned not in text:
        raise RuntimeError(f"moka_floor/Cargo.toml no longer pins moka {PINNED_MOKA}")
    text = text.replace(pinned, f'version = "={PEER_MOKA}"')
    text += f'\n[[bin]]\nname = "moka-floor"\npath = {json.dumps(str(CRATE / "src" / "main.rs"))}\n'
    manifest = folder / "Cargo.toml"
    if not manifest.exists() or manifest.read_text() != text:
        manifest.write_text(text)  # rewritten only on change, so cargo can reuse its build
    return manifest


def build(log: Log) -> tuple[dict[str, Path], list[str]]:
    """Build the binary for each moka version; returns ``{version: binary}`` and notes on what was skipped."""
    if shutil.which("cargo") is None:
        return {}, ["skipped: cargo is not installed"]
    binaries: dict[str, Path] = {}
    notes: list[str] = []
    manifest = CRATE / "Cargo.toml"
    if _cargo(["build", "--release", "--quiet", "--manifest-path", str(manifest)], log):
        version = _locked_moka(CRATE / "Cargo.lock") or PINNED_MOKA
        binaries[version] = CRATE / "target" / "release" / "moka-floor"
    else:
        notes.append(f"moka {PINNED_MOKA} build failed")
    # Its own folder (inside target/, ignored by git) with its own [workspace], lock and target.
    peer = _peer_manifest(CRATE / "target" / f"moka-{PEER_MOKA}")
    lock = peer.parent / "Cargo.lock"
    ok = True
    if not lock.exists() or _locked_moka(lock) != PEER_MOKA:
        # The pinned lock, moved to the peer version: every other crate stays where it was.
        shutil.copyfile(CRATE / "Cargo.lock", lock)
        ok = _cargo(
            ["update", "--quiet", "-p", "moka", "--precise", PEER_MOKA, "--manifest-path", str(peer)], log
        )
    ok = ok and _cargo(["build", "--release", "--quiet", "--manifest-path", str(peer)], log)
    if ok:
        binaries[_locked_moka(lock) or PEER_MOKA] = (
            peer.parent / "target" / "release" / "moka-floor"
        )
    else:
        notes.append(f"moka {PEER_MOKA} build failed (needs crates.io once)")
    return binaries, notes


def _panic_message(stderr: str) -> str:
    """The message of a Rust panic (the line after ``panicked at``), else the last line."""
    lines = stderr.strip().splitlines() or ["?"]
    for i, line in enumerate(lines[:-1]):
        if " panicked at " in line:
            return lines[i + 1]
    return lines[-1]


def _args(cfg: SpeedConfig) -> list[str]:
    # moka alone runs a loop in tens of ns: allow enough keys for a target_s loop at 25 ns/op.
    max_keys = max(cfg.max_keys, round(cfg.target_s * 1e9 / 25))
    return [
        "--target-s", str(cfg.target_s),
        "--n-keys", str(cfg.n_keys),
        "--max-keys", str(max_keys),
    ]  # fmt: skip


POLICIES = ("tiny_lfu", "lru")


def subject_id(version: str, policy: str) -> str:
    """The speed group's id for moka ``version`` alone under ``policy``."""
    return f"moka {version} alone [{policy}]"


def least_id(policy: str) -> str:
    """The id of the least binding under ``policy`` (a ``subjects.SUBJECTS`` entry)."""
    return f"least-binding[{policy}]"


class FloorExecutor(Executor):
    """One ``moka-floor --serve`` process: moka alone, prepared and timed like a Python subject.

    ``prepare`` builds, fills and calibrates a cache for the moka operation under the harness
    operation (:data:`FLOOR_OP`); an operation without one (``get_with_miss``) is ``"unsupported"``.
    A panic ends the process; its message is raised from the call that found it.
    """

    def __init__(self, version: str, binary: Path, cfg: SpeedConfig) -> None:
        self.version = version
        self.name = f"moka_floor {version}"
        # A file, not a pipe: a pipe nobody reads could fill.  Closed by close().
        self.stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(binary), "--serve", *_args(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = ""
        if not line:
            code = self.proc.wait()
            self.stderr.seek(0)
            raise RuntimeError(f"{self.name} exited (code {code}): {_panic_message(self.stderr.read())}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.name}: {reply['error']}")
        return reply

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """Prepare moka alone for ``op`` under the subject's policy."""
        moka_op = FLOOR_OP.get(op)
        if moka_op is None:
            return "unsupported", None, 0
        policy = subject_id[subject_id.index("[") + 1 : -1]
        reply = self._ask(f"prepare {moka_op} {policy}")
        return "ok", int(reply["handle"]), int(reply["n"])

    def measure(self, handle: int) -> float:
        """One timed loop: ns/op."""
        return float(self._ask(f"measure {handle}")["ns"])

    def release(self, handle: int) -> None:
        """Drop the prepared cache."""
        self._ask(f"release {handle}")

    def close(self) -> None:
        """End the server (it exits when its stdin closes)."""
        stop_worker(self.proc)
        self.stderr.close()


CALL_FLOOR_ID = "call floor"
"""The speed group's id for the loop-overhead baseline of each operation's call shape."""


class CallFloorExecutor(LocalExecutor):
    """The call floor as a subject: the :data:`CALL_FLOOR` loop of each operation, in this process.

    The same loops as the harness's loop-overhead baselines (``timing.BASELINES``), timed again in
    each operation's rounds so that moka alone + the call floor is one in-phase sum.  Measured and
    released like any local subject; only what is prepared differs.
    """

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """The loop of ``op``'s call shape over the int access order."""
        shape = CALL_FLOOR.get(op)
        if shape is None:
            return "unsupported", None, 0
        prepared = Prepared(BASELINES[shape], keyset("order:int", cfg))
        prepared.calibrate(cfg)
        self.counter += 1
        self.prepared[self.counter] = prepared
        return "ok", self.counter, prepared.n


class Floors:
    """The floors as extra subjects of the speed group: moka alone (each build and policy), the
    call floor and the least binding (each policy); their ids, executors and results.

    ``record`` takes each operation's results for these subjects out of the speed results;
    ``results`` gives them in the report's shape, keyed by the harness operation (the moka
    operation that ran is ``FLOOR_OP[op]``): ``{"versions": {version: {op: {policy: {median_ns,
    samples, n}}}}, "call": {op: {...}}, "least": {op: {policy: {...}}}, ...}``.
    """

    def __init__(self, cfg: SpeedConfig, log: Log) -> None:
        binaries, self.notes = build(log)
        self.executors = {v: FloorExecutor(v, b, cfg) for v, b in binaries.items()}
        self.owner: dict[str, Executor] = {
            subject_id(v, p): ex for v, ex in self.executors.items() for p in POLICIES
        }
        if self.executors:  # the call floor only matters beside moka alone
            self.owner[CALL_FLOOR_ID] = CallFloorExecutor()
        self.versions: dict[str, dict[str, dict[str, dict[str, Any]]]] = {v: {} for v in binaries}
        self.call: dict[str, dict[str, Any]] = {}
        # The least binding runs in this process, through the harness's own executor.
        self.least_ids: list[str] = []
        self.least_version: str | None = None
        for p in POLICIES:
            try:
                self.least_version = load_adapter(least_id(p)).version()
                self.least_ids.append(least_id(p))
            except ImportError as exc:
                self.notes.append(f"least binding not measured: {exc}")
                break
        self.least: dict[str, dict[str, dict[str, Any]]] = {}

    def subject_ids(self, op: str) -> list[str]:
        """The ids to add to ``op``'s rounds (none for an operation without a Rust target)."""
        return [*self.owner, *self.least_ids] if op in FLOOR_OP else []

    def record(self, op: str, results: dict[str, dict[str, Any]], log: Log) -> None:
        """Move this operation's floor results out of ``results`` into the floor results."""
        figures: list[str] = []

        def take(sid: str, label: str) -> dict[str, Any] | None:
            """The kept figures of ``sid`` (popped from ``results``), its error noted once."""
            res = results.pop(sid, None)
            if res is None:
                return None
            if "median_ns" not in res:
                note = f"{label} {op}: {res.get('error', 'no samples')}"
                if note not in self.notes:
                    self.notes.append(note)
                return None
            figures.append(f"{label} {res['median_ns']:.0f}")
            return {k: res[k] for k in ("median_ns", "samples", "n")}

        for v in self.executors:
            for p in POLICIES:
                if (kept := take(subject_id(v, p), f"{v} [{p}]")) is not None:
                    self.versions[v].setdefault(op, {})[p] = kept
        for p in POLICIES:
            if (kept := take(least_id(p), f"least binding [{p}]")) is not None:
                self.least.setdefault(op, {})[p] = kept
        if (kept := take(CALL_FLOOR_ID, f"call floor `{CALL_FLOOR.get(op)}`")) is not None:
            self.call[op] = {"shape": CALL_FLOOR[op], **kept}
        if figures:
            log(f"  {'':<15} moka alone ({FLOOR_OP.get(op, '-')}) ns/op: " + ", ".join(figures))

    def results(self) -> dict[str, Any]:
        """The floor results, in the shape :func:`target_rows` and the report read."""
        return {
            "versions": self.versions,
            "pinned": PINNED_MOKA,
            "peer": PEER_MOKA,
            "moka_op": FLOOR_OP,
            "call": self.call,
            "least": self.least,
            "least_version": self.least_version,
            "notes": self.notes,
        }

    def close(self) -> None:
        """Stop every server."""
        for ex in self.executors.values():
            ex.close()


def _speed(results: dict[str, Any], subject: str, op: str) -> float | None:
    entry = results.get("speed", {}).get(op, {}).get("results", {}).get(subject, {})
    return entry.get("median_ns")  # type: ignore[no-any-return]


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Rust speed target in ns, beside moka alone, the call floor, their sum and ours.

    ``sum_ns`` is moka alone (the pinned version) plus the matching loop-overhead baseline (both
    timed in the operation's rounds): a lower-bound model of a binding, not a measurement of one.
    ``below_floor`` says whether the target in ns is below that sum; ``least_ns`` is the least
    binding under the same policy (same rounds), ``below_least`` whether the target is below it.
    Figures that this run did not measure are ``None``.
    """
    fl = results.get("floor", {})
    versions: dict[str, Any] = fl.get("versions", {})
    base: dict[str, float] = results.get("baselines", {})
    rows: list[dict[str, Any]] = []
    for t in TARGETS:
        subject, op = t.num
        if t.group != "rust" or op not in FLOOR_OP:
            continue
        policy = subject[subject.index("[") + 1 : -1]
        peer = _speed(results, *t.den)
        moka = {v: ops.get(op, {}).get(policy, {}).get("median_ns") for v, ops in versions.items()}
        pinned = moka.get(fl.get("pinned", PINNED_MOKA))
        # In-phase: the call floor timed in this operation's rounds (else the run's baseline).
        call = fl.get("call", {}).get(op, {}).get("median_ns", base.get(CALL_FLOOR[op]))
        target_ns = t.limit * peer if peer is not None else None
        sum_ns = pinned + call if pinned is not None and call is not None else None
        least = fl.get("least", {}).get(op, {}).get(policy, {}).get("median_ns")
        rows.append(
            {
                "target": t.text,
                "op": op,
                "floor_op": FLOOR_OP[op],
                "call": CALL_FLOOR[op],
                "peer_ns": peer,
                "target_ns": target_ns,
                "moka_ns": moka,
                "call_ns": call,
                "sum_ns": sum_ns,
                "floor_ratio": sum_ns / peer if sum_ns is not None and peer else None,
                "ours_ns": _speed(results, subject, op),
                "below_floor": None if target_ns is None or sum_ns is None else target_ns < sum_ns,
                "least_ns": least,
                "least_ratio": least / peer if least is not None and peer else None,
                "below_least": None if target_ns is None or least is None else target_ns < least,
            }
        )
    return rows
