"""Backend discovery and selection (API.md section 2), with throwaway fake backends.

Each fake backend is a real module plus a ``*.dist-info`` folder with an
``entry_points.txt`` in a temporary directory, so discovery goes through
``importlib.metadata`` exactly as for an installed package.  Module names are
unique per test, so nothing leaks between tests through ``sys.modules``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import moka_py
import pytest
from moka_py import _selection
from moka_py._selection import Candidate, select_backend

_UNIQUE = itertools.count()

GOOD_BODY = """
class Moka:
    def __init__(self, capacity, ttl=None, tti=None, eviction_listener=None, policy="tiny_lfu", weigher=None):
        self._data = {}
    def get(self, key, default=None):
        return self._data.get(key, default)
    def set(self, key, value, ttl=None, tti=None):
        self._data[key] = value
"""


class FakeSite:
    """A sys.path entry holding fake backend distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.modules: dict[str, str] = {}

    def add(
        self,
        name: str,
        priority: int | str = 10,
        *,
        body: str = GOOD_BODY,
        header: str | None = None,
        version: str | None = "9.9",
        dist_version: str = "1.2.3",
    ) -> metadata.EntryPoint:
        """Write backend ``name`` and return its entry point."""
        module = f"_moka_fake_{next(_UNIQUE)}_{name}"
        if header is None:
            header = f"name = {name!r}\npriority = {priority}\nexact = False\n"
            if version is not None:
                header += f"__version__ = {version!r}\n"
        (self.root / f"{module}.py").write_text(header + textwrap.dedent(body))
        dist = self.root / f"{module}-{dist_version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: {dist_version}\n")
        (dist / "entry_points.txt").write_text(f"[moka_py.backends]\n{name} = {module}\n")
        self.modules[name] = module
        return self.entry_point(name)

    def entry_point(self, name: str) -> metadata.EntryPoint:
        dist = metadata.Distribution.at(next(self.root.glob(f"{self.modules[name]}-*.dist-info")))
        (entry_point,) = (ep for ep in dist.entry_points if ep.group == _selection.GROUP)
        return entry_point

    def candidates(self) -> list[Candidate]:
        return [Candidate(self.entry_point(name)) for name in self.modules]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return FakeSite(tmp_path / "site")


# --------------------------------------------------------------------------- choice by priority


def test_highest_priority_wins(site: FakeSite) -> None:
    site.add("low", 5)
    site.add("high", 50)
    site.add("mid", 20)
    info = select_backend(site.candidates(), None)
    assert info.name == "high"
    assert info.priority == 50
    assert info.module.__name__ == site.modules["high"]
    assert info.version == "9.9"
    assert info.exact is False


def test_equal_priorities_are_broken_by_name_deterministically(site: FakeSite) -> None:
    site.add("bbb", 7)
    site.add("aaa", 7)
    assert select_backend(site.candidates(), None).name == "bbb"
    assert select_backend(list(reversed(site.candidates())), None).name == "bbb"


def test_broken_backend_is_skipped_when_not_forced(site: FakeSite) -> None:
    site.add("broken", 100, body="raise RuntimeError('simulated build failure')\n")
    site.add("good", 1)
    candidates = site.candidates()
    assert select_backend(candidates, None).name == "good"
    described = {c.name: c.describe() for c in candidates}
    assert described["broken"].importable is False
    assert described["broken"].priority is None
    assert described["broken"].error == "RuntimeError: simulated build failure"
    assert described["good"] == ("good", 1, True, None, site.modules["good"])


def test_no_importable_backend_lists_what_was_tried(site: FakeSite) -> None:
    site.add("one", body="raise ImportError('no _native')\n")
    site.add("two", body="raise ValueError('bad config')\n")
    with pytest.raises(ImportError) as excinfo:
        select_backend(site.candidates(), None)
    message = str(excinfo.value)
    assert "no moka-py backend could be imported" in message
    assert "one (ImportError: no _native)" in message
    assert "two (ValueError: bad config)" in message


def test_no_backend_installed() -> None:
    with pytest.raises(ImportError, match="no moka-py backend is installed"):
        select_backend([], None)


# --------------------------------------------------------------------------- MOKA_PY_BACKEND


def test_forced_backend_wins_over_priority_and_others_are_not_imported(site: FakeSite) -> None:
    site.add("low", 1)
    site.add("high", 99)
    info = select_backend(site.candidates(), "low")
    assert info.name == "low"
    assert site.modules["high"] not in sys.modules


def test_forced_unknown_backend_names_the_installed_ones(site: FakeSite) -> None:
    site.add("alpha", 1)
    site.add("beta", 2, body="raise ImportError('broken')\n")
    with pytest.raises(ImportError) as excinfo:
        select_backend(site.candidates(), "nope")
    message = str(excinfo.value)
    assert "MOKA_PY_BACKEND='nope'" in message
    assert "no moka-py backend named 'nope' is installed" in message
    assert "installed backends: alpha, beta" in message


