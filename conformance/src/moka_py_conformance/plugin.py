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
from moka_py_conformance._support import python_blocks


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


def _seeds_dir(config: pytest.Config) -> Path | None:
    value = config.getoption("--moka-seeds") or os.environ.get("MOKA_PY_SEEDS")
    if not value:
        return None
    path = Path(value)
    if not path.is_dir():
        raise pytest.UsageError(f"seed README folder {path} does not exist")
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give every ```python block of the seed READMEs to tests that take ``seed_example``."""
    if "seed_example" not in metafunc.fixturenames:
        return
    folder = _seeds_dir(metafunc.config)
    if folder is None:
        metafunc.parametrize(
            "seed_example",
            [pytest.param(None, marks=pytest.mark.skip(reason="no --moka-seeds / MOKA_PY_SEEDS given"))],
        )
        return
    blocks = [block for path in sorted(folder.glob("*.md")) for block in python_blocks(path)]
    if not blocks:
        raise pytest.UsageError(f"no python code blocks found in {folder}/*.md")
    metafunc.parametrize("seed_example", blocks, ids=[block.id for block in blocks])
