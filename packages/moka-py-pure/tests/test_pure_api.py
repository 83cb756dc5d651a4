"""The pure backend's own attributes and internals (the API contract is in the conformance suite)."""

from __future__ import annotations

from typing import Any

import moka_py_pure
import pytest
from moka_py_pure import Moka


def test_backend_attributes() -> None:
    assert moka_py_pure.name == "pure"
    assert moka_py_pure.priority == 10
    assert moka_py_pure.exact is True
    assert moka_py_pure.Moka is Moka
    assert moka_py_pure.__version__ == "1.0.0.dev0"


def test_failed_writes_leave_nothing_in_the_write_log() -> None:
    c: Moka[Any, Any] = Moka(10, weigher=lambda k, v: v)
    with pytest.raises(TypeError, match=r"^ttl must"):
        c.set([], 1, ttl="x")  # type: ignore[arg-type]  # durations are checked before the key is hashed
    with pytest.raises(TypeError, match="unhashable"):
        c.set([], 1)
    with pytest.raises(TypeError, match=r"^weigher must return an int, not str"):
        c.set("a", "x")
    with pytest.raises(ValueError, match=r"^weigher must return an int >= 0, got -1"):
        c.set("a", -1)
    with pytest.raises(TypeError, match=r"^initializer must be callable, not int"):
        c.get_with([], 1, ttl="x")  # type: ignore[arg-type]  # the initializer is checked first
    assert "a" not in c and c._wlog == []
    bad: Moka[Any, Any] = Moka(10, weigher=lambda k, v: 1 // 0)
    with pytest.raises(ZeroDivisionError):  # a weigher's own exception propagates unchanged
        bad.set("a", 1)
    assert "a" not in bad and bad._wlog == []


def test_float_durations_round_to_nanoseconds() -> None:
    from moka_py_pure._validation import duration_ns

    assert duration_ns("ttl", 1) == 1_000_000_000
    assert duration_ns("ttl", 0.1) == 100_000_000
    assert duration_ns("ttl", 1e-9) == 1
    assert duration_ns("ttl", 31_536_000_000) == 31_536_000_000 * 10**9


@pytest.mark.parametrize("backend", ["pure", ""])
def test_own_cached_when_moka_py_pure_is_imported_before_moka_py(backend: str) -> None:
    """Importing moka_py from moka_py_pure.cached must not meet a half-imported moka_py_pure._cached."""
    import os
    import subprocess
    import sys

    pytest.importorskip("moka_py")
    code = (
        "import moka_py_pure\n"
        "c = moka_py_pure.cached\n"
        "import moka_py\n"
        "assert moka_py.cached is c or moka_py.backend().name != 'pure'\n"
        "@c\n"
        "def f(x): return [x]\n"
        "assert f(1) is f(1) and f.cache_info()[:2] == (1, 1)\n"
    )
    env = {**os.environ, "MOKA_PY_BACKEND": backend}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
