"""Memory per entry: RSS growth in a fresh process per subject (``tracemalloc`` cannot see Rust or C).

The process builds the int keys (``10**9 + i``, values = keys, so every subject shares their
cost), reads RSS, fills a cache of capacity = entries, settles it and reads RSS again; it also
reports how many entries the cache held, to catch one that silently dropped some.
The harness runs it in a new worker process per subject (``timing.py``'s ``memory`` command).
Standard library only, so moka-py 0.5.0's interpreter can run it.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from subjects import identity, load_adapter


def rss_bytes() -> int:
    """Current resident set size of this process (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_here(subject_id: str, entries: int) -> dict[str, Any]:
    """Fill one cache with ``entries`` entries in this process; return the RSS growth per entry."""
    adapter = load_adapter(subject_id)
    keys = list(range(10**9, 10**9 + entries))
    # A first small cache, so the library's one-time allocations come before the first reading.
    if adapter.new_cache(16) is None and adapter.decorate(identity, 16, None) is None:
        raise ValueError(f"{subject_id} has no cache to measure")
    gc.collect()
    before = rss_bytes()
    cache = adapter.new_cache(entries)
    if cache is not None:
        adapter.fill(cache, keys)
        adapter.settle(cache)
        held = len(cache) if hasattr(cache, "__len__") else cache.count()
    else:
        func = adapter.decorate(identity, entries, None)
        assert func is not None
        for k in keys:
            func(k)
        held = func.cache_info().currsize  # type: ignore[attr-defined]
    gc.collect()
    after = rss_bytes()
    return {
        "entries": entries,
        "held": held,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_entry": (after - before) / entries,
    }
