"""Speed measurement: per-operation ns/op, with every subject measured side by side.

How one number is made
----------------------
* Keys are built before anything is timed, from fixed seeds, so every subject (in
  this process or in a worker process) sees the same key objects in the same order.
* A timed loop is a plain ``for k in keys: f(k)`` (or ``f(k, x)``, or ``c[k] = x``)
  around ``time.perf_counter_ns()``, where ``f`` is the library's own bound method.
  The garbage collector is paused inside the loop (as :mod:`timeit` does) and a
  collection runs before it.  The loop's own cost is **not** subtracted; the
  ``baseline`` operation reports it (empty loop, a builtin call) so it can be read
  next to the results.
* The number of keys per loop is calibrated per subject so that one loop takes
  about ``target_s`` (``remove``, whose loop empties the cache, sums as many loops
  of ``n_keys`` calls, each after an untimed refill); each subject is then measured
  ``repeats`` times and the **median** ns/op is reported, with every sample kept in
  the JSON.
* Between repeats the order of the subjects alternates (forward, then backward,
  rotated), so a slow phase of the machine hits every subject alike.  Subjects that
  live in another interpreter (moka-py 0.5.0 in its own venv, a backend forced by
  ``MOKA_PY_BACKEND``) are driven through a worker process that runs this same
  module, one repeat at a time, interleaved with the others.

This module imports only the standard library (and ``subjects``, which does too),
so ``python timing.py --worker`` runs in the moka-py 0.5.0 virtual environment.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from subjects import SUBJECTS, VALUE, Adapter, Call, load_adapter

__all__ = [
    "OPS",
    "Executor",
    "LocalExecutor",
    "OpDef",
    "Prepared",
    "RemoteExecutor",
    "isolated_env",
    "stop_worker",
    "SpeedConfig",
    "prepare",
    "run_speed",
]

SEED = 20_240_531


@dataclass(frozen=True)
class SpeedConfig:
    """How long and how often to time: ``target_s`` per loop, ``repeats`` loops per subject."""

    target_s: float = 0.1
    repeats: int = 15
    n_keys: int = 10_000
    """Entries in the cache of every operation (its capacity is the same); ``remove`` removes them all."""
    max_keys: int = 300_000
    """Longest loop (keys per timed loop); the calibrated length is clamped to it."""


# ------------------------------------------------------------------------------------------- keys


def int_keys(n: int, salt: int) -> list[int]:
    """``n`` distinct ints that look like ids (48-bit, seeded), not ``range(n)``."""
    rng = random.Random(SEED * 1_000 + salt)
    seen: set[int] = set()
    out: list[int] = []
    while len(out) < n:
        k = rng.getrandbits(48) | (1 << 47)
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


def str_keys(n: int, salt: int) -> list[str]:
    """``n`` distinct str keys such as ``"user:123456789012"``."""
    return [f"user:{k}" for k in int_keys(n, salt)]


def access_order(universe: Sequence[Hashable], length: int, salt: int) -> list[Hashable]:
    """A seeded uniform sequence over ``universe`` (each key object is shared, not copied)."""
    rng = random.Random(SEED * 7 + salt)
    return rng.choices(list(universe), k=length)


_KEYS: dict[tuple[str, int, int], list[Any]] = {}


def keyset(name: str, cfg: SpeedConfig) -> list[Any]:
    """Key lists shared by every operation in a process, built once per size.

    ``int`` / ``str``: the ``cfg.n_keys`` keys stored in the cache; ``int_miss`` / ``str_miss``: as many
    keys that are never stored; ``order:NAME``: ``cfg.max_keys`` uniform draws from list ``NAME``.
    """
    ident = (name, cfg.n_keys, cfg.max_keys)
    keys = _KEYS.get(ident)
    if keys is None:
        if name == "int":
            keys = int_keys(cfg.n_keys, 1)
        elif name == "str":
            keys = str_keys(cfg.n_keys, 2)
        elif name == "int_miss":
            keys = int_keys(cfg.n_keys, 3)
        elif name == "str_miss":
            keys = str_keys(cfg.n_keys, 4)
        elif name.startswith("order:"):
            keys = access_order(keyset(name[6:], cfg), cfg.max_keys, len(name))
        else:
            raise KeyError(name)
        _KEYS[ident] = keys
    return keys


class FreshInts:
    """Ints never used before in this process, for operations that must always insert a new key."""

    def __init__(self) -> None:
        self.next = 1 << 50

    def take(self, n: int) -> list[int]:
        """``n`` new keys (a stride keeps them from being consecutive)."""
        start = self.next
        self.next += n * 7
        return list(range(start, self.next, 7))


_FRESH = FreshInts()


# ------------------------------------------------------------------------------------------- loops


def _loop_call1(f: Callable[[Any], Any], keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for k in keys:
        f(k)
    return time.perf_counter_ns() - t0


def _loop_call2(f: Callable[[Any, Any], Any], keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for k in keys:
        f(k, arg)
    return time.perf_counter_ns() - t0


def _loop_setitem(c: Any, keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for k in keys:
        c[k] = arg
    return time.perf_counter_ns() - t0


def _loop_getitem(c: Any, keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for k in keys:
        c[k]
    return time.perf_counter_ns() - t0


def _loop_len(c: Any, keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for _k in keys:
        len(c)
    return time.perf_counter_ns() - t0


def _loop_iter(c: Any, keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for _k in keys:
        for _ in c:
            pass
    return time.perf_counter_ns() - t0


def _loop_empty(f: Any, keys: list[Any], arg: Any) -> int:
    t0 = time.perf_counter_ns()
    for _k in keys:
        pass
    return time.perf_counter_ns() - t0


LOOPS: dict[str, Callable[[Any, list[Any], Any], int]] = {
    "call1": _loop_call1,
    "call2": _loop_call2,
    "setitem": _loop_setitem,
    "getitem": _loop_getitem,
    "len": _loop_len,
    "iter": _loop_iter,
    "empty": _loop_empty,
}


def timed(call: Call, keys: list[Any]) -> int:
    """Run one loop over ``keys`` with the GC paused; return elapsed ns.

    No ``gc.collect()`` first: with hundreds of thousands of live keys a full collection costs
    tens of ms per loop, and with the collector paused nothing can trigger inside the loop anyway.
    """
    loop = LOOPS[call.kind]
    enabled = gc.isenabled()
    gc.disable()
    try:
        return loop(call.target, keys, call.arg)
    finally:
        if enabled:
            gc.enable()


# -------------------------------------------------------------------------------------- operations


@dataclass
class Prepared:
    """One subject set up for one operation: state, the call, and the per-repeat setup."""

    call: Call
    keys: list[Any]
    before: Callable[[int], list[Any]] | None = None
    """Untimed setup before each loop; gets the loop length, returns the keys for that loop."""
    n: int = 0
    fixed_n: bool = False
    """The loop runs over all of ``keys`` (``remove``: every stored key); instead of the loop length,
    calibration picks how many such loops (``passes``, each after its own ``before``) one sample sums."""
    passes: int = 1
    keep: list[Any] = field(default_factory=list)
    """Objects that must live as long as the measurement (the cache, the wrapper)."""
    adapter: Adapter | None = None
    """Set by :func:`prepare`; :meth:`dispose` hands it the kept objects."""
    per: int = 1
    """Entries each call handles (bulk calls, iteration): figures are ns per entry."""

    def dispose(self) -> None:
        """Release the cache or wrapper (some libraries run background work until told to stop)."""
        if self.adapter is not None:
            for obj in self.keep:
                self.adapter.dispose(obj)
        self.keep.clear()

    def calibrate(self, cfg: SpeedConfig) -> None:
        """Pick the loop length so one sample takes about ``cfg.target_s`` (at least 1,000 keys).

        A ``fixed_n`` operation keeps its length and gets enough passes instead, at most as many as
        add up to ``cfg.max_keys`` calls.
        """
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
        """One sample: a timed loop (``passes`` of them for ``fixed_n``); returns ns per operation."""
        n = self.n if n is None else n
        total = calls = 0
        for _ in range(self.passes):
            keys = self.before(n) if self.before is not None else self.keys[:n]
            total += timed(self.call, keys)
            calls += len(keys)
        return total / (calls * self.per)


@dataclass(frozen=True)
class OpDef:
    """An operation: title for reports, and how to prepare one subject for it."""

    name: str
    title: str
    build: Callable[[Adapter, SpeedConfig], Prepared | None]


def _identity(x: Any) -> Any:
    return x


def _filled(adapter: Adapter, keys: list[Any], ttl: float | None = None) -> Any | None:
    cache = adapter.new_cache(len(keys), ttl)
    if cache is None:
        return None
    adapter.fill(cache, keys, ttl)
    adapter.settle(cache)
    return cache


Builder = Callable[[Adapter, SpeedConfig], "Prepared | None"]


def _lookup_op(kind: str, method: str, ttl: float | None = None) -> Builder:
    """get/set/get_with over ``kind`` keys that are (hit) or are not (miss) in a full cache."""
    stored = kind.replace("_miss", "")

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset(stored, cfg), ttl)
        if cache is None:
            return None
        call = getattr(adapter, method)(cache)
        if call is None:
            return None
        return Prepared(call, keyset(f"order:{kind}", cfg), keep=[cache])

    return build


def _fresh_op(method: str) -> Builder:
    """set / get_with of keys never seen before, into a full cache: every call inserts and evicts."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        if adapter.family == "none":
            return None  # a dict would only grow: no eviction to measure
        cache = _filled(adapter, keyset("int", cfg))
        if cache is None:
            return None
        call = getattr(adapter, method)(cache)
        if call is None:
            return None
        return Prepared(call, [], before=_FRESH.take, keep=[cache])

    return build


