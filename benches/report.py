"""Turn one run's results into JSON, Markdown tables and PNG charts.

Files written into the output folder (``benches/results/`` by default):

* ``results.json``: everything measured (every sample), the machine, versions, the
  ratios and the target table;
* ``results.md``: the tables, ready to paste into the README "Performance" section;
* ``speed.png`` (median ns/op per operation, one panel each), ``hit_ratio.png``
  (hit ratio against capacity, one panel per trace), ``memory.png`` and
  ``threads.png``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import floor
import pure_floor

__all__ = ["ratio_tables", "write_all"]

OURS = ("rust[tiny_lfu]", "rust[lru]", "pure[tiny_lfu]", "pure[lru]")

CACHE_OPS: tuple[str, ...] = (
    "get_hit_int", "get_hit_str", "get_miss_int", "get_miss_str", "set_replace", "set_evict",
)
OTHER_OPS: tuple[str, ...] = (
    "get_with_hit", "get_with_miss", "remove", "get_hit_ttl", "cached_hit", "cached_ttl_hit",
)

QUICK_NOTE = " (quick smoke run: the numbers are NOT representative)."

RATIO_COLUMNS = ("moka-py 0.5.0", "cachetools", "cachebox", "lru-dict", "theine", "lru_cache")


def _peer(column: str, ours: str, op: str) -> str | None:
    """The subject to divide by in ``column`` for one of our subjects and one operation."""
    policy = ours[ours.index("[") + 1 : -1]
    ttl = op in ("get_hit_ttl", "cached_ttl_hit")
    if column == "moka-py 0.5.0":
        return f"moka-py-0.5.0[{policy}]"
    if column in ("cachetools", "cachebox"):
        if ttl:
            return f"{column}.TTLCache"
        if op.startswith("cached"):
            return f"{column}.LRUCache"
        return f"{column}.{'LFUCache' if policy == 'tiny_lfu' else 'LRUCache'}"
    if column == "lru_cache":
        return "lru_cache" if op.startswith("cached") else None
    return column


def _median(results: dict[str, Any], op: str, subject: str | None) -> float | None:
    if subject is None:
        return None
    entry = results.get("speed", {}).get(op, {}).get("results", {}).get(subject, {})
    return entry.get("median_ns")  # type: ignore[no-any-return]


def ratio_tables(results: dict[str, Any]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{ours: {op: {column: ours / peer}}}``: below 1.0, ours is faster."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for ours in OURS:
        per_op: dict[str, dict[str, float | None]] = {}
        for op in results.get("speed", {}):
            mine = _median(results, op, ours)
            if mine is None:
                continue
            row: dict[str, float | None] = {}
            for col in RATIO_COLUMNS:
                theirs = _median(results, op, _peer(col, ours, op))
                row[col] = mine / theirs if theirs else None
            per_op[op] = row
        if per_op:
            out[ours] = per_op
    return out


# ----------------------------------------------------------------------------------------- markdown


def _fmt(x: float | None, spec: str) -> str:
    return "" if x is None else format(x, spec)


def _spread(samples: Sequence[float]) -> str:
    """``low-high`` of ops/s samples, in millions (empty for none)."""
    return f"{min(samples) / 1e6:.2f}-{max(samples) / 1e6:.2f}" if samples else ""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _labels(results: dict[str, Any]) -> dict[str, str]:
    return {sid: info.get("label", sid) for sid, info in results.get("subjects", {}).items()}


def markdown(results: dict[str, Any]) -> str:
    """Every table of the run as one Markdown document."""
    meta = results["meta"]
    labels = _labels(results)
    parts = [
        "# moka-py benchmarks",
        "",
        f"Machine: {meta['machine']}; Python {meta['python']}; {meta['date']}.  ",
        f"Command: `{meta['command']}`" + (QUICK_NOTE if meta["quick"] else "."),
        "",
        "Speed figures are medians of several loops, in ns per operation, loop overhead included "
        "(see *Loop overhead*). Ratios below 1.0 mean moka-py is faster.",
    ]
    targets = results.get("targets", [])
    if targets:
        rows = [
            [
                t["target"],
                _fmt(t["ratio"], ".3f")
                if t["ratio"] is not None
                else (
                    "; ".join(t.get("differences", [])[:3]) or "identical" if t["status"] != "missing" else ""
                ),
                t["status"],
            ]
            for t in targets
        ]
        met = sum(t["status"] == "met" for t in targets)
        parts += [
            "",
            f"## Targets ({met} of {len(targets)} met)",
            "",
            _table(["target", "measured", "status"], rows),
        ]
    speed = results.get("speed", {})
    if speed:
        subjects = [s for s in results["subject_order"] if any(s in v["results"] for v in speed.values())]
        for title, ops in (("Cache operations", CACHE_OPS), ("More operations", OTHER_OPS)):
            ops = tuple(op for op in ops if op in speed)
            if not ops:
                continue
            rows = []
            for sid in subjects:
                cells = [_fmt(speed[op]["results"].get(sid, {}).get("median_ns"), ".0f") for op in ops]
                if any(cells):
                    rows.append([labels.get(sid, sid), *cells])
            parts += ["", f"## {title} (median ns/op)", "", _table(["subject", *ops], rows)]
        parts += ["", "Operations: " + "; ".join(f"`{op}` = {v['title']}" for op, v in speed.items()) + "."]
        for ours, per_op in ratio_tables(results).items():
            rows = [[op, *(_fmt(r[c], ".2f") for c in RATIO_COLUMNS)] for op, r in per_op.items()]
            parts += [
                "",
                f"### {labels.get(ours, ours)}: time ratio to each peer",
                "",
                _table(["operation", *RATIO_COLUMNS], rows),
            ]
        parts += [
            "",
            "cachetools / cachebox columns compare with the same family: LFUCache for tiny_lfu, "
            "LRUCache for lru, TTLCache for the ttl operations, `cached(LRUCache)` for `cached_hit`. "
            "`cached_ttl_hit` is compared with `lru_cache` without ttl (it has none).",
        ]
    base = results.get("baselines")
    if base:
        parts += [
            "",
            "## Loop overhead (ns/op, included in every figure above)",
            "",
            _table(["loop", "ns/op"], [[k, _fmt(v, ".1f")] for k, v in base.items()]),
        ]
    if results.get("floor"):
        parts += _floor_section(results)
    if results.get("pure_floor"):
        parts += _pure_floor_section(results)
    mem = results.get("memory")
    if mem:
        rows = [
            [
                labels.get(s, s),
                _fmt(m.get("bytes_per_entry"), ".1f"),
                str(m.get("held", "")),
                m.get("error", ""),
            ]
            for s, m in mem.items()
        ]
        n = next((m["entries"] for m in mem.values() if "entries" in m), 0)
        parts += [
            "",
            f"## Memory per entry ({n:,} int keys, values = keys, RSS growth in a fresh process)",
            "",
            _table(["subject", "bytes/entry", "entries held", "note"], rows),
        ]
    hr = results.get("hit_ratio")
    if hr and hr.get("results"):
        cols = [(trace, cap) for trace, by_cap in hr["results"].items() for cap in by_cap]
        subjects = [s for s in results["subject_order"] if any(s in hr["results"][t][c] for t, c in cols)]
        rows = [
            [labels.get(s, s), *(_fmt(hr["results"][t][c].get(s, {}).get("ratio"), ".4f") for t, c in cols)]
            for s in subjects
        ]
        parts += [
            "",
            f"## Hit ratio ({hr['accesses']:,} accesses over {hr['universe']:,} keys; get, set on miss)",
            "",
            _table(["subject", *(f"{t} @{c}" for t, c in cols)], rows),
        ]
    th = results.get("threads")
    if th:
        rows = [
            [
                labels.get(s, s),
                _fmt(v.get("1"), ",.0f"),
                _fmt(v.get("2"), ",.0f"),
                " / ".join(_spread(v.get("samples", {}).get(n, [])) for n in ("1", "2")),
                v.get("error", ""),
            ]
            for s, v in th.items()
        ]
        rounds = results.get("meta", {}).get("config", {}).get("thread_rounds", 1)
        parts += [
            "",
            "## Threads (ops/s, 90 % get / 10 % set, all threads together)",
            "",
            f"Median of {rounds} alternating rounds of one run per subject and thread count; *range* is"
            " the lowest and highest run (1 thread / 2 threads), in millions of ops/s.",
            "",
            _table(["subject", "1 thread", "2 threads", "range (M ops/s)", "note"], rows),
        ]
    vers = results.get("subjects", {})
    if vers:
        rows = [
            [info.get("label", s), info.get("version", ""), info.get("where", "")] for s, info in vers.items()
        ]
        parts += ["", "## Versions", "", _table(["subject", "version", "runs in"], rows)]
    return "\n".join(parts) + "\n"


def _floor_section(results: dict[str, Any]) -> list[str]:
    """moka alone beside each Rust target in ns, then moka alone for every operation."""
    fl = results["floor"]
    versions = list(fl.get("versions", {}))
    pinned, peer = fl.get("pinned", floor.PINNED_MOKA), fl.get("peer", floor.PEER_MOKA)
    parts = ["", "## moka alone: the floor under the Rust targets (median ns/op)", ""]
    if not versions:
        return [*parts, "Not measured: " + ("; ".join(fl.get("notes", [])) or "no build") + "."]
    others = [v for v in versions if v != pinned]
    rows = []
    for r in floor.target_rows(results):
        if r["below_floor"]:
            verdict = "**below** moka + call"
        elif r["below_least"]:
            verdict = "**below** the least binding"
        elif r["below_floor"] is None and r["below_least"] is None:
            verdict = ""
        else:
            verdict = "above"
        rows.append(
            [
                r["target"],
                _fmt(r["peer_ns"], ".0f"),
                _fmt(r["target_ns"], ".0f"),
                _fmt(r["moka_ns"].get(pinned), ".0f"),
                f"{_fmt(r['call_ns'], '.0f')} (`{r['call'].split(': ', 1)[1]}`)",
                _fmt(r["sum_ns"], ".0f"),
                _fmt(r["floor_ratio"], ".2f"),
                _fmt(r["least_ns"], ".0f"),
                _fmt(r["least_ratio"], ".2f"),
                _fmt(r["ours_ns"], ".0f"),
                verdict,
                *(_fmt(r["moka_ns"].get(v), ".0f") for v in others),
            ]
        )
    header = [
        "target",
        "peer ns",
        "target ns",
        f"moka {pinned} alone",
        "call floor",
        "moka + call floor",
        "sum ÷ peer",
        "least binding",
        "least ÷ peer",
        "ours",
        "target vs floors",
        *(f"moka {v} alone" for v in others),
    ]
    parts += [
        f"`benches/moka_floor` times moka {pinned} (the version the Rust backend pins) on its own: "
        "a Rust loop over `u64` keys (the pre-mixed hash, through a pass-through hasher) and `u64` "
        "values, the cache built as the backend builds it (`expire_after`, capacity 10,000, the "
        "same policy, ttl 60 s for `get_hit_ttl`), with the loops, repeats and settling of the "
        "Python harness. *target ns* is the target's limit times the peer's median in this run; "
        "*call floor* is the loop-overhead baseline of the same call shape; "
        "*moka + call floor* is their sum, and *sum ÷ peer* the ratio that a binding costing exactly "
        "that sum would score, to read against the target's limit. The sum is a lower-bound model, "
        "not a measurement "
        "of a possible binding: the two parts are separate loops and a binding also converts keys "
        "and values. Where the target is **below** the sum, it is below what moka and one Python "
        "call cost together. *least binding* is `benches/least_binding`: moka behind PyO3 doing "
        "one `hash(key)`, the moka call and one value reference per call and nothing else (keys "
        "are their hash: a floor, not a cache), same policy, same rounds, with *least ÷ peer* "
        "the ratio it scores; where the target is **below** it, no PyO3 binding of this moka "
        "meets it (decorator rows: it has no decorator, and the call floor stands in). "
        "For str-key and decorator rows moka runs its int-key `get` (it sees "
        "a 64-bit hash either way). moka alone and the call floor are subjects of the speed "
        "group: they are timed in each operation's own alternating rounds, with the peer and ours."
        + (
            f" *moka {peer} alone* is the same source built against the version moka-py 0.5.0 links."
            if peer in others
            else ""
        ),
        "",
        _table(header, rows),
    ]
    ops: list[str] = []
    for by_op in fl["versions"].values():
        ops += [op for op in by_op if op not in ops]
    moka_op = fl.get("moka_op", floor.FLOOR_OP)
    cols = [(v, p) for v in versions for p in ("tiny_lfu", "lru")]
    rows = [
        [
            op,
            f"`{moka_op.get(op, op)}`",
            *(_fmt(fl["versions"][v].get(op, {}).get(p, {}).get("median_ns"), ".0f") for v, p in cols),
        ]
        for op in ops
    ]
    parts += [
        "",
        "### moka alone, every operation (median ns/op, no Python)",
        "",
        "Each row was timed in that operation's rounds of the speed group; *moka runs* is the "
        "moka-alone loop it timed there.",
        "",
        _table(["operation", "moka runs", *(f"moka {v} [{p}]" for v, p in cols)], rows),
    ]
    if fl.get("notes"):
        parts += ["", "Notes: " + "; ".join(fl["notes"]) + "."]
    return parts


def _pure_floor_section(results: dict[str, Any]) -> list[str]:
    """The pure floor beside each pure target in ns, then the floor's pieces timed alone."""
    pf = results["pure_floor"]
    parts = ["", "## Pure floor: the least CPython under the pure targets (median ns/op)", ""]
    if not pf.get("ops"):
        return [*parts, "Not measured: " + ("; ".join(pf.get("notes", [])) or "no run") + "."]
    rows = []
    for r in pure_floor.target_rows(results):
        below, below_logged, below_write = r["below_floor"], r["below_logged_floor"], r["below_write_floor"]
        if below is None:
            verdict = ""
        elif below:
            verdict = "**below**: not in CPython"
        elif below_logged:
            verdict = "**below** the logged floor"
        elif below_write:
            verdict = "**below** the write floor"
        else:
            verdict = "above: room"
        rows.append(
            [
                r["target"],
                _fmt(r["peer_ns"], ".0f"),
                _fmt(r["target_ns"], ".0f"),
                _fmt(r["floor_ns"], ".0f"),
                _fmt(r["floor_ratio"], ".2f"),
                _fmt(r["logged_floor_ns"], ".0f"),
                _fmt(r["write_floor_ns"], ".0f"),
                _fmt(r["ours_ns"], ".0f"),
                verdict,
            ]
        )
    parts += [
        "`benches/pure_floor.py` times, for each pure target, a *floor*: the smallest straight-line "
        "CPython that makes the state changes moka's algorithm requires for the operation (map "
        "lookup, the tiny_lfu sketch increment with moka's arithmetic and reset, the LRU move, "
        "admission, eviction, the ttl clock read) and nothing more, on the harness's own cache shape, "
        "keys and loops (`timing.OPS`), in alternating rounds with the peer. It leaves out the "
        "deferred logs (changes are applied at once), locks, checks, listeners, weights and the "
        "`hash(key)`-keyed map; its docstring lists what each operation keeps. *target ns* is the "
        "limit times the peer's median from the same rounds; *floor ÷ peer* is the ratio the floor "
        "itself scores, to read against the limit; *ours* is the pure backend in the same rounds "
        "(its decorators in a `MOKA_PY_BACKEND=pure` worker). Where the target is **below** the "
        "floor it cannot be met in CPython without changing moka's algorithm; *above* means the "
        "floor leaves room. *logged floor* (lru rows, and the tiny_lfu `get` hit rows) is the floor "
        "plus what moka's deferral costs each call: the clock read (the 300 ms trigger) and the read "
        "or write record, drained and applied every 64 records, reads first (`LruLoggedFloor`, "
        "`LfuFloor(logged=True)`: when a cycle runs decides which entry an insert evicts and which "
        "candidate is admitted, so exact decisions need both); **below** the logged floor "
        "means the target is below what the deferral alone adds to the floor. *write floor* (`set` "
        "rows) is `WriteFloor`: moka's insert as an exact, thread-safe cache must make it, and "
        "nothing more: a lock around the write, one clock read, moka's per-entry record (key, "
        "value, generation, both timestamps) stamped on every write, the write record queued and "
        "applied every 64 records like `apply_writes` (move to the MRU end, TinyLFU admission with "
        "its dirty-victim skips, the policy generation) and the size eviction after it, over one "
        "`OrderedDict` keyed by `hash(key)`; **below** the write floor means the target is below "
        "what moka's deferred write costs behind a lock in CPython. "
        "Before timing, the run asserts that the floors' sketch counters, size and admission "
        "decisions equal the pure backend's `FrequencySketch` on the same keys, and that the write "
        "floor keeps and evicts exactly the keys the pure backend does on a stream of `set` calls.",
        "",
        _table(
            [
                "target",
                "peer ns",
                "target ns",
                "floor",
                "floor ÷ peer",
                "logged floor",
                "write floor",
                "ours",
                "target vs floor",
            ],
            rows,
        ),
    ]
    comps = pf.get("components", {})
    if comps:
        parts += [
            "",
            "### Where a floor's time goes: each piece alone (median ns/op, loop and call included)",
            "",
            "Each piece runs in a Python function called like the floors (`for k in keys: f(k)`), "
            "so subtract the *Python call* row for the piece itself; sketch rows loop over the "
            "entries' counter positions.",
            "",
            _table(["piece", "ns/op"], [[n, _fmt(r.get("median_ns"), ".0f")] for n, r in comps.items()]),
        ]
    if pf.get("notes"):
        parts += ["", "Notes: " + "; ".join(pf["notes"]) + "."]
    return parts


