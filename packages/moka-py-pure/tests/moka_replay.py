"""Replay one moka harness trace on the pure backend (``tools/moka_harness``; see its README).

Shared by ``test_pure_moka_traces`` (recorded traces) and ``tools/moka_harness/differential.py``
(fresh random ones), so both read the harness's output format the same way.
"""

from __future__ import annotations

from typing import Any, Callable

from moka_py_pure import Moka
from moka_py_pure._cache import _MISSING, _deliver


def ns(s: str) -> int | None:
    return None if s == "-" else int(s)


def make_value(v: int) -> Callable[[], tuple[int]]:
    return lambda: (v,)


def replay(t: dict[str, Any]) -> list[str]:
    out: list[str] = []
    events: list[tuple[Any, Any, str]] = []
    now = [0]
    cap = t["cap"]
    c: Moka[int, tuple[int]] = Moka._with_clock(
        lambda: now[0],
        None if cap < 0 else cap,
        ttl=None if t["ttl"] < 0 else t["ttl"] / 1e9,
        tti=None if t["tti"] < 0 else t["tti"] / 1e9,
        policy="lru" if t["lru"] else "tiny_lfu",
        weigher=(lambda k, v: v[0] % 1000) if t["weigher"] else None,
        eviction_listener=(lambda k, v, cause: events.append((k, v[0], cause))) if t["listener"] else None,
    )
    # the exact nanosecond cache-wide durations (the public API takes float seconds)
    c._ttl_ns = c._policy.ttl = None if t["ttl"] < 0 else t["ttl"]
    c._tti_ns = c._policy.tti = None if t["tti"] < 0 else t["tti"]
    for op in t["ops"]:
        p = op.split()
        if p[0] == "S":
            k = int(p[1])
            evs = c._insert(k, hash(k), (int(p[2]),), ns(p[3]), ns(p[4]))
            if evs:
                assert c._listener is not None
                _deliver(c._listener, evs)
        elif p[0] == "G":
            r = c.get(int(p[1]))
            out.append("g None" if r is None else f"g Some({r[0]})")
        elif p[0] == "H":
            out.append(f"h {'true' if int(p[1]) in c else 'false'}")
        elif p[0] == "W":
            k = int(p[1])
            v = int(p[2])
            r = c.get(k, _MISSING)  # get_with with exact ns durations: its recorded read, then
            if r is _MISSING:
                r = c._init_or_read(k, hash(k), make_value(v), ns(p[3]), ns(p[4]))
            out.append(f"w {r[0]}")
        elif p[0] == "R":
            r = c.remove(int(p[1]))
            out.append("r None" if r is None else f"r Some({r[0]})")
        elif p[0] == "C":
            c.clear()
        elif p[0] == "P":
            c.run_pending_tasks()
            out.append(f"p {c.count()} {c.weighted_size()}")
        elif p[0] == "T":
            now[0] += int(p[1])
        else:
            raise AssertionError(op)
        out.extend(f"e {k} {v} {cause}" for k, v, cause in events)
        events.clear()
    return out
