"""Faults: callables given to the cache that raise, at random or on purpose.

A listener, weigher, initializer, key ``__hash__`` or key ``__eq__`` that raises: the exception
comes out of the call the contract names (API.md section 3; the table is ``_reliability.ALLOWED``),
and the cache stays consistent: the no-value-lost ledger still balances. The same for a
``KeyboardInterrupt`` raised inside an initializer.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from moka_py_conformance._reliability import FAULT_OF, Faults, Workload
from moka_py_conformance._support import run_with_watchdog

SECONDS = 1.5  # per run in CI; scaled by --moka-soak


@pytest.mark.slow
@pytest.mark.parametrize("kind", [*FAULT_OF, "all"])
def test_random_faults_surface_from_the_documented_call(Moka: Any, soak: float, kind: str) -> None:
    kinds = list(FAULT_OF) if kind == "all" else [kind]
    faults = Faults(**dict.fromkeys(kinds, 0.05))
    workload = Workload(Moka, weighed=True, faults=faults)
    workload.run(1, SECONDS * soak)
    # every fault kind did fire and reach a caller, and no call raised one it must not
    for k in kinds:
        assert faults.raised[k] > 0, f"no {k} fault was raised: {faults.raised}"
        assert any(f"raised {FAULT_OF[k].__name__}" in op for op in workload.ops), workload.ops
    workload.check()


def test_weigher_fault_leaves_the_old_value(Moka: Any) -> None:
    faults = Faults()
    workload = Workload(Moka, weighed=True, faults=faults)
    cache, ledger = workload.cache, workload.ledger
    workload.calls_back = False
    old = ledger.new_value(1, may_expire=False)
    cache.set(_key(1, faults), old)
    ledger.settle(old, stored=True)
    faults.probability["weigher"] = 1.0
    with pytest.raises(FAULT_OF["weigher"]):
        cache.set(_key(1, faults), ledger.new_value(1, may_expire=False))
    with pytest.raises(FAULT_OF["weigher"]):
        cache.get_with(_key(2, faults), lambda: ledger.new_value(2, may_expire=False))
    faults.off()
    assert cache.get(_key(1, faults)) == old
    assert _key(2, faults) not in cache
    workload.check()


def test_keyboard_interrupt_in_an_initializer(Moka: Any) -> None:
    """It reaches the caller; nothing is cached; waiters are not stuck; the key works afterwards."""
    cache = Moka(10)
    started, release = threading.Event(), threading.Event()

    def interrupted() -> str:
        started.set()
        release.wait(10)
        raise KeyboardInterrupt

    outcomes: list[object] = []

    def waiter() -> None:
        started.wait(10)
        try:
            outcomes.append(cache.get_with("k", lambda: "from the waiter"))
        except KeyboardInterrupt as exc:  # the owner's exception, shared: allowed too
            outcomes.append(exc)

    def scenario() -> None:
        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        threading.Timer(0.3, release.set).start()  # the waiter is waiting by then (or retries: fine)
        with pytest.raises(KeyboardInterrupt):
            cache.get_with("k", interrupted)
        thread.join()

    run_with_watchdog(scenario, 30, "get_with whose initializer raised KeyboardInterrupt")
    assert len(outcomes) == 1
    if outcomes[0] == "from the waiter":  # the waiter retried and ran its own initializer
        assert cache.get("k") == "from the waiter"
    else:
        assert isinstance(outcomes[0], KeyboardInterrupt)
        assert "k" not in cache
    cache.remove("k")
    assert cache.get_with("k", lambda: "later") == "later"
    cache.run_pending_tasks()
    assert cache.count() == 1


def _key(n: int, faults: Faults) -> Any:
    from moka_py_conformance._reliability import Key

    return Key(n, faults)
