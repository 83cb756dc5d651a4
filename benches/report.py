"""Turn one run's results into JSON, Markdown tables and PNG charts.

Files written into the output folder (``benches/results/`` by default):

* ``results.json``: everything measured (every sample), the machine, versions and the ratios;
* ``results.md``: the headline table (as the README shows it), then every table;
* ``speed.png`` (median ns/op per operation, one panel each), ``hit_ratio-FAMILY.png``
  (one per trace family: a panel per trace, hit ratio per subject at each capacity, Belady's
  optimum as a black mark), ``memory.png`` and ``threads.png``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import floor

__all__ = ["ratio_tables", "write_all"]

OURS = ("rust[tiny_lfu]", "rust[lru]", "pure[tiny_lfu]", "pure[lru]")

CACHE_OPS: tuple[str, ...] = (
    "get_hit_int", "get_hit_str", "get_miss_int", "get_miss_str", "set_replace", "set_evict",
)
OTHER_OPS: tuple[str, ...] = (
    "get_with_hit", "get_with_miss", "remove", "get_hit_ttl", "cached_hit", "cached_ttl_hit",
)
MAPPING_OPS: tuple[str, ...] = (
    "getitem_hit", "peek_hit", "len", "iter", "get_many", "set_many", "remove_many",
)
HEADLINE_OPS: tuple[str, ...] = ("get_hit_int", "get_miss_int", "set_replace", "set_evict", "get_with_hit", "cached_hit")
PEERS = ("cachetools.LRUCache", "cachetools.LFUCache", "cachebox.LRUCache", "cachebox.LFUCache", "lru-dict", "theine")

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
    parts += headline(results)
    speed = results.get("speed", {})
    if speed:
        subjects = [s for s in results["subject_order"] if any(s in v["results"] for v in speed.values())]
        for title, ops in (
            ("Cache operations", CACHE_OPS),
            ("More operations", OTHER_OPS),
            ("Mapping methods and bulk calls", MAPPING_OPS),
        ):
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
    if results.get("hit_ratio", {}).get("results"):
        parts += _hit_ratio_section(results)
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


def headline(results: dict[str, Any]) -> list[str]:
    """The headline table: ours (both backends), moka-py 0.5.0, the fastest peer, ``lru_cache``."""
    speed = results.get("speed", {})
    ops = [op for op in HEADLINE_OPS if op in speed]
    if not ops:
        return []
    labels = _labels(results)
    rows = []
    for sid in ("rust[tiny_lfu]", "pure[tiny_lfu]", "moka-py-0.5.0[tiny_lfu]"):
        cells = [_fmt(_median(results, op, sid), ".0f") for op in ops]
        if any(cells):
            rows.append([labels.get(sid, sid), *cells])
    fastest = []
    for op in ops:
        best = min(((m, p) for p in PEERS if (m := _median(results, op, p)) is not None), default=None)
        fastest.append("" if best is None else f"{best[0]:.0f} ({labels.get(best[1], best[1])})")
    rows.append(["fastest peer", *fastest])
    rows.append(["functools.lru_cache", *(_fmt(_median(results, op, "lru_cache"), ".0f") for op in ops)])
    titles = [speed[op]["title"] for op in ops]
    return ["", "## Headline (median ns/op, lower is better)", "", _table(["", *titles], rows)]


def hit_ratio_table(results: dict[str, Any], traces: Sequence[str] | None = None) -> str:
    """One row per subject (Belady first), one column per trace and capacity."""
    hr = results["hit_ratio"]["results"]
    labels = {"belady": "Belady (optimal, offline)", **_labels(results)}
    cols = [(t, c) for t in (traces or hr) if t in hr for c in hr[t]]
    subjects = [s for s in ["belady", *results["subject_order"]] if any(s in hr[t][c] for t, c in cols)]
    rows = [
        [labels.get(s, s), *(_fmt(hr[t][c].get(s, {}).get("ratio"), ".3f") for t, c in cols)] for s in subjects
    ]
    return _table(["subject", *(f"{t} @{c}" for t, c in cols)], rows)


def _hit_ratio_section(results: dict[str, Any]) -> list[str]:
    hr = results["hit_ratio"]
    traces = hr["traces"]
    parts = [
        "",
        f"## Hit ratio (get, set on a miss; each trace cut at {hr['max_accesses']:,} accesses)",
        "",
        _table(
            ["trace", "accesses", "distinct keys", "capacities"],
            [[t, f"{v['accesses']:,}", f"{v['distinct']:,}", ", ".join(map(str, v["capacities"]))] for t, v in traces.items()],
        ),
    ]
    by_family: dict[str, list[str]] = {}
    for t in traces:
        by_family.setdefault(t.split("-", 1)[0], []).append(t)
    for fam, names in by_family.items():
        parts += ["", f"### {fam}", "", hit_ratio_table(results, names), "", hr["credits"].get(fam, "")]
    return parts


def _floor_section(results: dict[str, Any]) -> list[str]:
    """moka alone and the least binding beside the Rust backend, per operation and policy."""
    fl = results["floor"]
    parts = ["", f"## The limit: moka {fl['moka_version']} alone and the least binding (median ns/op)", ""]
    rows = []
    for op in results.get("speed", {}):
        if op not in fl["moka_op"]:
            continue
        cells = []
        for p in floor.POLICIES:
            cells += [
                _fmt(fl["moka"].get(op, {}).get(p, {}).get("median_ns"), ".0f"),
                _fmt(fl["least"].get(op, {}).get(p, {}).get("median_ns"), ".0f"),
                _fmt(_median(results, op, f"rust[{p}]"), ".0f"),
            ]
        rows.append([op, f"`{fl['moka_op'][op]}`", *cells])
    header = ["operation", "moka runs"] + [f"{w} [{p}]" for p in floor.POLICIES for w in ("moka alone", "least binding", "rust")]
    parts += [
        "Timed in each operation's alternating rounds with every subject. *moka alone*: "
        "`benches/moka_floor`, a Rust loop over `u64` keys; *least binding*: `benches/least_binding`, "
        "moka behind PyO3 with one `hash(key)` and nothing else (a floor, not a cache).",
        "",
        _table(header, rows),
    ]
    if fl.get("notes"):
        parts += ["", "Notes: " + "; ".join(fl["notes"]) + "."]
    return parts


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
    hr = results.get("hit_ratio", {}).get("results", {})
    families: dict[str, list[str]] = {}
    for t in hr:
        families.setdefault(t.split("-", 1)[0], []).append(t)
    labels["belady"] = "Belady (optimal)"
    for fam, traces in families.items():
        cols = min(len(traces), 3)
        nrows = (len(traces) + cols - 1) // cols
        fig, axes = plt.subplots(nrows, cols, figsize=(5.5 * cols, 4 * nrows), squeeze=False)
        for ax, trace in zip(axes.flat, traces):
            by_cap = hr[trace]
            caps = sorted(by_cap, key=int)
            subjects = [s for s in ["belady", *results["subject_order"]] if any(s in by_cap[c] for c in caps)]
            for i, sid in enumerate(subjects):
                ax.plot(
                    [int(c) for c in caps],
                    [by_cap[c].get(sid, {}).get("ratio") for c in caps],
                    marker="os^vD<>ph*"[i % 10],
                    label=labels.get(sid, sid),
                    color="black" if sid == "belady" else _color(sid) if sid.startswith(("rust", "pure", "moka")) else None,
                    linewidth=2.5 if sid == "belady" else 1.2,
                    linestyle="--" if sid.endswith("[lru]") else "-",
                )
            ax.set_xscale("log")
            ax.set_title(trace)
            ax.set_xlabel("capacity (entries)")
            ax.set_ylabel("hit ratio (higher is better)")
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(traces) :]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        credit = results["hit_ratio"].get("credits", {}).get(fam, "")
        fig.text(0.01, 0.005, credit, fontsize=6, wrap=True)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        name = f"hit_ratio-{fam}.png"
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(name)
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
