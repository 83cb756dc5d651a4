"""Speed: ns/op per operation, every subject measured side by side in alternating rounds.

Timed loops are plain ``for k in keys: f(k)`` over the library's own bound method, GC paused,
calibrated, repeated with the subjects' order alternating; the method is written out in
``docs/performance.md`` (*Method*).  Subjects in another interpreter (moka-py 0.5.0's venv, a
backend forced by ``MOKA_PY_BACKEND``) run in a worker (``python timing.py --worker``) in the same
rounds.  Standard library only (and ``subjects``), so the worker runs in moka-py 0.5.0's venv too.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from subjects import SUBJECTS, VALUE, Adapter, Call, identity, load_adapter

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
LOOPS["native"] = lambda f, keys, _: int(f(keys))  # moka alone: one call makes and times a whole loop


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
    """One subject set up for one operation, in this process or a worker: ``loop(n)`` runs one
    timed loop of ``n`` calls and returns (elapsed ns, calls)."""

    loop: Callable[[int], tuple[int, int]]
    limit: int | None = None
    """The most calls one loop can make (a short key list), if any."""
    fixed_n: bool = False
    """Each loop runs over every key (``remove``); calibration picks ``passes`` instead."""
    per: int = 1
    """Entries each call handles (bulk calls, iteration): figures are ns per entry."""
    dispose: Callable[[], object] = lambda: None
    """Release the cache or wrapper (some libraries run background work until told to stop)."""
    n: int = 0
    passes: int = 1

    def calibrate(self, cfg: SpeedConfig) -> None:
        """Pick the loop length (or, for ``fixed_n``, the passes) for samples of about ``target_s``.
        The probe grows until it lasts a tenth of the target, so that one slow housekeeping run in
        a short probe cannot shrink the loop."""
        if self.fixed_n:
            self.run_once()  # warm up
            elapsed, self.n = self.loop(0)
            most = max(1, cfg.max_keys // max(self.n, 1))
            self.passes = max(1, min(most, round(cfg.target_s * 1e9 / max(elapsed, 1))))
            return
        probe = min(2_000, cfg.max_keys)
        self.run_once(probe)  # warm up
        ns = self.run_once(probe) * self.per
        while ns * probe < cfg.target_s * 1e8 and probe < cfg.max_keys:
            probe = min(probe * 4, cfg.max_keys)
            ns = self.run_once(probe) * self.per
        self.n = max(probe // 2, min(cfg.max_keys, round(cfg.target_s * 1e9 / max(ns, 1.0))))
        self.n = min(self.n, self.limit or self.n)

    def run_once(self, n: int | None = None) -> float:
        """One sample (``passes`` loops): ns per operation (per entry for bulk calls)."""
        total, calls = 0.0, 0
        for _ in range(self.passes):
            ns, made = self.loop(self.n if n is None else n)
            total, calls = total + ns, calls + made
        return total / (max(calls, 1) * self.per)


@dataclass(frozen=True)
class Op:
    """One timed operation: its title, the operation the adapter hands out the library's callable
    for (``Adapter.CALLS``; ``cached``: its decorator, filled by calls), the cache's ttl, and each
    loop's keys:
    ``order:KIND`` (uniform draws of the stored keys, or of ``_miss`` keys never stored),
    ``fresh`` (keys never seen before, into a full cache: every call inserts and evicts),
    ``emptying`` (every stored key in another order than inserted, the cache refilled, untimed,
    before each pass: it has every other operation's size), ``/batches`` or ``/dicts`` (100 keys a
    call), ``repeat:N`` (N calls that take no key)."""

    title: str
    method: str
    keys: str = "order:int"
    ttl: float | None = None


def prepare(op: Op, adapter: Adapter, cfg: SpeedConfig) -> Prepared | None:
    """``adapter``'s subject set up for ``op`` in this process, or ``None`` if it lacks it."""
    if op.keys == "fresh" and adapter.family == "none":
        return None  # a dict would only grow: no eviction to measure
    emptying = op.keys.startswith("emptying")
    stored = int_keys(cfg.n_keys, 5) if emptying else keyset("str" if "str" in op.keys else "int", cfg)
    if op.method == "cached":
        cache = adapter.decorate(identity, cfg.n_keys, op.ttl)
        call = None if cache is None else Call("call1", cache)
    else:
        cache = adapter.new_cache(cfg.n_keys, op.ttl)
        call = adapter.call(cache, op.method)
    if call is None:
        return None

    def refill() -> None:
        if op.method == "cached":
            for k in stored:
                cache(k)  # type: ignore[misc]
        else:
            adapter.fill(cache, stored, op.ttl)
        adapter.settle(cache)

    refill()
    keys: list[Any] = [0] * int(op.keys[7:]) if op.keys.startswith("repeat:") else []
    if emptying:
        keys = list(stored)
        random.Random(SEED + 5).shuffle(keys)
    elif op.keys.startswith("order:"):
        keys = keyset(op.keys.split("/")[0], cfg)
    if "/" in op.keys:
        keys = batches(keys)
        keys = [dict.fromkeys(b, VALUE) for b in keys] if op.keys.endswith("/dicts") else keys
    per = BATCH if "/" in op.keys else cfg.n_keys if op.method == "iter" else 1

    def loop(n: int) -> tuple[int, int]:
        if op.keys == "fresh":
            todo = fresh_keys(n)
        elif emptying:
            refill()
            todo = keys
        else:
            todo = keys[:n]
        return timed(call, todo), len(todo)

    limit = None if op.keys == "fresh" or emptying else len(keys)
    return Prepared(loop, limit, emptying, per, lambda: adapter.dispose(cache))


