"""``python -m moka_py`` against the backend actually selected in this environment."""

from __future__ import annotations

import json
import subprocess
import sys

import moka_py


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
    for operation in ("get hit", "get miss", "set (replace)", "get_with hit", "@cached hit"):
        assert operation in out


def test_main_json() -> None:
    result = _run("--json", "--no-bench")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    info = moka_py.backend()
    assert report["ok"] is True
    assert report["backend"] == {
        "name": info.name,
        "version": info.version,
        "module": info.module.__name__,
        "priority": info.priority,
        "exact": info.exact,
    }
    assert set(report["self_check"].values()) == {"ok"}
    assert [b["name"] for b in report["available_backends"]] == [b.name for b in moka_py.available_backends()]
    assert report["benchmark_ns_per_op"] == {}


def test_self_check_in_process() -> None:
    from moka_py.__main__ import self_check

    assert [error for _, error in self_check() if error is not None] == []
