"""Speed: ns/op per operation, every subject measured side by side in alternating rounds.

Timed loops are plain ``for k in keys: f(k)`` over the library's own bound method, GC paused,
calibrated, repeated with the subjects' order alternating; the method is written out in
``docs/performance.md`` (*Method*).  Subjects in another interpreter (moka-py 0.5.0's venv, a
backend forced by ``MOKA_PY_BACKEND``) run in a worker (``python timing.py --worker``) in the same
rounds.  Standard library only (and ``subjects``), so the worker runs in moka-py 0.5.0's venv too.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from subjects import SUBJECTS, VALUE, Adapter, Call, load_adapter

SEED = 20_240_531
BATCH = 100
"""Keys per bulk call (``get_many``, ``set_many``, ``remove_many``)."""


@dataclass(frozen=True)
class SpeedConfig:
    """``target_s`` per loop, ``repeats`` loops per subject, caches of ``n_keys`` at capacity
    ``n_keys``, loops of at most ``max_keys`` calls."""

    target_s: float = 0.1
    repeats: int = 15
    n_keys: int = 10_000
    max_keys: int = 300_000


def int_keys(n: int, salt: int) -> list[int]:
    """``n`` distinct ints that look like ids (48-bit, seeded), not ``range(n)``."""
    rng = random.Random(SEED * 1_000 + salt)
    keys: dict[int, None] = {}
    while len(keys) < n:
        keys[rng.getrandbits(48) | (1 << 47)] = None
    return list(keys)


_KEYS: dict[tuple[str, int, int], list[Any]] = {}


def keyset(name: str, cfg: SpeedConfig) -> list[Any]:
    """Key lists shared by every operation of a process: ``int`` / ``str`` (the stored keys),
    ``int_miss`` / ``str_miss`` (never stored), ``order:NAME`` (``max_keys`` uniform draws of NAME)."""
    ident = (name, cfg.n_keys, cfg.max_keys)
    if ident not in _KEYS:
        if name.startswith("order:"):
            rng = random.Random(SEED * 7 + len(name))
            keys: list[Any] = rng.choices(keyset(name[6:], cfg), k=cfg.max_keys)
        else:
            salt = {"int": 1, "str": 2, "int_miss": 3, "str_miss": 4}[name]
            keys = int_keys(cfg.n_keys, salt)
            if name.startswith("str"):
                keys = [f"user:{k}" for k in keys]
        _KEYS[ident] = keys
    return _KEYS[ident]


_FRESH = itertools.count(1 << 50, 7)
"""Ints never used before in this process (a stride keeps them apart), for keys that must be new."""


def fresh_keys(n: int) -> list[int]:
    """``n`` keys never seen before."""
    return list(itertools.islice(_FRESH, n))


def batches(keys: list[Any]) -> list[list[Any]]:
    """``keys`` in whole batches of :data:`BATCH` (the bulk calls' argument)."""
    return [keys[i : i + BATCH] for i in range(0, len(keys) - BATCH + 1, BATCH)]


def _loop(body: str) -> Callable[[Any, list[Any], Any], int]:
    """A timed loop whose body is ``body`` (``f`` the target, ``k`` the key, ``x`` the argument).
    Generated so that each loop shape is one plain ``for`` with nothing else in it."""
    src = f"def loop(f, keys, x):\n t0 = ns()\n for k in keys:\n  {body}\n return ns() - t0\n"
    scope: dict[str, Any] = {"ns": time.perf_counter_ns}
    exec(src, scope)  # a fixed source, built from the literals below
    return scope["loop"]  # type: ignore[no-any-return]


LOOPS = {
    "call1": _loop("f(k)"),
    "call2": _loop("f(k, x)"),
    "setitem": _loop("f[k] = x"),
    "getitem": _loop("f[k]"),
    "len": _loop("len(f)"),
    "iter": _loop("for _ in f: pass"),
    "empty": _loop("pass"),
}


def timed(call: Call, keys: list[Any]) -> int:
    """One loop over ``keys`` with the GC paused (no collection first: with many live keys it
    would cost tens of ms per loop); elapsed ns."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return LOOPS[call.kind](call.target, keys, call.arg)
    finally:
        if enabled:
            gc.enable()


@dataclass
class Prepared:
    """One subject set up for one operation: the call, its keys, and the per-loop setup."""

    call: Call
    keys: list[Any]
    before: Callable[[int], list[Any]] | None = None
    """Untimed setup before each loop: gets the loop length, returns that loop's keys."""
    fixed_n: bool = False
    """Each loop runs over all of ``keys`` (``remove``); calibration picks ``passes`` instead."""
    keep: list[Any] = field(default_factory=list)
    """What must live as long as the measurement (the cache, the wrapper)."""
    per: int = 1
    """Entries each call handles (bulk calls, iteration): figures are ns per entry."""
    n: int = 0
    passes: int = 1
    adapter: Adapter | None = None

    def dispose(self) -> None:
        """Release the cache or wrapper (some libraries run background work until told to stop)."""
        for obj in self.keep if self.adapter is not None else ():
            self.adapter.dispose(obj)  # type: ignore[union-attr]
        self.keep.clear()

    def calibrate(self, cfg: SpeedConfig) -> None:
        """Pick the loop length (or, for ``fixed_n``, the passes) for samples of about ``target_s``."""
        if self.fixed_n:
            self.n = len(self.keys)
            self.run_once()  # warm up
            ns = self.run_once() * self.n * self.per
            most = max(1, cfg.max_keys // max(self.n, 1))
            self.passes = max(1, min(most, round(cfg.target_s * 1e9 / max(ns, 1.0))))
            return
        probe = min(2_000, cfg.max_keys)
        self.run_once(probe)  # warm up
        ns = self.run_once(probe) * self.per
        self.n = max(probe // 2, min(cfg.max_keys, round(cfg.target_s * 1e9 / max(ns, 1.0))))
        if self.before is None:
            self.n = min(self.n, len(self.keys))  # iteration's key list is short

    def run_once(self, n: int | None = None) -> float:
        """One sample (``passes`` loops): ns per operation (per entry for bulk calls)."""
        n = self.n if n is None else n
        total = calls = 0
        for _ in range(self.passes):
            keys = self.before(n) if self.before is not None else self.keys[:n]
            total += timed(self.call, keys)
            calls += len(keys)
        return total / (calls * self.per)


Builder = Callable[[Adapter, SpeedConfig], "Prepared | None"]


def _identity(x: Any) -> Any:
    return x


def _filled(adapter: Adapter, keys: list[Any], ttl: float | None = None) -> Any | None:
    cache = adapter.new_cache(len(keys), ttl)
    if cache is not None:
        adapter.fill(cache, keys, ttl)
        adapter.settle(cache)
    return cache


def _lookup_op(kind: str, method: str, ttl: float | None = None) -> Builder:
    """``method`` over ``kind`` keys that are (hit) or are not (``_miss``) in a full cache."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset(kind.replace("_miss", ""), cfg), ttl)
        call = None if cache is None else getattr(adapter, method)(cache)
        return None if call is None else Prepared(call, keyset(f"order:{kind}", cfg), keep=[cache])

    return build


def _fresh_op(method: str) -> Builder:
    """set / get_with of keys never seen before, into a full cache: every call inserts and evicts."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        if adapter.family == "none":
            return None  # a dict would only grow: no eviction to measure
        cache = _filled(adapter, keyset("int", cfg))
        call = None if cache is None else getattr(adapter, method)(cache)
        return None if call is None else Prepared(call, [], before=fresh_keys, keep=[cache])

    return build


def _emptying_op(bulk: bool) -> Builder:
    """``remove`` (or ``remove_many`` of 100 keys) of every one of ``n_keys`` stored keys, in
    another order than inserted, refilled (untimed) before each pass: the cache has every other
    operation's size, so the memory footprint is the same as theirs."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        keys = int_keys(cfg.n_keys, 5)
        order: list[Any] = list(keys)
        random.Random(SEED + 5).shuffle(order)
        cache = adapter.new_cache(cfg.n_keys)
        if cache is None:
            return None
        target = adapter.remove_many(cache) if bulk else adapter.remove(cache)
        if target is None:
            return None
        call = target if isinstance(target, Call) else Call("call1", target)
        if bulk:
            order = batches(order)

        def before(_n: int) -> list[Any]:
            adapter.fill(cache, keys)
            adapter.settle(cache)
            return order

        return Prepared(call, order, before, fixed_n=True, keep=[cache], per=BATCH if bulk else 1)

    return build


def _bulk_op(method: str) -> Builder:
    """``get_many`` / ``set_many`` of 100 present keys per call (peers: ``update`` for set_many)."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset("int", cfg))
        target = None if cache is None else getattr(adapter, method)(cache)
        if target is None:
            return None
        args: list[Any] = batches(keyset("order:int", cfg))
        if method == "set_many":
            args = [dict.fromkeys(b, VALUE) for b in args]
        return Prepared(Call("call1", target), args, keep=[cache], per=BATCH)

    return build


def _mapping_op(kind: str) -> Builder:
    """``c[k]`` (hit), ``len(c)`` and iteration (ns per entry) of a full cache."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset("int", cfg))
        if not hasattr(cache, {"getitem": "__getitem__", "len": "__len__", "iter": "__iter__"}[kind]):
            return None
        if kind == "iter":
            return Prepared(Call("iter", cache), [0] * 50, keep=[cache], per=cfg.n_keys)
        if kind == "len":  # O(n) on moka-py (it counts the live entries): short loops
            return Prepared(Call("len", cache), [0] * 200, keep=[cache])
        return Prepared(Call(kind, cache), keyset("order:int", cfg), keep=[cache])

    return build


def _decorated(ttl: float | None) -> Builder:
    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        wrapper = adapter.decorate(_identity, cfg.n_keys, ttl)
        if wrapper is None:
            return None
        for k in keyset("int", cfg):
            wrapper(k)
        adapter.settle(wrapper)
        return Prepared(Call("call1", wrapper), keyset("order:int", cfg), keep=[wrapper])

    return build


OPS: dict[str, tuple[str, Builder]] = {
    "get_hit_int": ("get, hit (int keys)", _lookup_op("int", "get")),
    "get_hit_str": ("get, hit (str keys)", _lookup_op("str", "get")),
    "get_miss_int": ("get, miss (int keys)", _lookup_op("int_miss", "get")),
    "get_miss_str": ("get, miss (str keys)", _lookup_op("str_miss", "get")),
    "set_replace": ("set, replace an existing key", _lookup_op("int", "set")),
    "set_evict": ("set, new key into a full cache", _fresh_op("set")),
    "get_with_hit": ("get_with, hit", _lookup_op("int", "get_with")),
    "get_with_miss": ("get_with, miss into a full cache", _fresh_op("get_with")),
    "remove": ("remove a present key", _emptying_op(bulk=False)),
    "get_hit_ttl": ("get, hit, cache with ttl=60", _lookup_op("int", "get", ttl=60.0)),
    "cached_hit": ("@cached hit, no ttl", _decorated(None)),
    "cached_ttl_hit": ("@cached(ttl=60) hit", _decorated(60.0)),
    "getitem_hit": ("c[k], hit", _mapping_op("getitem")),
    "peek_hit": ("peek(k), hit", _lookup_op("int", "peek")),
    "len": ("len(c), 10,000 entries", _mapping_op("len")),
    "iter": ("iterate the keys (ns per entry)", _mapping_op("iter")),
    "get_many": ("get_many of 100 present keys (ns per key)", _bulk_op("get_many")),
    "set_many": ("set_many / update of 100 present keys (ns per key)", _bulk_op("set_many")),
    "remove_many": ("remove_many of 100 keys (ns per key)", _emptying_op(bulk=True)),
}
"""Every timed operation, in report order: title and builder."""

DECORATOR_OPS = frozenset({"cached_hit", "cached_ttl_hit"})

BASELINES: dict[str, Call] = {
    "empty loop": Call("empty", None),
    "call1: id(k)": Call("call1", id),
    "call2: {}.get(k, x)": Call("call2", {}.get, None),
    "setitem: d[k] = x": Call("setitem", {}, 0),
}
"""Loop overhead, timed like everything else and reported beside it (never subtracted)."""


class LocalExecutor:
    """Runs subjects in this process, and serves a worker's requests: every call is a
    :meth:`command`, so :class:`RemoteExecutor` only has to carry commands over a pipe."""

    name = "local"

    def __init__(self) -> None:
        self.prepared: dict[int, Prepared] = {}

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """Set ``subject_id`` up for ``op`` and calibrate it: ``(status, handle, calls per sample)``,
        status ``ok``, ``absent`` (the library lacks the operation) or ``needs-worker`` (the
        decorator needs ``moka_py`` to select this backend)."""
        status, handle, n = self.command("prepare", subject=subject_id, op=op, cfg=cfg.__dict__)
        return status, handle, n

    def measure(self, handle: int) -> float:
        """One sample: ns/op."""
        return float(self.command("measure", handle=handle))

    def release(self, handle: int) -> None:
        """Drop a prepared subject and its cache."""
        self.command("release", handle=handle)

    def command(self, cmd: str, **args: Any) -> Any:
        """Run one command here: prepare, measure, release, version, hit_ratio or threads."""
        if cmd == "prepare":
            return self._prepare(args["subject"], args["op"], SpeedConfig(**args["cfg"]))
        if cmd == "measure":
            return self.prepared[args["handle"]].run_once()
        if cmd == "release":
            if (prepared := self.prepared.pop(args["handle"], None)) is not None:
                prepared.dispose()
            gc.collect()
            return None
        if cmd == "version":
            return load_adapter(args["subject"]).version()
        if cmd == "hit_ratio":
            import hit_ratio

            return hit_ratio.replay_file(args["subject"], args["trace"], args["capacity"])
        if cmd == "threads":
            import threads

            return threads.throughput(args["subject"], args["threads"], args["duration"])
        raise ValueError(f"unknown command {cmd!r}")

    def _prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        adapter = load_adapter(subject_id)
        prepared = OPS[op][1](adapter, cfg)
        if prepared is None:
            forced = os.environ.get("MOKA_PY_BACKEND") is not None
            needs = op in DECORATOR_OPS and SUBJECTS[subject_id].backend is not None and not forced
            return "needs-worker" if needs else "absent", None, 0
        prepared.adapter = adapter
        prepared.calibrate(cfg)
        handle = max(self.prepared, default=0) + 1
        self.prepared[handle] = prepared
        return "ok", handle, prepared.n * prepared.passes

    def close(self) -> None:
        """Nothing to stop."""


def isolated_env() -> dict[str, str]:
    """This process's environment without what would leak the code under test into another venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MOKA_PY_BACKEND")}


class RemoteExecutor(LocalExecutor):
    """The same commands, answered by a worker process (``python timing.py --worker``), JSON lines."""

    def __init__(self, name: str, python: str, env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        )

    def command(self, cmd: str, **args: Any) -> Any:
        """Send one request, wait for its reply."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} exited (code {self.proc.poll()})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"worker {self.name}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        """Ask the worker to exit and wait for it."""
        stop_worker(self.proc)


Executor = LocalExecutor
"""Where a subject runs: this process, a worker (:class:`RemoteExecutor`) or ``floor.FloorExecutor``."""


def stop_worker(proc: subprocess.Popen[str]) -> None:
    """End a worker that exits when its stdin closes; kill it if it has not within 30 s."""
    if proc.poll() is None:
        assert proc.stdin is not None
        try:
            proc.stdin.close()
            proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


def serve() -> None:
    """Worker loop: one JSON request per stdin line, one JSON reply per stdout line."""
    out, sys.stdout = sys.stdout, sys.stderr  # stray prints from libraries must not corrupt the protocol
    local = LocalExecutor()
    for line in filter(str.strip, sys.stdin):
        request = json.loads(line)
        try:
            reply = {"ok": True, "result": local.command(request.pop("cmd"), **request)}
        except Exception as exc:  # reported to the harness, which marks the subject as failed
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def alternating(items: Sequence[Any], repeat: int) -> list[Any]:
    """Repeat 0: forward; 1: backward; then the same, rotated by one each pair of repeats."""
    if not items:
        return []
    shift = (repeat // 2) % len(items)
    rotated = list(items[shift:]) + list(items[:shift])
    return rotated if repeat % 2 == 0 else rotated[::-1]


def run_speed(
    op: str,
    subjects: Sequence[str],
    executor_for: Callable[[str, str], Executor | None],
    cfg: SpeedConfig,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Prepare every subject for ``op``, then ``cfg.repeats`` alternating rounds.

    ``executor_for(subject, op)`` gives the executor; a ``needs-worker`` status asks again with
    ``op`` prefixed ``worker:``.  Per subject: median, min and max ns/op, samples, calls per sample
    and where it ran (or an ``error``).
    """
    results: dict[str, dict[str, Any]] = {}
    live: list[tuple[str, Executor, int]] = []

    def fail(sid: str, exc: Exception) -> None:
        results[sid] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"    {sid}: {results[sid]['error']}")

    for sid in subjects:
        ex = executor_for(sid, op)
        try:
            status, handle, n = ex.prepare(sid, op, cfg) if ex is not None else ("absent", None, 0)
            if status == "needs-worker" and (ex := executor_for(sid, "worker:" + op)) is not None:
                status, handle, n = ex.prepare(sid, op, cfg)
        except Exception as exc:
            fail(sid, exc)
            continue
        if status == "ok" and handle is not None and ex is not None:
            live.append((sid, ex, handle))
            results[sid] = {"samples": [], "n": n, "where": ex.name}
    for r in range(cfg.repeats):
        for sid, ex, handle in alternating(live, r):
            if "error" not in results[sid]:
                try:
                    results[sid]["samples"].append(ex.measure(handle))
                except Exception as exc:
                    fail(sid, exc)
    for sid, ex, handle in live:
        try:
            ex.release(handle)
        except Exception as exc:
            log(f"    {sid}: release failed: {exc}")
        if samples := results[sid].get("samples"):
            results[sid].update(
                median_ns=statistics.median(samples), min_ns=min(samples), max_ns=max(samples)
            )
    return results


def run_baselines(cfg: SpeedConfig) -> dict[str, float]:
    """Median ns/op of the loop shapes alone (no cache), in this process."""
    keys = keyset("order:int", cfg)[: max(1_000, min(cfg.max_keys, int(cfg.target_s * 1e9 / 20)))]
    return {
        name: statistics.median(timed(call, keys) / len(keys) for _ in range(cfg.repeats))
        for name, call in BASELINES.items()
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        serve()
    else:
        sys.exit("usage: timing.py --worker  (the harness is benches/run.py)")
