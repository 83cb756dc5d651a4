"""One run's results as ``results.json`` (everything, every sample), ``results.md`` (the headline
table, then every table) and PNG charts; ``benches/README.md`` lists them and their colours.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import floor
import hit_ratio
from subjects import OURS, PEERS

GROUPS_OF_OPS = {
    "Cache operations": "get_hit_int get_hit_str get_miss_int get_miss_str set_replace set_evict",
    "More operations": "get_with_hit get_with_miss remove get_hit_ttl cached_hit cached_ttl_hit",
    "Mapping methods and bulk calls": "getitem_hit peek_hit len iter get_many set_many remove_many",
}
HEADLINE_OPS = ("get_hit_int", "get_miss_int", "set_replace", "set_evict", "get_with_hit", "cached_hit")
HEADLINE_SUBJECTS = ("rust[tiny_lfu]", "pure[tiny_lfu]", "moka-py-0.5.0[tiny_lfu]")
RATIO_COLUMNS = ("moka-py 0.5.0", "cachetools", "cachebox", "lru-dict", "theine", "lru_cache")


def utc_now() -> str:
    """The time a report dates its run by: UTC, to the minute."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _peer(column: str, ours: str, op: str) -> str | None:
    """The subject ``ours`` is divided by in ``column``: the same family (LFUCache for tiny_lfu,
    LRUCache for lru, TTLCache for ttl operations, ``cached(LRUCache)`` for decorators)."""
    policy = ours[ours.index("[") + 1 : -1]
    if column == "moka-py 0.5.0":
        return f"moka-py-0.5.0[{policy}]"
    if column in ("cachetools", "cachebox"):
        lfu = policy == "tiny_lfu" and not op.startswith("cached")
        ttl = op in ("get_hit_ttl", "cached_ttl_hit")
        return f"{column}.{'TTLCache' if ttl else 'LFUCache' if lfu else 'LRUCache'}"
    if column == "lru_cache":
        return "lru_cache" if op.startswith("cached") else None
    return column


def _median(results: dict[str, Any], op: str, subject: str | None) -> float | None:
    return results.get("speed", {}).get(op, {}).get("results", {}).get(subject, {}).get("median_ns")  # type: ignore[no-any-return]