OPS: dict[str, Op] = {
    "get_hit_int": Op("get, hit (int keys)", "get"),
    "get_hit_str": Op("get, hit (str keys)", "get", "order:str"),
    "get_miss_int": Op("get, miss (int keys)", "get", "order:int_miss"),
    "get_miss_str": Op("get, miss (str keys)", "get", "order:str_miss"),
    "set_replace": Op("set, replace an existing key", "set"),
    "set_evict": Op("set, new key into a full cache", "set", "fresh"),
    "get_with_hit": Op("get_with, hit", "get_with"),
    "get_with_miss": Op("get_with, miss into a full cache", "get_with", "fresh"),
    "remove": Op("remove a present key", "remove", "emptying"),
    "get_hit_ttl": Op("get, hit, cache with ttl=60", "get", ttl=60.0),
    "cached_hit": Op("@cached hit, no ttl", "cached"),
    "cached_ttl_hit": Op("@cached(ttl=60) hit", "cached", ttl=60.0),
    "getitem_hit": Op("c[k], hit", "getitem"),
    "peek_hit": Op("peek(k), hit", "peek"),
    "len": Op("len(c), 10,000 entries", "len", "repeat:200"),  # O(n) on moka-py: short loops
    "iter": Op("iterate the keys (ns per entry)", "iter", "repeat:50"),
    "get_many": Op("get_many of 100 present keys (ns per key)", "get_many", "order:int/batches"),
    "set_many": Op("set_many / update of 100 present keys (ns per key)", "set_many", "order:int/dicts"),
    "remove_many": Op("remove_many of 100 keys (ns per key)", "remove_many", "emptying/batches"),
}
"""Every timed operation, in report order."""

BASELINES: dict[str, Call] = {
    "empty loop": Call("empty", None),
    "call1: id(k)": Call("call1", id),
    "call2: {}.get(k, x)": Call("call2", {}.get, None),
    "setitem: d[k] = x": Call("setitem", {}, 0),
}
"""Loop overhead, timed like everything else and reported beside it (never subtracted)."""


STANDALONE = {
    "hit_ratio": ("hit_ratio", "replay_file"),
    "memory": ("memory", "measure_here"),
    "threads": ("threads", "throughput"),
}
"""Commands that call a measurement's module, with the command's arguments as keywords."""


