"""No stale read after an acknowledged write, across processes (the guarantee of issue 26)."""

from __future__ import annotations

import multiprocessing
import time

import fleet
import pytest
from redis_server import RedisServer

WRITES = 20_000
READERS = 3


def test_no_reader_process_returns_a_version_older_than_the_acknowledged_one(
    fresh: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = multiprocessing.get_context("spawn")
    acked = ctx.RawArray("q", fleet.KEYS)
    done = ctx.RawValue("b", 0)
    ready = ctx.Value("i", 0)
    out = ctx.Queue()
    fresh.client().mset({fleet.key(i): 0 for i in range(fleet.KEYS)})
    readers = [
        ctx.Process(target=fleet.reader, args=(fresh.port, n, acked, ready, done, out))
        for n in range(READERS)
    ]
    for p in readers:
        p.start()
    # The writes start once every reader has filled its cache.
    deadline = time.monotonic() + 120
    while ready.value < READERS:
        assert time.monotonic() < deadline and all(p.exitcode is None for p in readers), (
            "readers did not start"
        )
        time.sleep(0.05)
    writer = ctx.Process(target=fleet.writer, args=(fresh.port, WRITES, acked, done))
    writer.start()
    writer.join(timeout=300)
    done.value = 1
    results = [out.get(timeout=60) for _ in readers]
    for p in readers:
        p.join(timeout=30)
    assert writer.exitcode == 0 and all(p.exitcode == 0 for p in readers)
    reads = sum(r for r, _, _ in results)
    stale = sum(s for _, s, _ in results)
    hits = sum(h for _, _, h in results)
    with capsys.disabled():
        print(
            f"\nfleet: {WRITES} writes, {READERS} readers, {reads} reads ({hits} hits), {stale} stale reads"
        )
    assert max(acked) > 0 and len(set(acked)) > 1
    assert hits > 0
    assert stale == 0
