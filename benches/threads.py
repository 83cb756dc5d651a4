"""Throughput with 1 and 2 threads sharing one cache, in operations per second.

A cache of 10,000 int keys; each thread walks its own seeded order in chunks of 900 ``get`` (hits)
and 100 ``set``, all threads started together, for ``duration`` seconds.  Only thread-safe sharing
is measured (cachetools behind a ``threading.Lock``, as its documentation asks).  On a GIL build two
threads cannot beat one: the figure shows what a library loses to contention.  Standard library
only, so moka-py 0.5.0's worker can import it.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from subjects import VALUE, load_adapter

CHUNK = 1_000
GETS_PER_CHUNK = 900
N_KEYS = 10_000


def _keys() -> list[int]:
    rng = random.Random(4242)
    return [rng.getrandbits(48) | (1 << 47) for _ in range(N_KEYS)]


def throughput(subject_id: str, threads: int, duration: float) -> dict[str, Any]:
    """Run the workload with ``threads`` threads for ``duration`` seconds; ops/s over all threads."""
    adapter = load_adapter(subject_id)
    cache = adapter.new_cache(N_KEYS)
    ops = adapter.thread_ops(cache) if cache is not None else None
    if cache is None or ops is None:
        raise ValueError(f"{subject_id} offers no thread-safe cache")
    keys = _keys()
    adapter.fill(cache, keys)
    adapter.settle(cache)
    get, set_ = ops
    stop = [False]
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)

    def work(idx: int) -> None:
        rng = random.Random(idx)
        order = rng.choices(keys, k=CHUNK * 20)
        chunks = [
            (order[i : i + GETS_PER_CHUNK], order[i + GETS_PER_CHUNK : i + CHUNK])
            for i in range(0, len(order), CHUNK)
        ]
        done = 0
        barrier.wait()
        while not stop[0]:
            for gets, sets in chunks:
                for k in gets:
                    get(k)
                for k in sets:
                    set_(k, VALUE)
                done += 1
                if stop[0]:
                    break
        counts[idx] = done

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    time.sleep(duration)
    stop[0] = True
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    adapter.dispose(cache)
    return {"ops_per_s": sum(counts) * CHUNK / elapsed, "threads": threads, "seconds": elapsed}