def ratio_tables(results: dict[str, Any]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{ours: {op: {column: ours / peer}}}``: below 1.0, ours is faster."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for ours in OURS:
        for op in results.get("speed", {}):
            if (mine := _median(results, op, ours)) is not None:
                row = {c: _median(results, op, _peer(c, ours, op)) for c in RATIO_COLUMNS}
                out.setdefault(ours, {})[op] = {c: mine / v if v else None for c, v in row.items()}
    return out


def _fmt(x: float | None, spec: str) -> str:
    return "" if x is None else format(x, spec)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _label_of(results: dict[str, Any]) -> Callable[[str], str]:
    """A subject's label (its id if it has none)."""
    labels = {s: i["label"] for s, i in results["subjects"].items()}
    labels["belady"] = "Belady (optimal, offline)"
    return lambda s: labels.get(s, s)


def _ns_rows(results: dict[str, Any], subjects: Sequence[str], ops: Sequence[str]) -> list[list[str]]:
    """A row of median ns/op per subject (its label first), a cell per operation."""
    label = _label_of(results)
    return [[label(s), *(_fmt(_median(results, op, s), ".0f") for op in ops)] for s in subjects]


def headline(results: dict[str, Any]) -> str:
    """Ours (both backends, tiny_lfu), moka-py 0.5.0, the fastest peer and ``lru_cache``, ns/op."""
    speed, label = results["speed"], _label_of(results)
    ops = [op for op in HEADLINE_OPS if op in speed]
    ours = [s for s in HEADLINE_SUBJECTS if s in results["subjects"]]
    fastest = []
    for op in ops:
        best = min(((m, p) for p in PEERS if (m := _median(results, op, p)) is not None), default=None)
        fastest.append("" if best is None else f"{best[0]:.0f} ({label(best[1])})")
    rows = [*_ns_rows(results, ours, ops), ["fastest peer", *fastest]]
    rows += [["functools.lru_cache", *_ns_rows(results, ["lru_cache"], ops)[0][1:]]]
    return table(["ns/op", *(speed[op]["title"] for op in ops)], rows)


def hit_ratio_table(results: dict[str, Any], traces: Sequence[str]) -> str:
    """A row per subject (Belady first), a column per trace and capacity."""
    hr, label = results["hit_ratio"]["results"], _label_of(results)
    cols = [(t, c) for t in traces if t in hr for c in hr[t]]
    subjects = [s for s in ["belady", *results["subject_order"]] if any(s in hr[t][c] for t, c in cols)]
    rows = [[label(s), *(_fmt(hr[t][c].get(s, {}).get("ratio"), ".3f") for t, c in cols)] for s in subjects]
    return table(["subject", *(f"{t} @{c}" for t, c in cols)], rows)


SUMMARY: tuple[str, ...] = ("belady", "rust[tiny_lfu]", "rust[lru]", "moka-py-0.5.0[tiny_lfu]", "theine")
SUMMARY += ("cachetools.LFUCache", "lru-dict")


def hit_ratio_summary(results: dict[str, Any]) -> str:
    """The published traces at their larger capacity, a column per :data:`SUMMARY` subject, and
    whether the pure backend made the Rust backend's hits on every trace and capacity."""
    hr, label = results["hit_ratio"]["results"], _label_of(results)
    rows = [
        [f"{t} @{c}", *(_fmt(hr[t][c].get(s, {}).get("ratio"), ".3f") for s in SUMMARY)]
        for t, by_cap in hr.items()
        if not t.startswith("zipf")
        for c in list(by_cap)[-1:]
    ]
    same = all(
        by_cap[c].get(f"pure[{p}]", {}).get("hits") == by_cap[c].get(f"rust[{p}]", {}).get("hits")
        for by_cap in hr.values()
        for c in by_cap
        for p in ("tiny_lfu", "lru")
    )
    note = f"The pure backend's hits {'equal' if same else 'DIFFER from'} the Rust backend's on every trace."
    return table(["trace @capacity", *(label(s) for s in SUMMARY)], rows) + "\n\n" + note


def markdown(results: dict[str, Any]) -> str:
    """Every table of the run as one Markdown document."""
    meta, label = results["meta"], _label_of(results)
    quick = " (quick smoke run: the numbers are NOT representative)." if meta["quick"] else "."
    parts = [
        "# moka-py benchmarks",
        "",
        f"Machine: {meta['machine']}; Python {meta['python']}; {meta['date']}.  ",
        f"Command: `{meta['command']}`{quick}",
        "",
        f"Load average (1 min) {meta.get('load_before', 0):.2f} before the run and "
        f"{meta.get('load_after', 0):.2f} after it: the machine may be shared, and the speed figures "
        "are only as quiet as it was.",
    ]

    def section(title: str, *body: str) -> None:
        parts.extend(["", f"## {title}", "", *body])

    if speed := results.get("speed", {}):
        section("Headline (median ns/op, lower is better)", headline(results))
        subjects = [s for s in results["subject_order"] if any(s in v["results"] for v in speed.values())]
        for title, spec in GROUPS_OF_OPS.items():
            ops = [op for op in spec.split() if op in speed]
            rows = [r for r in _ns_rows(results, subjects, ops) if any(r[1:])]
            section(f"{title} (median ns/op)", table(["subject", *ops], rows))
        names = "; ".join(f"`{op}` = {v['title']}" for op, v in speed.items())
        note = f"Medians of several loops, loop overhead included (see *Loop overhead*). Operations: {names}."
        parts += ["", note]
        for ours, per_op in ratio_tables(results).items():
            rows = [[op, *(_fmt(r[c], ".2f") for c in RATIO_COLUMNS)] for op, r in per_op.items()]
            title = f"{label(ours)}: time ratio to each peer (below 1.0: moka-py is faster)"
            section(title, table(["operation", *RATIO_COLUMNS], rows))
        parts += [
            "",
            "cachetools / cachebox columns compare the same family: LFUCache for tiny_lfu, LRUCache "
            "for lru, TTLCache for the ttl operations, `cached(LRUCache)` for `cached_hit`; `lru_cache` "
            "has no ttl.",
        ]
        rows = [[k, _fmt(v, ".1f")] for k, v in results.get("baselines", {}).items()]
        section("Loop overhead (ns/op, included in every figure above)", table(["loop", "ns/op"], rows))
    if fl := results.get("floor"):
        ids = {"moka alone": floor.IDS["moka"], "least binding": floor.IDS["least"], "rust": "rust[{}]"}
        columns = {f"{w} [{p}]": sid.format(p) for p in floor.POLICIES for w, sid in ids.items()}
        rows = [
            [op, f"`{fl['moka_op'][op]}`", *(_fmt(_median(results, op, s), ".0f") for s in columns.values())]
            for op in speed
            if op in fl["moka_op"]
        ]
        section(
            f"The limit: moka {fl['moka_version']} alone and the least binding (median ns/op)",
            "Timed in each operation's alternating rounds with every subject. *moka alone*: "
            "`benches/least_binding`'s `MokaAlone`, a Rust loop over the same keys; *least binding*: "
            "moka behind PyO3 with one `hash(key)` and nothing else (a floor, not a cache).",
            "",
            table(["operation", "moka runs", *columns], rows),
            *([f"\nNotes: {'; '.join(fl['notes'])}."] if fl.get("notes") else []),
        )
    if mem := results.get("memory"):
        rows = [
            [label(s), _fmt(v.get("bytes_per_entry"), ".1f"), str(v.get("held", "")), v.get("error", "")]
            for s, v in mem.items()
        ]
        n = next((m["entries"] for m in mem.values() if "entries" in m), 0)
        title = f"Memory per entry ({n:,} int keys, values = keys, RSS growth in a fresh process)"
        section(title, table(["subject", "bytes/entry", "entries held", "note"], rows))
    if hr := results.get("hit_ratio"):
        rows = [
            [t, f"{v['accesses']:,}", f"{v['distinct']:,}", ", ".join(map(str, v["capacities"]))]
            for t, v in hr["traces"].items()
        ]
        title = f"Hit ratio (get, set on a miss; each trace cut at {hr['max_accesses']:,} accesses)"
        section(title, table(["trace", "accesses", "distinct keys", "capacities"], rows))
        for fam, credit in hr["credits"].items():  # every family replayed, with the credit it requires
            traces = [t for t in hr["traces"] if hit_ratio.family(t) == fam]
            parts += ["", f"### {fam}", "", hit_ratio_table(results, traces), "", credit]
        parts += ["", "### The published traces at the larger capacity", "", hit_ratio_summary(results)]
    if th := results.get("threads"):
        rows = []
        for s, v in th.items():
            spread = " / ".join(f"{min(x) / 1e6:.2f}-{max(x) / 1e6:.2f}" for x in v["samples"].values() if x)
            rows.append([label(s), *(_fmt(v.get(n), ",.0f") for n in "12"), spread, v.get("error", "")])
        section(
            "Threads (ops/s, 90 % get / 10 % set, all threads together)",
            f"Median of {meta['config']['thread_rounds']} alternating rounds; *range* is the lowest "
            "and highest run (1 thread / 2 threads), in millions of ops/s.",
            "",
            table(["subject", "1 thread", "2 threads", "range (M ops/s)", "note"], rows),
        )
    if ld := results.get("loading"):
        figures = ("aget_with_hit_ns", "get_with_hit_plus_await_ns", "ratio",
                   "due_for_refresh_hit_ns", "plain_get_with_hit_ns", "refresh_ratio")  # fmt: skip
        rows = [[b, *(str(r.get(k, "")) for k in figures)] for b, r in ld.items()]
        header = ["backend", "`await aget_with` hit, ns", "`get_with` hit + `await`, ns", "ratio",
                  "hit due for refresh, ns", "plain `get_with` hit, ns", "ratio"]  # fmt: skip
        section("Loading (`benches/loading.py`: best of several runs, one event loop)", table(header, rows))
    rows = [[i["label"], i.get("version", ""), i.get("where", "")] for i in results["subjects"].values()]
    section("Versions", table(["subject", "version", "runs in"], rows))
    return "\n".join(parts) + "\n"


COLORS = {"rust[": "#d95f02", "pure[": "#e6ab02", "moka-py-0.5.0": "#7570b3", "belady": "black"}


def _color(sid: str) -> str | None:
    color = next((c for prefix, c in COLORS.items() if sid.startswith(prefix)), None)
    return color or ("#999999" if sid in ("lru_cache", "dict") else None)


def charts(results: dict[str, Any], out: Path) -> list[str]:
    """Write the PNG charts; their file names (none if matplotlib is not installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    label, found, written = _label_of(results), results["subjects"], []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(name)

    def bars(ax: Any, values: dict[str, float], xlabel: str) -> None:
        names = sorted(values, key=values.__getitem__)
        colors = [_color(s) or "#1b9e77" for s in names]
        ax.barh([label(s) for s in names], [values[s] for s in names], color=colors)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)

    def panels(n: int, cols: int, width: float, height: float) -> tuple[Any, list[Any]]:
        """A figure of ``n`` panels, ``cols`` a row; the unused cells blanked."""
        rows = (n + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        return fig, list(axes.flat)

    if speed := results.get("speed", {}):
        fig, axes = panels(len(speed), 4, 5.5, 3.4)
        for ax, v in zip(axes, speed.values()):
            medians = {s: r["median_ns"] for s, r in v["results"].items() if "median_ns" in r and s in found}
            bars(ax, medians, "ns/op (median, lower is better)")
            ax.set_title(v["title"], fontsize=10)
        save(fig, "speed.png")
    hr = results.get("hit_ratio", {})
    for fam, credit in hr.get("credits", {}).items():
        traces = [t for t in hr["results"] if hit_ratio.family(t) == fam]
        fig, axes = panels(len(traces), min(len(traces), 3), 5.5, 4)
        for ax, trace in zip(axes, traces):
            by_cap = hr["results"][trace]
            replayed = [s for s in ["belady", *results["subject_order"]] if s in by_cap[next(iter(by_cap))]]
            for i, sid in enumerate(replayed):
                ax.plot(
                    [int(c) for c in by_cap],
                    [by_cap[c].get(sid, {}).get("ratio") for c in by_cap],
                    marker="os^vD<>ph*"[i % 10],
                    label=label(sid),
                    color=_color(sid),
                    linewidth=2.5 if sid == "belady" else 1.2,
                    linestyle="--" if sid.endswith("[lru]") else "-",
                )
            ax.set(xscale="log", title=trace, xlabel="capacity (entries)", ylabel="hit ratio (higher wins)")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.text(0.01, 0.005, credit, fontsize=6)
        save(fig, f"hit_ratio-{fam}.png")
    if mem := {s: m["bytes_per_entry"] for s, m in results.get("memory", {}).items() if "entries" in m}:
        fig, ax = plt.subplots(figsize=(7, 0.4 * len(mem) + 1.2))
        bars(ax, mem, "bytes per entry (RSS growth / entries, lower is better)")
        save(fig, "memory.png")
    if th := {s: v for s, v in results.get("threads", {}).items() if "1" in v}:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(th) + 1.2))
        ys = range(len(th))
        ax.barh([y - 0.2 for y in ys], [v["1"] for v in th.values()], height=0.4, label="1 thread")
        ax.barh([y + 0.2 for y in ys], [v.get("2", 0) for v in th.values()], height=0.4, label="2 threads")
        ax.set_yticks(list(ys), [label(s) for s in th])
        ax.invert_yaxis()
        ax.set_xlabel("operations per second (higher is better)")
        ax.legend()
        save(fig, "threads.png")
    return written


def write_all(results: dict[str, Any], out: Path) -> list[Path]:
    """Write JSON, Markdown and charts into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    results["ratios"] = ratio_tables(results)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(markdown(results))
    return [out / "results.json", out / "results.md", *(out / n for n in charts(results, out))]
