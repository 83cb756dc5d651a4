"""The performance targets of the moka-py backends, and how each is read from the results.

A target is a ratio of two medians measured side by side in the same run
(``numerator / denominator <= limit``), a ratio of two memory figures, or, for
hit ratios, that the pure and Rust backends made exactly the same number of hits
on every trace at every capacity.  A target whose inputs are missing (a subject
not installed, an operation that failed) is reported as ``"missing"``, not met.

Most ratios compare two subjects of one operation, timed in the same alternating rounds of
the speed group.  A *self-relative* target compares two operations of one subject (the pure
backend's ``get_with`` hit and ``remove`` against its own ``get`` hit); the speed group times
operations one after the other, minutes apart, so its two medians come from different phases
of the machine.  The pure floor group times both operations in the same rounds
(``pure_floor.py``), so a self-relative target is read from there when the run has it, and
from the speed group otherwise; each row says which (``rounds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TARGETS", "Target", "evaluate", "item_id"]

LEGACY = "moka-py-0.5.0[tiny_lfu]"


@dataclass(frozen=True)
class Target:
    """``num / den <= limit``; ``num`` and ``den`` are ``(subject, op)``, op ``"memory"`` for memory."""

    group: str
    text: str
    num: tuple[str, str]
    den: tuple[str, str]
    limit: float


def _speed_targets() -> list[Target]:
    r, p = "rust[tiny_lfu]", "pure[tiny_lfu]"
    out: list[Target] = []
    for op, limit in [
        ("get_hit_int", 0.7),
        ("get_hit_str", 0.7),
        ("get_miss_int", 0.8),
        ("get_miss_str", 0.8),
        ("set_replace", 0.9),
        ("set_evict", 0.9),
        ("get_with_hit", 0.8),
        ("remove", 0.8),
        ("get_hit_ttl", 0.7),
    ]:
        out.append(Target("rust", f"{op}: rust <= {limit}x moka-py 0.5.0", (r, op), (LEGACY, op), limit))
    out.append(
        Target(
            "rust", "cached_hit: rust <= 2.0x lru_cache", (r, "cached_hit"), ("lru_cache", "cached_hit"), 2.0
        )
    )
    out.append(
        Target(
            "rust",
            "cached_ttl_hit: rust <= 2.2x lru_cache",
            (r, "cached_ttl_hit"),
            ("lru_cache", "cached_ttl_hit"),
            2.2,
        )
    )
    out.append(
        Target("rust", "memory/entry: rust <= 1.0x moka-py 0.5.0", (r, "memory"), (LEGACY, "memory"), 1.0)
    )

    for op in ("get_hit_int", "get_hit_str", "set_replace", "set_evict"):
        out.append(
            Target(
                "pure",
                f"{op}: pure lru <= 1.0x cachetools LRUCache",
                ("pure[lru]", op),
                ("cachetools.LRUCache", op),
                1.0,
            )
        )
        out.append(
            Target(
                "pure",
                f"{op}: pure tiny_lfu <= 1.0x cachetools LFUCache",
                (p, op),
                ("cachetools.LFUCache", op),
                1.0,
            )
        )
    for op in ("get_miss_int", "get_miss_str"):
        for sid in (p, "pure[lru]"):
            policy = sid[5:-1]
            out.append(
                Target(
                    "pure",
                    f"{op}: pure {policy} <= 1.5x cachetools LRUCache",
                    (sid, op),
                    ("cachetools.LRUCache", op),
                    1.5,
                )
            )
    for op in ("get_with_hit", "remove"):
        out.append(
            Target("pure", f"{op}: pure <= 1.2x its own get_hit_int", (p, op), (p, "get_hit_int"), 1.2)
        )
    out.append(
        Target(
            "pure",
            "get_hit_ttl: pure <= 0.5x cachetools TTLCache",
            (p, "get_hit_ttl"),
            ("cachetools.TTLCache", "get_hit_ttl"),
            0.5,
        )
    )
    out.append(
        Target(
            "pure",
            "cached_hit: pure <= 1.0x cachetools cached(LRUCache)",
            (p, "cached_hit"),
            ("cachetools.LRUCache", "cached_hit"),
            1.0,
        )
    )
    out.append(
        Target(
            "pure",
            "cached_ttl_hit: pure <= 0.5x cachetools cached(TTLCache)",
            (p, "cached_ttl_hit"),
            ("cachetools.TTLCache", "cached_ttl_hit"),
            0.5,
        )
    )
    out.append(
        Target(
            "pure",
            "memory/entry: pure <= 2.0x cachetools LRUCache",
            (p, "memory"),
            ("cachetools.LRUCache", "memory"),
            2.0,
        )
    )
    return out


TARGETS: list[Target] = _speed_targets()


def item_id(subject: str, op: str) -> str:
    """How the pure floor group names ``subject`` timed on ``op`` (its items mix subjects and ops)."""
    return f"{subject}:{op}"


def _same_round_values(results: dict[str, Any], t: Target) -> tuple[float, float] | None:
    """Both sides of a self-relative target from the pure floor's rounds, if it timed both."""
    if t.num[0] != t.den[0]:
        return None
    got = results.get("pure_floor", {}).get("ops", {}).get(t.num[1], {})
    num = got.get(item_id(*t.num), {}).get("median_ns")
    den = got.get(item_id(*t.den), {}).get("median_ns")
    return (num, den) if num is not None and den is not None else None


def _value(results: dict[str, Any], subject: str, op: str) -> float | None:
    if op == "memory":
        entry = results.get("memory", {}).get(subject, {})
        return entry.get("bytes_per_entry")  # type: ignore[no-any-return]
    entry = results.get("speed", {}).get(op, {}).get("results", {}).get(subject, {})
    return entry.get("median_ns")  # type: ignore[no-any-return]


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its measured ratio and ``status``: ``"met"``, ``"not met"`` or ``"missing"``."""
    rows: list[dict[str, Any]] = []
    for t in TARGETS:
        same_round = _same_round_values(results, t)
        num: float | None
        den: float | None
        if same_round is not None:
            num, den = same_round
        else:
            num, den = _value(results, *t.num), _value(results, *t.den)
        ratio = num / den if num is not None and den is not None and den > 0 else None
        status = "missing" if ratio is None else ("met" if ratio <= t.limit else "not met")
        rows.append(
            {
                "group": t.group,
                "target": t.text,
                "numerator": list(t.num),
                "denominator": list(t.den),
                "limit": t.limit,
                "ratio": ratio,
                "status": status,
                "rounds": "pure_floor" if same_round is not None else "speed",
            }
        )
    hr = results.get("hit_ratio", {}).get("results")
    if hr:
        for policy in ("tiny_lfu", "lru"):
            pure, rust = f"pure[{policy}]", f"rust[{policy}]"
            diffs: list[str] = []
            compared = 0
            for trace, by_cap in hr.items():
                for cap, by_subject in by_cap.items():
                    a, b = by_subject.get(pure, {}).get("hits"), by_subject.get(rust, {}).get("hits")
                    if a is None or b is None:
                        continue
                    compared += 1
                    if a != b:
                        diffs.append(f"{trace}@{cap}: {a} vs {b}")
            status = "missing" if compared == 0 else ("met" if not diffs else "not met")
            rows.append(
                {
                    "group": "both",
                    "target": f"hit ratio: pure {policy} == rust {policy} (hits, every trace)",
                    "numerator": [pure, "hit_ratio"],
                    "denominator": [rust, "hit_ratio"],
                    "limit": 0,
                    "ratio": None,
                    "compared": compared,
                    "differences": diffs,
                    "status": status,
                }
            )
    return rows