class LocalExecutor:
    """Runs subjects in this process, and serves a worker's requests: every call is a
    :meth:`command`, so :class:`RemoteExecutor` only has to carry commands over a pipe."""

    name = "local"
    max_keys: int | None = None
    """The longest loop this executor's subjects may run, where not ``cfg.max_keys``."""

    def __init__(self) -> None:
        self.prepared: dict[int, Prepared] = {}

    def build(self, subject_id: str, op: str, cfg: SpeedConfig) -> Prepared | None:
        """``subject_id`` set up for ``op`` (``None``: it lacks the operation)."""
        return prepare(OPS[op], load_adapter(subject_id), cfg)

    def command(self, cmd: str, **args: Any) -> Any:
        """Run one command here: ``prepare`` (replies ``[status, handle, calls per sample]``,
        status ``ok``, ``absent`` or ``needs-worker``: the decorator needs ``moka_py`` to select
        this backend), ``measure`` (one sample, ns/op), ``release``, ``version``, ``hit_ratio``,
        ``memory`` or ``threads``."""
        if cmd == "prepare":
            sid, op, cfg = args["subject"], args["op"], SpeedConfig(**args["cfg"])
            cfg = replace(cfg, max_keys=self.max_keys or cfg.max_keys)
            if (prepared := self.build(sid, op, cfg)) is None:
                backend = SUBJECTS[sid].backend if sid in SUBJECTS else None
                forced = os.environ.get("MOKA_PY_BACKEND") is not None
                needs = op.startswith("cached") and backend is not None and not forced
                return ["needs-worker" if needs else "absent", None, 0]
            prepared.calibrate(cfg)
            handle = max(self.prepared, default=0) + 1
            self.prepared[handle] = prepared
            return ["ok", handle, prepared.n * prepared.passes]
        if cmd == "measure":
            return self.prepared[args["handle"]].run_once()
        if cmd == "release":
            if (prepared := self.prepared.pop(args["handle"], None)) is not None:
                prepared.dispose()
            gc.collect()
            return None
        if cmd == "version":
            return load_adapter(args["subject"]).version()
        if cmd in STANDALONE:  # hit_ratio.replay_file(subject_id, path, capacity), ...
            module, function = STANDALONE[cmd]
            return getattr(importlib.import_module(module), function)(**args)
        raise ValueError(f"unknown command {cmd!r}")

    def close(self) -> None:
        """Nothing to stop."""


def isolated_env() -> dict[str, str]:
    """This process's environment without what would leak the code under test into another venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "MOKA_PY_BACKEND")}


class RemoteExecutor(LocalExecutor):
    """The same commands, answered by a worker process (``python timing.py --worker``), JSON lines;
    what it writes to stderr goes to a file, whose last line explains an exit."""

    def __init__(self, name: str, python: str, env: dict[str, str]) -> None:
        self.name = name
        self.stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by close()
        argv, pipe = [python, os.path.abspath(__file__), "--worker"], subprocess.PIPE
        env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=self.stderr, text=True, env=env)

    def command(self, cmd: str, **args: Any) -> Any:
        """Send one request, wait for its reply."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = ""
        if not line:
            code = self.proc.wait()
            self.stderr.seek(0)
            last = (self.stderr.read().strip().splitlines() or ["?"])[-1]
            raise RuntimeError(f"worker {self.name} exited (code {code}): {last}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"worker {self.name}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        """Ask the worker to exit (it does when its stdin closes); kill it if it has not within 30 s."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


Executor = LocalExecutor
"""Where a subject runs: this process, a worker (:class:`RemoteExecutor`) or ``floor.MokaAloneExecutor``."""


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


Sample = Callable[[str, Any], None]


def rounds(live: Sequence[tuple[str, Any]], repeats: int, sample: Sample) -> dict[str, str]:
    """``repeats`` rounds of ``sample(subject, x)`` over ``live``: forward, backward, then the same
    rotated by one each pair of rounds.  A subject whose sample raises sits out the rounds after;
    returns the errors, by subject."""
    errors: dict[str, str] = {}
    for r in range(repeats):
        shift = (r // 2) % max(len(live), 1)
        rotated = [*live[shift:], *live[:shift]]
        for sid, x in rotated if r % 2 == 0 else rotated[::-1]:
            if sid not in errors:
                try:
                    sample(sid, x)
                except Exception as exc:  # reported with the subject's figures
                    errors[sid] = f"{type(exc).__name__}: {exc}"
    return errors


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
    live: list[tuple[str, tuple[Executor, int]]] = []

    def fail(sid: str, error: str) -> None:
        results[sid] = {"error": error}
        log(f"    {sid}: {error}")

    for sid in subjects:
        ex, request = executor_for(sid, op), {"subject": sid, "op": op, "cfg": cfg.__dict__}
        try:
            status, handle, n = ("absent", None, 0) if ex is None else ex.command("prepare", **request)
            if status == "needs-worker" and (ex := executor_for(sid, "worker:" + op)) is not None:
                status, handle, n = ex.command("prepare", **request)
        except Exception as exc:
            fail(sid, f"{type(exc).__name__}: {exc}")
            continue
        if status == "ok" and handle is not None and ex is not None:
            live.append((sid, (ex, handle)))
            results[sid] = {"samples": [], "n": n, "where": ex.name}

    def measure(sid: str, at: tuple[Executor, int]) -> None:
        results[sid]["samples"].append(float(at[0].command("measure", handle=at[1])))

    for sid, error in rounds(live, cfg.repeats, measure).items():
        fail(sid, error)
    for sid, (ex, handle) in live:
        try:
            ex.command("release", handle=handle)
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
