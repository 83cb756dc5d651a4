"""Helpers for the pure backend's tests: a manual clock, a listener recorder, a cache factory."""

from __future__ import annotations

from typing import Any

from moka_py_pure import Moka

MS = 1_000_000
SEC = 1_000_000_000


class FakeClock:
    """A manual nanosecond clock for ``Moka._with_clock``."""

    def __init__(self, start: int = 10 * SEC) -> None:
        self.now = start  # any origin works: the cache measures time from its creation

    def __call__(self) -> int:
        return self.now

    def advance(self, ns: int) -> None:
        self.now += ns


class Recorder:
    """An eviction listener that records ``(key, value, cause)``."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, Any, str]] = []

    def __call__(self, key: Any, value: Any, cause: str) -> None:
        self.events.append((key, value, cause))

    def take(self) -> list[tuple[Any, Any, str]]:
        out = self.events[:]
        self.events.clear()
        return out


def make(capacity: Any, clock: FakeClock, rec: Any = None, bound: bool = False, **kw: Any) -> Moka[Any, Any]:
    """A pure cache on ``clock``.  These tests trace moka's own mechanisms step by step, so the size
    bound that moka-py adds above them (API.md section 6) is off unless ``bound`` is true; the
    conformance suite and the recorded traces check the bound."""
    c: Moka[Any, Any] = Moka._with_clock(clock, capacity, eviction_listener=rec, **kw)
    if not bound:
        c._slack = None
    return c
