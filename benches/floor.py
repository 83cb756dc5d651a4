"""The one limit the harness keeps: moka alone from Rust, and the least PyO3 binding of it.

Both come from ``benches/least_binding`` (built by ``nox -s bench``) and are subjects
(``subjects.SUBJECTS``) of the speed group's alternating rounds, reported per operation beside the
Rust backend (see ``docs/performance.md``): its ``Moka`` is moka behind PyO3 and one ``hash(key)``
(a floor, not a cache); its ``MokaAlone`` times a whole loop of moka calls in Rust, prepared,
calibrated and repeated like any subject's loop by a :class:`MokaAloneExecutor`.
"""

from __future__ import annotations

from typing import Any

from subjects import load_adapter
from timing import Executor, LocalExecutor, Prepared, SpeedConfig

MOKA = "0.12.16"
"""The version ``packages/moka-py-rust`` pins (and ``least_binding/Cargo.toml`` with it)."""
POLICIES = ("tiny_lfu", "lru")
IDS = {"moka": "moka-alone[{}]", "least": "least-binding[{}]"}
"""The speed rounds' ids of moka alone and of the least binding."""

FLOOR_OP = {op: op for op in ("get_hit_int", "get_miss_int", "set_replace", "set_evict", "remove")}
FLOOR_OP |= {"get_with_hit": "get_with_hit", "get_hit_ttl": "get_hit_ttl", "cached_ttl_hit": "get_hit_ttl"}
FLOOR_OP |= {"get_hit_str": "get_hit_int", "get_miss_str": "get_miss_int", "cached_hit": "get_hit_int"}
"""The moka-alone operation under each harness operation.  moka sees a 64-bit hash whatever the
Python key type (the backend hashes the key before calling moka), so str keys map to the int
figure, and a decorator hit is a ``get`` hit."""


class MokaAloneExecutor(LocalExecutor):
    """moka alone, in this process, prepared like any subject (``timing.prepare``) for the moka
    operation under each harness operation (:data:`FLOOR_OP`; ``None`` for one without, such as
    ``get_with_miss``), with loops long enough for its speed."""

    def __init__(self, cfg: SpeedConfig) -> None:
        super().__init__()
        self.name = f"moka alone {MOKA} (Rust, in the harness process)"
        # moka alone runs a loop in tens of ns: allow enough keys for a target_s loop at 25 ns/op.
        self.max_keys = max(cfg.max_keys, round(cfg.target_s * 1e9 / 25))

    def build(self, subject_id: str, op: str, cfg: SpeedConfig) -> Prepared | None:
        moka_op = FLOOR_OP.get(op)
        return None if moka_op is None else super().build(subject_id, moka_op, cfg)


class Floors:
    """moka alone and the least binding, each policy: extra subjects of the speed group's rounds.

    Their figures stay in the speed results under their :data:`IDS`; the report reads them there.
    """

    def __init__(self, cfg: SpeedConfig) -> None:
        self.notes: list[str] = []
        self.alone: MokaAloneExecutor | None = None
        self.ids: list[str] = []
        try:
            load_adapter(IDS["least"].format(POLICIES[0])).version()
            self.alone = MokaAloneExecutor(cfg)
            self.ids = [IDS[w].format(p) for w in ("moka", "least") for p in POLICIES]
        except ImportError as exc:
            self.notes.append(f"moka alone and the least binding not measured: {exc}")

    def executor(self, subject_id: str) -> Executor | None:
        """moka alone's executor; ``None`` for anything else (the least binding is a subject)."""
        return self.alone if subject_id.startswith("moka-alone") else None

    def results(self) -> dict[str, Any]:
        """What the report needs beside the speed results."""
        return {"moka_version": MOKA, "moka_op": FLOOR_OP, "notes": self.notes}