def test_forced_broken_backend_fails_loudly_with_the_cause(site: FakeSite) -> None:
    site.add("broken", 100, body="raise RuntimeError('simulated build failure')\n")
    site.add("good", 1)
    with pytest.raises(ImportError) as excinfo:
        select_backend(site.candidates(), "broken")
    message = str(excinfo.value)
    assert "MOKA_PY_BACKEND='broken'" in message
    assert "failed to import (RuntimeError: simulated build failure)" in message
    assert "installed backends: broken, good" in message
    assert isinstance(excinfo.value.__cause__, RuntimeError)
    assert str(excinfo.value.__cause__) == "simulated build failure"


def test_forced_invalid_backend_fails_loudly(site: FakeSite) -> None:
    site.add("nomoka", 1, body="")
    with pytest.raises(ImportError, match="failed to import") as excinfo:
        select_backend(site.candidates(), "nomoka")
    assert isinstance(excinfo.value.__cause__, ImportError)
    assert "it has no Moka attribute" in str(excinfo.value.__cause__)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("priority = 1\nexact = True\n", "it has no name attribute"),
        ("name = 'other'\npriority = 1\nexact = True\n", "whose name is 'other', not 'x'"),
        ("name = 'x'\npriority = True\nexact = True\n", "priority must be an int, not bool"),
        ("name = 'x'\npriority = '1'\nexact = True\n", "priority must be an int, not str"),
        ("name = 'x'\npriority = 1\nexact = 1\n", "exact must be a bool, not int"),
        ("name = 'x'\npriority = 1\nexact = True\nMoka = 3\n", "Moka must be a class, not int"),
    ],
)
def test_an_object_that_is_not_a_backend_is_rejected(site: FakeSite, header: str, error: str) -> None:
    body = "" if "Moka =" in header else GOOD_BODY
    site.add("x", header=header, body=body)
    (candidate,) = site.candidates()
    with pytest.raises(ImportError, match=r"entry point 'x'") as excinfo:
        candidate.load()
    assert error in str(excinfo.value)
    assert "entry point 'x'" in str(excinfo.value)
    assert candidate.describe().importable is False


def test_version_falls_back_to_the_distribution(site: FakeSite) -> None:
    site.add("unversioned", 1, version=None, dist_version="4.5.6")
    info = select_backend(site.candidates(), None)
    expected = "4.5.6" if sys.version_info >= (3, 10) else "unknown"
    assert info.version == expected


def test_a_backend_is_imported_once(site: FakeSite) -> None:
    site.add("counted", 1, body=GOOD_BODY + "\nimport builtins\nbuiltins._moka_fake_loads += 1\n")
    import builtins

    builtins._moka_fake_loads = 0  # type: ignore[attr-defined]
    try:
        (candidate,) = site.candidates()
        candidate.load()
        candidate.load()
        candidate.describe()
        assert builtins._moka_fake_loads == 1  # type: ignore[attr-defined]
    finally:
        del builtins._moka_fake_loads  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- discovery and the env var


def test_discover_reads_entry_points_from_sys_path(site: FakeSite) -> None:
    site.add("discovered", 3)
    found = {ep.name: ep.value for ep in _selection.discover()}
    assert found["discovered"] == site.modules["discovered"]


def test_discover_keeps_the_first_of_duplicate_names(site: FakeSite, tmp_path: Path) -> None:
    site.add("dup", 3)
    later = FakeSite(tmp_path / "later")
    later.add("dup", 4)
    sys.path.append(str(later.root))
    try:
        values = [ep.value for ep in _selection.discover() if ep.name == "dup"]
    finally:
        sys.path.remove(str(later.root))
    assert values == [site.modules["dup"]]


