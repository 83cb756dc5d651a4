"""The one limit the harness keeps: moka alone from Rust, and the least PyO3 binding of it.

Both come from ``benches/least_binding`` (built by ``nox -s bench``): its ``MokaAlone`` prepares
moka for one operation and times each loop in Rust, behind a :class:`MokaAloneExecutor` that
calibrates and repeats those loops like any subject's; its ``Moka`` is moka behind PyO3 and one
``hash(key)`` (a floor, not a cache).  Both are extra subjects of the speed group's alternating
rounds, reported per operation beside the Rust backend; see ``docs/performance.md``.
"""

from __future__ import annotations

from typing import Any

from subjects import load_adapter
from timing import OPS, Executor, LocalExecutor, Prepared, SpeedConfig, loop_keys

MOKA = "0.12.16"
"""The version ``packages/moka-py-rust`` pins (and ``least_binding/Cargo.toml`` with it)."""
POLICIES = ("tiny_lfu", "lru")
IDS = {"moka": "moka-alone[{}]", "least": "least-binding[{}]"}
"""The speed rounds' ids of moka alone and of the least binding (a ``subjects.SUBJECTS`` entry)."""

FLOOR_OP = {op: op for op in ("get_hit_int", "get_miss_int", "set_replace", "set_evict", "remove")}
FLOOR_OP |= {"get_with_hit": "get_with_hit", "get_hit_ttl": "get_hit_ttl", "cached_ttl_hit": "get_hit_ttl"}
FLOOR_OP |= {"get_hit_str": "get_hit_int", "get_miss_str": "get_miss_int", "cached_hit": "get_hit_int"}
"""The moka-alone operation under each harness operation.  moka sees a 64-bit hash whatever the
Python key type (the backend hashes the key before calling moka), so str keys map to the int
figure, and a decorator hit is a ``get`` hit."""


class MokaAloneExecutor(LocalExecutor):
    """moka alone, in this process: prepared and timed in Rust, calibrated here like any subject.

    ``build`` gives ``MokaAlone`` the keys and loop of the harness operation under the subject's
    (:data:`FLOOR_OP`; ``None`` for one without, such as ``get_with_miss``), so each loop runs
    over the keys every other subject's loop runs over, with no Python between its calls.  A
    cache that does not hold exactly the stored keys raises from ``build``.
    """

    def __init__(self, cfg: SpeedConfig) -> None:
        super().__init__()
        self.name = f"moka alone {MOKA} (Rust, in the harness process)"
        # moka alone runs a loop in tens of ns: allow enough keys for a target_s loop at 25 ns/op.
        self.max_keys = max(cfg.max_keys, round(cfg.target_s * 1e9 / 25))

    def build(self, subject_id: str, op: str, cfg: SpeedConfig) -> Prepared | None:
        """moka alone set up for ``op`` under the subject's policy."""
        from moka_least_binding import MokaAlone

        if (moka_op := FLOOR_OP.get(op)) is None:
            return None
        spec, policy = OPS[moka_op], subject_id[subject_id.index("[") + 1 : -1]
        stored, keys = loop_keys(spec, cfg)
        emptying, order = spec.keys == "emptying", None if spec.keys == "fresh" else keys
        alone = MokaAlone(spec.method, policy, stored, order, spec.ttl, refill=emptying)
        return Prepared(alone.run, fixed_n=emptying)


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
