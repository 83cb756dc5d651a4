"""``python -m moka_py`` against the backend actually selected in this environment."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import moka_py

OPERATIONS = ["get hit", "get miss", "set (replace)", "get_with hit", "@cached hit"]
BASELINES = ["dict.get hit", "lru_cache hit"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moka_py", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_main_exits_zero_and_names_the_backend() -> None:
    info = moka_py.backend()
    result = _run()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"selected backend: {info.name} {info.version} (module {info.module.__name__}, " in out
    assert f"priority {info.priority}, exact={info.exact})" in out
    assert "self-check: OK" in out
    # The README's method, said so; every operation and both baselines with a figure.
    method = r"median of \d+ alternating loops, loop overhead included \(the empty loop: \d+ ns\)"
    assert re.search(method, out)
    for operation in OPERATIONS + BASELINES:
        assert re.search(rf"^  {re.escape(operation)} +\d+$", out, re.MULTILINE), operation


def test_main_json() -> None:
    result = _run("--json", "--no-bench")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    info = moka_py.backend()
    assert report["ok"] is True
    assert report["moka_py"] == moka_py.VERSION
    assert report["backend"] == {
        "name": info.name,
        "version": info.version,
        "module": info.module.__name__,
        "priority": info.priority,
        "exact": info.exact,
    }
    assert set(report["self_check"].values()) == {"ok"}
    assert [b["name"] for b in report["available_backends"]] == [b.name for b in moka_py.available_backends()]
    assert report["benchmark"] is None


def test_benchmark_in_process() -> None:
    from moka_py.__main__ import benchmark

    timing = benchmark()
    assert list(timing.operations) == OPERATIONS
    assert list(timing.baselines) == BASELINES
    figures = [*timing.operations.values(), *timing.baselines.values(), timing.empty_loop]
    assert all(ns > 0 for ns in figures), timing


def test_help_is_plain_text() -> None:
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("usage: python -m moka_py ")
    assert "dict.get" in out and "functools.lru_cache" in out and "loop's own cost included" in out
    # no reST markup: inline literals, roles, directives, literal-block markers
    for markup in ("``", ":func:", ":class:", ":meth:", ".. ", "::"):
        assert markup not in out, markup


def test_self_check_in_process() -> None:
    from moka_py.__main__ import self_check

    assert [error for _, error in self_check() if error is not None] == []