def test_select_honours_the_environment_variable(site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    site.add("first", 1)
    site.add("second", 2)
    entry_points = [site.entry_point("first"), site.entry_point("second")]
    monkeypatch.setattr(_selection, "discover", lambda: entry_points)
    monkeypatch.setattr(_selection, "_CANDIDATES", [])
    monkeypatch.setenv("MOKA_PY_BACKEND", "first")
    assert _selection.select().name == "first"
    monkeypatch.setenv("MOKA_PY_BACKEND", "  ")  # blank means unset
    assert _selection.select().name == "second"
    monkeypatch.delenv("MOKA_PY_BACKEND")
    assert _selection.select().name == "second"


def test_available_backends_lists_everything_best_first(
    site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.add("zzz_broken", 1000, body="raise ImportError('missing')\n")
    site.add("low", 1)
    site.add("high", 30)
    site.add("aaa_broken", 1000, body="raise ImportError('missing too')\n")
    monkeypatch.setattr(_selection, "_CANDIDATES", site.candidates())
    listed = moka_py.available_backends()
    assert [b.name for b in listed] == ["high", "low", "aaa_broken", "zzz_broken"]
    assert [b.importable for b in listed] == [True, True, False, False]
    assert listed[2].error == "ImportError: missing too"
    assert listed[0].target == site.modules["high"]


# --------------------------------------------------------------------------- the real package


def test_moka_is_the_selected_backends_class() -> None:
    info = moka_py.backend()
    assert moka_py.Moka is info.module.Moka
    assert info.name == info.module.name
    assert info.priority == info.module.priority
    assert info.exact == info.module.exact
    assert isinstance(info.version, str)
    expected_cached = getattr(info.module, "cached", None)
    if expected_cached is not None:
        assert moka_py.cached is expected_cached
    else:
        from moka_py._cached import cached as generic

        assert moka_py.cached is generic


def test_public_names() -> None:
    assert moka_py.__version__ == "1.0.0.dev0"
    for name in moka_py.__all__:
        assert hasattr(moka_py, name), name
        if name not in {"__version__", "VERSION", "Cause", "Policy", "Moka"}:  # Moka: see test_face
            assert getattr(moka_py, name).__doc__, name
    assert moka_py.backend()._fields == ("name", "version", "module", "priority", "exact")
    listed = moka_py.available_backends()
    assert moka_py.backend().name in [b.name for b in listed if b.importable]
    priorities = [b.priority for b in listed if b.priority is not None]
    assert priorities == sorted(priorities, reverse=True)


def test_version_alias() -> None:
    # moka-py 0.5's name for the version (API.md section 9), and the installed distribution's.
    version: str = moka_py.VERSION
    assert "VERSION" in moka_py.__all__
    assert version == moka_py.__version__ == metadata.version("moka-py")


def test_moka_is_generic_at_runtime() -> None:
    cache: moka_py.Moka[str, list[int]] = moka_py.Moka(100)
    cache.set("key", [3, 2, 1])
    assert cache.get("key") == [3, 2, 1]
    assert moka_py.Moka[str, int] is not None


# --------------------------------------------------------------------------- real imports in a subprocess


def _run(
    code: list[str], env: dict[str, str], pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    if pythonpath is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(pythonpath), os.environ.get("PYTHONPATH")])
        )
    return subprocess.run(
        [sys.executable, *code], env=full_env, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_with_an_unknown_forced_backend_fails_naming_the_installed_ones() -> None:
    installed = sorted(ep.name for ep in _selection.discover())
    assert installed, "no moka-py backend is installed in this environment"
    result = _run(["-c", "import moka_py"], {"MOKA_PY_BACKEND": "nope"})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: MOKA_PY_BACKEND='nope'")
    assert f"installed backends: {', '.join(installed)}" in last_line


def test_import_with_a_broken_forced_backend_chains_the_cause(site: FakeSite) -> None:
    site.add("broken", 1, body="raise RuntimeError('simulated build failure')\n")
    result = _run(["-c", "import moka_py"], {"MOKA_PY_BACKEND": "broken"}, site.root)
    assert result.returncode != 0
    assert "RuntimeError: simulated build failure" in result.stderr
    assert "The above exception was the direct cause of the following exception" in result.stderr
    assert (
        "ImportError: MOKA_PY_BACKEND='broken': the moka-py backend 'broken' failed to import"
        in result.stderr
    )


def test_a_backends_own_cached_is_used(site: FakeSite) -> None:
    site.add("withcached", 1, body=GOOD_BODY + "\ndef cached(*args, **kwargs):\n    return 'own cached'\n")
    code = "import moka_py as p; m = p.backend().module; print(p.cached is m.cached, p.Moka is m.Moka)"
    result = _run(["-c", code], {"MOKA_PY_BACKEND": "withcached"}, site.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_a_backends_cached_module_can_be_imported_before_moka_py() -> None:
    # A backend's own `cached` module imports moka_py; importing it first used to be circular.
    module = moka_py.backend().module.__name__
    code = (
        f"import importlib.util, {module} as m\n"
        f"if importlib.util.find_spec('{module}._cached'):\n"
        f"    import {module}._cached\n"
        "import moka_py\n"
        "from moka_py import cached\n"
        "print(cached is getattr(m, 'cached', None))\n"
    )
    result = _run(["-c", code], {"MOKA_PY_BACKEND": moka_py.backend().name})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]


def test_main_fails_when_the_self_check_fails(site: FakeSite) -> None:
    site.add("forgetful", 1, body=GOOD_BODY.replace("self._data[key] = value", "pass"))
    result = _run(["-m", "moka_py", "--no-bench"], {"MOKA_PY_BACKEND": "forgetful"}, site.root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "self-check: FAILED" in result.stdout
    assert "  set/get: " in result.stdout
