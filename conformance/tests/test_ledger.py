"""The model tier's ledger asks moka's housekeeping moments of ``exact`` backends only."""

from __future__ import annotations

import pytest
from moka_py_conformance._ledger import Ledger


def size_event_during(kind: str, exact: bool) -> list[str]:
    """Store a value, then report it evicted for size during one ``kind`` call; return violations."""
    ledger = Ledger(1, exact=exact, clock=lambda: 0.0)  # a frozen clock: the 300 ms never pass
    with ledger.operation("set", "a") as op:
        value = ledger.new_value("a")
        ledger.will_store(op, "a", value, certain=True)
    with ledger.operation(kind, "b"):
        ledger.report("a", value, "size")
    violations: list[str] = ledger.violations
    return violations


@pytest.mark.parametrize("kind", ["set", "get", "get_with", "remove"])
def test_exact_backend_evicts_only_at_housekeeping(kind: str) -> None:
    [violation] = size_event_during(kind, exact=True)
    assert "decided by housekeeping" in violation


@pytest.mark.parametrize("kind", ["set", "get", "get_with", "remove", "run_pending_tasks", "clear"])
def test_other_backends_may_evict_in_any_reading_or_writing_call(kind: str) -> None:
    assert size_event_during(kind, exact=False) == []


@pytest.mark.parametrize("exact", [True, False])
def test_no_backend_evicts_during_a_call_that_neither_reads_nor_writes(exact: bool) -> None:
    violations = size_event_during("contains", exact=exact)
    assert violations and "must not report anything" in violations[0]
