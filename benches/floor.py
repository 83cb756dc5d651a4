"""The one limit the harness keeps: moka alone from Rust, and the least PyO3 binding of it.

``benches/moka_floor`` (a Cargo binary serving ``prepare`` / ``measure`` / ``release`` on stdin, a
:class:`FloorExecutor`) and ``benches/least_binding`` (moka behind PyO3 and one ``hash(key)``: a
floor, not a cache) are extra subjects of the speed group's alternating rounds, reported per
operation beside the Rust backend; see ``docs/performance.md``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from subjects import load_adapter
from timing import Executor, SpeedConfig, stop_worker

CRATE = Path(__file__).resolve().parent / "moka_floor"
MOKA = "0.12.16"
"""The version ``packages/moka-py-rust`` pins (and ``moka_floor/Cargo.toml`` with it)."""
POLICIES = ("tiny_lfu", "lru")
IDS = {"moka": "moka-alone[{}]", "least": "least-binding[{}]"}
"""The speed rounds' ids of moka alone and of the least binding (a ``subjects.SUBJECTS`` entry)."""

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

Log = Callable[[str], None]


def build(log: Log) -> tuple[Path | None, list[str]]:
    """Build the binary (release); returns its path, or ``None`` and a note on why not."""
    if shutil.which("cargo") is None:
        return None, ["skipped: cargo is not installed"]
    cmd = ["cargo", "build", "--release", "--quiet", "--manifest-path", str(CRATE / "Cargo.toml")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        log("  cargo build failed:\n" + "\n".join(proc.stderr.strip().splitlines()[-5:]))
        return None, [f"moka {MOKA} build failed"]
    return CRATE / "target" / "release" / "moka-floor", []


class FloorExecutor(Executor):
    """One ``moka-floor --serve`` process: moka alone, prepared and timed like a Python subject.

    ``prepare`` builds, fills and calibrates a cache for the moka operation under the harness
    operation (:data:`FLOOR_OP`); an operation without one (``get_with_miss``) is ``"unsupported"``.
    A panic ends the process; its message is raised from the call that found it.
    """

    def __init__(self, binary: Path, cfg: SpeedConfig) -> None:
        self.name = f"moka_floor {MOKA}"
        # A file, not a pipe: a pipe nobody reads could fill.  Closed by close().
        self.stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115
        # moka alone runs a loop in tens of ns: allow enough keys for a target_s loop at 25 ns/op.
        max_keys = max(cfg.max_keys, round(cfg.target_s * 1e9 / 25))
        self.proc = subprocess.Popen(
            [str(binary), str(cfg.target_s), str(cfg.n_keys), str(max_keys)],
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
        if not line:  # a panic: its message is the line after "panicked at"
            code = self.proc.wait()
            self.stderr.seek(0)
            lines = self.stderr.read().strip().splitlines() or ["?"]
            at = next((i + 1 for i, x in enumerate(lines[:-1]) if " panicked at " in x), -1)
            raise RuntimeError(f"{self.name} exited (code {code}): {lines[at]}")
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


class Floors:
    """moka alone and the least binding, each policy: extra subjects of the speed group's rounds.

    Their figures stay in the speed results under their :data:`IDS`; the report reads them there.
    """

    def __init__(self, cfg: SpeedConfig, log: Log) -> None:
        binary, self.notes = build(log)
        self.server = None if binary is None else FloorExecutor(binary, cfg)
        self.ids = [IDS["moka"].format(p) for p in POLICIES] if self.server is not None else []
        try:
            load_adapter(IDS["least"].format(POLICIES[0])).version()
            self.ids += [IDS["least"].format(p) for p in POLICIES]
        except ImportError as exc:
            self.notes.append(f"least binding not measured: {exc}")

    def executor(self, subject_id: str) -> Executor | None:
        """The server for moka alone; ``None`` for anything else (the least binding runs here)."""
        return self.server if subject_id.startswith("moka-alone") else None

    def results(self) -> dict[str, Any]:
        """What the report needs beside the speed results."""
        return {"moka_version": MOKA, "moka_op": FLOOR_OP, "notes": self.notes}

    def close(self) -> None:
        """Stop the server."""
        if self.server is not None:
            self.server.close()