# -------------------------------------------------------------------------------------------- charts


def _color(sid: str) -> str:
    if sid.startswith("rust["):
        return "#d95f02"
    if sid.startswith("pure["):
        return "#e6ab02"
    if sid.startswith("moka-py-0.5.0"):
        return "#7570b3"
    if sid in ("lru_cache", "dict"):
        return "#999999"
    return "#1b9e77"


def charts(results: dict[str, Any], out: Path) -> list[str]:
    """Write the PNG charts; returns their file names (none if matplotlib is not installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    labels = _labels(results)
    written: list[str] = []
    speed = results.get("speed", {})
    if speed:
        ops = list(speed)
        cols = 3
        rows = (len(ops) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.6 * rows), squeeze=False)
        for ax, op in zip(axes.flat, ops):
            data = [(s, r["median_ns"]) for s, r in speed[op]["results"].items() if "median_ns" in r]
            data.sort(key=lambda x: x[1])
            ax.barh(
                [labels.get(s, s) for s, _ in data], [v for _, v in data], color=[_color(s) for s, _ in data]
            )
            ax.invert_yaxis()
            ax.set_title(speed[op]["title"], fontsize=10)
            ax.set_xlabel("ns/op (median, lower is better)", fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(ops) :]:
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(out / "speed.png", dpi=110)
        plt.close(fig)
        written.append("speed.png")
    hr = results.get("hit_ratio", {}).get("results")
    if hr:
        fig, axes = plt.subplots(1, len(hr), figsize=(5.5 * len(hr), 4), squeeze=False)
        for ax, (trace, by_cap) in zip(axes.flat, hr.items()):
            caps = sorted(by_cap, key=int)
            subjects = [s for s in results["subject_order"] if any(s in by_cap[c] for c in caps)]
            for i, sid in enumerate(subjects):
                ys = [by_cap[c].get(sid, {}).get("ratio") for c in caps]
                ax.plot(
                    [int(c) for c in caps],
                    ys,
                    marker="os^vD<>ph*"[i % 10],
                    label=labels.get(sid, sid),
                    color=_color(sid) if sid.startswith(("rust", "pure", "moka")) else None,
                    linestyle="--" if sid.endswith("[lru]") else "-",
                )
            ax.set_xscale("log")
            ax.set_title(trace)
            ax.set_xlabel("capacity (entries)")
            ax.set_ylabel("hit ratio")
            ax.grid(alpha=0.3)
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "hit_ratio.png", dpi=110)
        plt.close(fig)
        written.append("hit_ratio.png")
    mem = {s: m["bytes_per_entry"] for s, m in results.get("memory", {}).items() if "bytes_per_entry" in m}
    if mem:
        fig, ax = plt.subplots(figsize=(7, 0.4 * len(mem) + 1.2))
        items = sorted(mem.items(), key=lambda x: x[1])
        ax.barh(
            [labels.get(s, s) for s, _ in items], [v for _, v in items], color=[_color(s) for s, _ in items]
        )
        ax.invert_yaxis()
        ax.set_xlabel("bytes per entry (RSS growth / entries, lower is better)")
        fig.tight_layout()
        fig.savefig(out / "memory.png", dpi=110)
        plt.close(fig)
        written.append("memory.png")
    th = {s: v for s, v in results.get("threads", {}).items() if "1" in v}
    if th:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(th) + 1.2))
        names = list(th)
        ys = list(range(len(names)))
        ax.barh([y - 0.2 for y in ys], [th[s]["1"] for s in names], height=0.4, label="1 thread")
        ax.barh([y + 0.2 for y in ys], [th[s].get("2", 0) for s in names], height=0.4, label="2 threads")
        ax.set_yticks(list(ys), [labels.get(s, s) for s in names])
        ax.invert_yaxis()
        ax.set_xlabel("operations per second (higher is better)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "threads.png", dpi=110)
        plt.close(fig)
        written.append("threads.png")
    return written


def write_all(results: dict[str, Any], out: Path) -> list[Path]:
    """Write JSON, Markdown and charts into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    results["ratios"] = ratio_tables(results)
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    paths[1].write_text(markdown(results))
    paths += [out / name for name in charts(results, out)]
    return paths
