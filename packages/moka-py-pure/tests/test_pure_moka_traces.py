"""Replay operation traces recorded from the real moka 0.12.16 crate and compare every output.

The traces in ``data/moka-0.12.16-traces.json.gz`` were produced by ``tools/moka_harness`` (see its
README): a Rust program that drives ``moka::sync::Cache`` 0.12.16 built with
``build_with_hasher`` (key hash = fmix64 of the int key, as the Rust backend does), the shared
Expiry hooks (``docs/internals/moka-algorithms.md``, "Expiry hooks"), an eviction listener, and
moka's own test clock (a ``cfg(test)`` mock made public in a local copy of the crate) so time is
exact.  Ops: ``S k v ttl tti`` (insert, per-entry durations in ns or ``-``), ``G k`` (get),
``H k`` (contains), ``W k v ttl tti`` (get_with), ``R k``
(remove), ``C`` (invalidate_all + run_pending_tasks), ``P`` (run_pending_tasks, then report
entry_count and weighted_size), ``T ns`` (advance the clock).  Values are ``(v,)`` tuples so that
identity does not matter; the weigher is ``v % 1000``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from moka_replay import replay

DATA = Path(__file__).parent / "data" / "moka-0.12.16-traces.json.gz"


def load() -> list[dict[str, Any]]:
    with gzip.open(DATA, "rt") as f:
        return json.load(f)  # type: ignore[no-any-return]


TRACES = load()


@pytest.mark.parametrize("trace", TRACES, ids=[str(t["seed"]) for t in TRACES])
def test_replay_matches_moka(trace: dict[str, Any]) -> None:
    got = replay(trace)
    expected = trace["expected"]
    for i, (a, b) in enumerate(zip(got, expected)):
        assert a == b, f"first difference at output line {i}"
    assert len(got) == len(expected)
