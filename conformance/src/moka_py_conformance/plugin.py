"""pytest plugin: choose the backend under test and hand it to the suite as fixtures.

The backend is chosen once per test process, before ``moka_py`` is imported, by
setting ``MOKA_PY_BACKEND``; so ``from moka_py import Moka`` inside a test (or a
README example) gets the backend under test, exactly as a user would.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from moka_py_conformance import _profiles  # noqa: F401
from moka_py_conformance._support import markdown_blocks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moka-py", "moka-py conformance")
    group.addoption(
        "--moka-backend",
        action="store",
        default=None,
        metavar="NAME",
        help="moka-py backend to certify (default: MOKA_PY_BACKEND, else the one moka_py selects)",
    )
    group.addoption(
        "--moka-seeds",
        action="store",
        default=None,
        metavar="DIR",
        help="folder of README files whose python code blocks must run (default: MOKA_PY_SEEDS)",
    )
    group.addoption(
        "--moka-docs",
        action="append",
        default=None,
        metavar="PATH",
        help="a Markdown file, or a folder searched for *.md, whose python code blocks must run; "
        "repeatable (default: MOKA_PY_DOCS, paths separated by os.pathsep)",
    )
    group.addoption(
        "--moka-soak",
        action="store",
        type=float,
        default=None,
        metavar="FACTOR",
        help="scale the reliability tests' threads, durations and cycle counts by FACTOR >= 1 "
        "(default: MOKA_PY_SOAK, else 1, the CI size)",
    )


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--moka-backend")
    if name:
        os.environ["MOKA_PY_BACKEND"] = name
    config.addinivalue_line("markers", "slow: takes more than a few seconds of real time")
    config.addinivalue_line(
        "markers", "contract: the contract tier, one test per rule of the API (select with -m contract)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    import moka_py

    info = moka_py.backend()
    return f"moka-py backend: {info.name} {info.version} ({info.module.__name__})"


@pytest.fixture(scope="session")
def backend() -> ModuleType:
    """The backend under test (the object its entry point loads)."""
    import moka_py

    return moka_py.backend().module


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> float:
    """How much longer and harder the reliability tests run than in CI (1: the CI size)."""
    value = request.config.getoption("--moka-soak")
    if value is None:
        value = float(os.environ.get("MOKA_PY_SOAK", "1"))
    if not value >= 1:
        raise pytest.UsageError(f"--moka-soak / MOKA_PY_SOAK must be a number >= 1, not {value}")
    return float(value)


@pytest.fixture(scope="session")
def Moka(backend: ModuleType) -> Any:  # noqa: N802 - it is the class under test
    """The ``Moka`` class under test."""
    return backend.Moka


def _seed_sources(config: pytest.Config) -> list[Path]:
    value = config.getoption("--moka-seeds") or os.environ.get("MOKA_PY_SEEDS")
    if not value:
        return []
    path = Path(value)
    if not path.is_dir():
        raise pytest.UsageError(f"seed README folder {path} does not exist")
    return [path]


def _doc_sources(config: pytest.Config) -> list[Path]:
    values = config.getoption("--moka-docs") or os.environ.get("MOKA_PY_DOCS", "").split(os.pathsep)
    paths = [Path(value) for value in values if value]
    for path in paths:
        if not path.exists():
            raise pytest.UsageError(f"Markdown file or folder {path} (--moka-docs) does not exist")
    return paths


# fixture -> (where its sources are given, how to read them)
_EXAMPLES = {
    "seed_example": ("--moka-seeds / MOKA_PY_SEEDS", _seed_sources),
    "doc_example": ("--moka-docs / MOKA_PY_DOCS", _doc_sources),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give every ```python block of the seed READMEs to tests that take ``seed_example``, and of the
    named docs to tests that take ``doc_example``; without sources given, those tests are skipped."""
    for fixture, (option, read_sources) in _EXAMPLES.items():
        if fixture not in metafunc.fixturenames:
            continue
        sources = read_sources(metafunc.config)
        if not sources:
            skip = pytest.mark.skip(reason=f"no {option} given")
            metafunc.parametrize(fixture, [pytest.param(None, marks=skip)])
            continue
        blocks = markdown_blocks(sources)
        if not blocks:
            names = ", ".join(map(str, sources))
            raise pytest.UsageError(f"{option}: no ```python code blocks found in {names}")
        metafunc.parametrize(fixture, blocks, ids=[block.id for block in blocks])