def _remove(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
    """Remove every one of ``n_keys`` stored keys, refilled (untimed) before each pass.

    The cache has the size of every other operation's, so ``remove`` and ``get`` hit see the same
    memory footprint (on a five times larger cache the pure backend's get hit alone costs about
    twice as much).
    """
    n = cfg.n_keys
    keys = int_keys(n, 5)
    order = list(keys)
    random.Random(SEED + 5).shuffle(order)  # remove in another order than inserted
    cache = adapter.new_cache(n)
    if cache is None or adapter.remove(cache) is None:
        return None
    call = adapter.remove(cache)
    assert call is not None

    def before(_n: int) -> list[Any]:
        adapter.fill(cache, keys)
        adapter.settle(cache)
        return order

    return Prepared(call, order, before=before, fixed_n=True, keep=[cache])


BATCH = 100
"""Keys per bulk call (``get_many``, ``set_many``, ``remove_many``)."""


def _batches(keys: list[Any], pairs: bool = False) -> list[Any]:
    chunks = [keys[i : i + BATCH] for i in range(0, len(keys) - BATCH + 1, BATCH)]
    return [dict.fromkeys(c, VALUE) for c in chunks] if pairs else chunks


def _bulk_op(method: str) -> Builder:
    """``get_many`` / ``set_many`` of 100 present keys per call (peers: ``update`` for set_many)."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset("int", cfg))
        target = getattr(adapter, method)(cache) if cache is not None else None
        if target is None:
            return None
        batches = _batches(keyset("order:int", cfg), pairs=method == "set_many")
        return Prepared(Call("call1", target), batches, keep=[cache], per=BATCH)

    return build


def _remove_many(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
    """``remove_many`` of every stored key, 100 per call, refilled (untimed) before each pass."""
    keys = int_keys(cfg.n_keys, 5)
    cache = adapter.new_cache(cfg.n_keys)
    target = adapter.remove_many(cache) if cache is not None else None
    if target is None:
        return None
    batches = _batches(keys)

    def before(_n: int) -> list[Any]:
        adapter.fill(cache, keys)
        adapter.settle(cache)
        return batches

    return Prepared(Call("call1", target), batches, before=before, fixed_n=True, keep=[cache], per=BATCH)


def _mapping_op(kind: str) -> Builder:
    """``c[k]`` (hit), ``len(c)`` and iteration (ns per entry) on a full cache of ``n_keys``."""

    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        cache = _filled(adapter, keyset("int", cfg))
        if cache is None or not adapter.mapping(cache, kind):
            return None
        if kind == "iter":
            return Prepared(Call("iter", cache), [0] * 50, keep=[cache], per=cfg.n_keys)
        return Prepared(Call(kind, cache), keyset("order:int", cfg), keep=[cache])

    return build


def _decorated(ttl: float | None) -> Builder:
    def build(adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
        wrapper = adapter.decorate(_identity, cfg.n_keys, ttl)
        if wrapper is None:
            return None
        for k in keyset("int", cfg):
            wrapper(k)
        adapter.settle_decorated(wrapper)
        return Prepared(Call("call1", wrapper), keyset("order:int", cfg), keep=[wrapper])

    return build


OPS: dict[str, OpDef] = {
    op.name: op
    for op in [
        OpDef("get_hit_int", "get, hit (int keys)", _lookup_op("int", "get")),
        OpDef("get_hit_str", "get, hit (str keys)", _lookup_op("str", "get")),
        OpDef("get_miss_int", "get, miss (int keys)", _lookup_op("int_miss", "get")),
        OpDef("get_miss_str", "get, miss (str keys)", _lookup_op("str_miss", "get")),
        OpDef("set_replace", "set, replace an existing key", _lookup_op("int", "set")),
        OpDef("set_evict", "set, new key into a full cache", _fresh_op("set")),
        OpDef("get_with_hit", "get_with, hit", _lookup_op("int", "get_with")),
        OpDef("get_with_miss", "get_with, miss into a full cache", _fresh_op("get_with")),
        OpDef("remove", "remove a present key", _remove),
        OpDef("get_hit_ttl", "get, hit, cache with ttl=60", _lookup_op("int", "get", ttl=60.0)),
        OpDef("cached_hit", "@cached hit, no ttl", _decorated(None)),
        OpDef("cached_ttl_hit", "@cached(ttl=60) hit", _decorated(60.0)),
        OpDef("getitem_hit", "c[k], hit", _mapping_op("getitem")),
        OpDef("peek_hit", "peek(k), hit", _lookup_op("int", "peek")),
        OpDef("len", "len(c), 10,000 entries", _mapping_op("len")),
        OpDef("iter", "iterate the keys (ns per entry)", _mapping_op("iter")),
        OpDef("get_many", "get_many of 100 present keys (ns per key)", _bulk_op("get_many")),
        OpDef("set_many", "set_many / update of 100 present keys (ns per key)", _bulk_op("set_many")),
        OpDef("remove_many", "remove_many of 100 keys (ns per key)", _remove_many),
    ]
}
"""Every timed operation, in report order.  Each cache holds ``n_keys`` entries at capacity ``n_keys``."""

DECORATOR_OPS = frozenset({"cached_hit", "cached_ttl_hit"})

BASELINES: dict[str, Call] = {
    "empty loop": Call("empty", None),
    "call1: id(k)": Call("call1", id),
    "call2: {}.get(k, x)": Call("call2", {}.get, None),
    "setitem: d[k] = x": Call("setitem", {}, 0),
}
"""Loop overhead, timed like everything else and reported beside it (never subtracted)."""


def prepare(subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, Prepared | None]:
    """Set up ``subject_id`` for ``op`` in this process.

    Returns ``("ok", prepared)``, ``("absent", None)`` when the library lacks the operation, or
    ``("needs-worker", None)`` when the decorator needs ``moka_py`` to select this backend.
    """
    adapter = load_adapter(subject_id)
    prepared = OPS[op].build(adapter, cfg)
    if prepared is None:
        spec = SUBJECTS[subject_id]
        if op in DECORATOR_OPS and spec.backend is not None and os.environ.get("MOKA_PY_BACKEND") is None:
            return "needs-worker", None
        return "absent", None
    prepared.adapter = adapter
    prepared.calibrate(cfg)
    return "ok", prepared


# ---------------------------------------------------------------------------------------- executors


class Executor:
    """Where a subject runs.  ``prepare`` returns a status and a handle; ``measure`` runs one loop."""

    name = "?"

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """``(status, handle, calls per sample)``."""
        raise NotImplementedError

    def measure(self, handle: int) -> float:
        """One timed loop of a prepared subject: ns/op."""
        raise NotImplementedError

    def release(self, handle: int) -> None:
        """Drop a prepared subject (and its cache)."""
        raise NotImplementedError

    def command(self, cmd: str, **args: Any) -> Any:
        """Run a named command (hit ratio, threads, version) where the subject lives."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the executor (workers exit)."""


class LocalExecutor(Executor):
    """Runs subjects in this process (also what a worker uses to serve its requests)."""

    name = "local"

    def __init__(self) -> None:
        self.prepared: dict[int, Prepared] = {}
        self.counter = 0

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """Prepare in this process."""
        status, prepared = prepare(subject_id, op, cfg)
        if prepared is None:
            return status, None, 0
        self.counter += 1
        self.prepared[self.counter] = prepared
        return status, self.counter, prepared.n * prepared.passes

    def measure(self, handle: int) -> float:
        """One loop."""
        return self.prepared[handle].run_once()

    def release(self, handle: int) -> None:
        """Forget the prepared state."""
        prepared = self.prepared.pop(handle, None)
        if prepared is not None:
            prepared.dispose()
        gc.collect()

    def command(self, cmd: str, **args: Any) -> Any:
        """Dispatch to the module that implements ``cmd``."""
        if cmd == "version":
            return load_adapter(args["subject"]).version()
        if cmd == "baseline":
            call = BASELINES[args["name"]]
            keys = keyset("order:int", SpeedConfig(**args["cfg"]))[: args["n"]]
            return timed(call, keys) / len(keys)
        if cmd == "hit_ratio":
            import hit_ratio

            return hit_ratio.replay_file(args["subject"], args["trace"], args["capacity"])
        if cmd == "threads":
            import threads

            return threads.throughput(args["subject"], args["threads"], args["duration"])
        raise ValueError(f"unknown command {cmd!r}")


def isolated_env() -> dict[str, str]:
    """This process's environment without what would leak the code under test into another venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MOKA_PY_BACKEND")}


class RemoteExecutor(Executor):
    """A worker process (``python timing.py --worker``) in another interpreter or environment."""

    def __init__(
        self, name: str, python: str, env: dict[str, str] | None = None, isolated: bool = False
    ) -> None:
        self.name = name
        full_env = isolated_env() if isolated else dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=full_env,
        )

    def _ask(self, request: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} exited (code {self.proc.poll()})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"worker {self.name}: {reply['error']}")
        return reply["result"]

    def prepare(self, subject_id: str, op: str, cfg: SpeedConfig) -> tuple[str, int | None, int]:
        """Prepare in the worker."""
        status, handle, n = self._ask(
            {"cmd": "prepare", "subject": subject_id, "op": op, "cfg": cfg.__dict__}
        )
        return status, handle, n

    def measure(self, handle: int) -> float:
        """One loop in the worker."""
        return float(self._ask({"cmd": "measure", "handle": handle}))

    def release(self, handle: int) -> None:
        """Release in the worker."""
        self._ask({"cmd": "release", "handle": handle})

    def command(self, cmd: str, **args: Any) -> Any:
        """Any other command, run in the worker."""
        return self._ask({"cmd": cmd, **args})

    def close(self) -> None:
        """Ask the worker to exit and wait for it."""
        stop_worker(self.proc)


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
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the protocol
    local = LocalExecutor()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            cmd = request.pop("cmd")
            if cmd == "prepare":
                result: Any = local.prepare(request["subject"], request["op"], SpeedConfig(**request["cfg"]))
            elif cmd == "measure":
                result = local.measure(request["handle"])
            elif cmd == "release":
                local.release(request["handle"])
                result = None
            else:
                result = local.command(cmd, **request)
            reply = {"ok": True, "result": result}
        except Exception as exc:  # reported to the harness, which marks the subject as failed
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ------------------------------------------------------------------------------------- orchestration


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
    """Measure ``op`` for every subject: prepare all, then ``cfg.repeats`` alternating rounds.

    ``executor_for(subject, op)`` gives the executor to use; a local ``"needs-worker"`` status asks
    it again with ``op`` prefixed by ``"worker:"``.  Returns per subject: median ns/op, samples,
    calls per sample and where it ran (or an ``error``).
    """
    results: dict[str, dict[str, Any]] = {}
    live: list[tuple[str, Executor, int]] = []
    for sid in subjects:
        ex = executor_for(sid, op)
        if ex is None:
            continue
        try:
            status, handle, n = ex.prepare(sid, op, cfg)
            if status == "needs-worker":
                ex = executor_for(sid, "worker:" + op)
                if ex is None:
                    continue
                status, handle, n = ex.prepare(sid, op, cfg)
        except Exception as exc:
            results[sid] = {"error": f"{type(exc).__name__}: {exc}"}
            log(f"    {sid}: {results[sid]['error']}")
            continue
        if status != "ok" or handle is None:
            continue
        live.append((sid, ex, handle))
        results[sid] = {"samples": [], "n": n, "where": ex.name}
    for r in range(cfg.repeats):
        for sid, ex, handle in alternating(live, r):
            if "error" in results[sid]:
                continue
            try:
                results[sid]["samples"].append(ex.measure(handle))
            except Exception as exc:
                results[sid] = {"error": f"{type(exc).__name__}: {exc}"}
                log(f"    {sid}: {results[sid]['error']}")
    for sid, ex, handle in live:
        try:
            ex.release(handle)
        except Exception as exc:
            log(f"    {sid}: release failed: {exc}")
        res = results[sid]
        if res.get("samples"):
            res["median_ns"] = statistics.median(res["samples"])
            res["min_ns"] = min(res["samples"])
            res["max_ns"] = max(res["samples"])
    return results


def run_baselines(cfg: SpeedConfig) -> dict[str, float]:
    """Median ns/op of the loop shapes alone (no cache), measured in this process."""
    n = max(1_000, min(cfg.max_keys, int(cfg.target_s * 1e9 / 20)))
    local = LocalExecutor()
    return {
        name: statistics.median(
            local.command("baseline", name=name, n=n, cfg=cfg.__dict__) for _ in range(cfg.repeats)
        )
        for name in BASELINES
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        serve()
    else:
        sys.exit("usage: timing.py --worker  (the harness is benches/run.py)")
