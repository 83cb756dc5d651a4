"""The one limit the harness keeps: moka alone from Rust, and the least PyO3 binding of it.

``benches/moka_floor`` (a Cargo binary serving ``prepare`` / ``run`` / ``release`` on stdin, behind
a :class:`FloorExecutor` that calibrates and repeats its loops like any subject's) and
``benches/least_binding`` (moka behind PyO3 and one ``hash(key)``: a floor, not a cache) are
extra subjects of the speed group's alternating rounds, reported per operation beside the Rust
backend; see ``docs/performance.md``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from subjects import load_adapter
from timing import Child, Executor, Prepared, SpeedConfig

CRATE = Path(__file__).resolve().parent / "moka_floor"
MOKA = "0.12.16"
"""The version ``packages/moka-py-rust`` pins (and ``moka_floor/Cargo.toml`` with it)."""
POLICIES = ("tiny_lfu", "lru")
IDS = {"moka": "moka-alone[{}]", "least": "least-binding[{}]"}
"""The speed rounds' ids of moka alone and of the least binding (a ``subjects.SUBJECTS`` entry)."""

FLOOR_OP = {op: op for op in ("get_hit_int", "get_miss_int", "set_replace", "set_evict", "remove")}
FLOOR_OP |= {"get_with_hit": "get_with_hit", "get_hit_ttl": "get_hit_ttl", "cached_ttl_hit": "get_hit_ttl"}
FLOOR_OP |= {"get_hit_str": "get_hit_int", "get_miss_str": "get_miss_int", "cached_hit": "get_hit_int"}
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
    """One ``moka-floor`` process: moka alone, prepared and timed like a Python subject.

    ``build`` makes, fills and checks a cache there for the moka operation under the harness
    operation (:data:`FLOOR_OP`; ``None`` for one without, such as ``get_with_miss``); its loops
    run there and are calibrated here.  A panic ends the process; its message is raised from the
    call that found it.
    """

    def __init__(self, binary: Path, cfg: SpeedConfig) -> None:
        super().__init__()
        self.name = f"moka_floor {MOKA}"
        # moka alone runs a loop in tens of ns: allow enough keys for a target_s loop at 25 ns/op.
        self.max_keys = max(cfg.max_keys, round(cfg.target_s * 1e9 / 25))
        self.child = Child(self.name, [str(binary), str(cfg.n_keys), str(self.max_keys)])

    def _ask(self, command: str) -> list[str]:
        reply = self.child.ask(command)
        if reply.startswith("error"):
            raise RuntimeError(f"{self.name}: {reply.strip()}")
        return reply.split()

    def build(self, subject_id: str, op: str, cfg: SpeedConfig) -> Prepared | None:
        """moka alone set up for ``op`` under the subject's policy."""
        if (moka_op := FLOOR_OP.get(op)) is None:
            return None
        policy = subject_id[subject_id.index("[") + 1 : -1]
        handle = self._ask(f"prepare {moka_op} {policy}")[0]

        def loop(n: int) -> tuple[int, int]:
            ns, calls = self._ask(f"run {handle} {n}")
            return round(float(ns)), int(calls)

        return Prepared(loop, fixed_n=moka_op == "remove", dispose=lambda: self._ask(f"release {handle}"))

    def close(self) -> None:
        """End the server."""
        self.child.close()


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
