"""Contract tests written because a deliberately broken backend passed the rest of the suite.

The repository's ``conformance/tests/test_teeth.py`` runs the suite against broken copies of the
pure backend; each test here closes a gap one of them found (named in the test's docstring).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

TTI = 1.0  # seconds
READ_EVERY = 0.2  # five reads per tti: a read refreshes the entry long before it idles out
READING_FOR = 2.5  # seconds: well past the tti, so an unrefreshed entry would have expired
MAX_STALLS = 5


class Stall(Exception):
    """Two reads of a key were a whole tti apart (a stalled machine): the run proves nothing."""


def keep_reading(Moka: Any) -> None:
    wide = Moka(10, tti=TTI)  # cache-wide tti
    per_entry = Moka(10)
    readers: dict[str, Callable[[Any], Any]] = {
        "get": lambda cache: cache.get("get"),
        "get_with": lambda cache: cache.get_with("get_with", lambda: "recomputed"),
    }
    caches = {"cache-wide": (wide, None), "per-entry": (per_entry, TTI)}
    started = time.monotonic()
    for cache, tti in caches.values():
        for key in (*readers, "idle"):
            cache.set(key, "stored", tti=tti)
    last_read = {(name, what): started for name in readers for what in caches}
    while time.monotonic() - started < READING_FOR:
        time.sleep(READ_EVERY)
        for name, read in readers.items():
            for what, (cache, _) in caches.items():
                before = time.monotonic()
                if read(cache) != "stored":
                    if time.monotonic() - last_read[name, what] >= TTI:
                        raise Stall
                    raise AssertionError(
                        f"{name}() of a key read every {READ_EVERY} s lost it after "
                        f"{before - started:.2f} s with a {what} tti of {TTI} s: reads must refresh the tti"
                    )
                last_read[name, what] = before
    for what, (cache, _) in caches.items():
        idle = cache.get("idle")
        assert idle is None, f"an entry idle for {READING_FOR} s outlived its {what} tti of {TTI} s"


@pytest.mark.slow
def test_reads_keep_an_entry_alive_past_its_tti(Moka: Any) -> None:
    """Every read (``get``, a ``get_with`` hit) restarts an entry's time to idle, cache-wide or per
    entry: an entry read more often than its tti never expires, an idle one does.

    Gap found by ``mutant-tti-not-refreshed`` (``get`` did not refresh the last access time, so a
    cache-wide tti behaved like a ttl).
    """
    for _ in range(MAX_STALLS):
        try:
            keep_reading(Moka)
            return
        except Stall:
            continue
    pytest.fail(f"{MAX_STALLS} runs stalled for a whole tti ({TTI} s) between two reads")
