"""The suite's teeth: it must FAIL against every deliberately broken backend in ``mutants/``.

Each mutant (and the unbroken control) is registered as a ``moka_py.backends`` entry point through a
temporary ``.dist-info`` folder, without installing anything, and the whole conformance suite runs
against it in a subprocess, stopping at the first failure (``-x``):

* a mutant must make the run fail with exit code 1 and a ``FAILED`` test (exit codes 2 to 5 are
  usage, collection or internal errors: the mutant was not even tested);
* the control, the same copy of the pure backend with nothing broken, must pass (exit code 0), which
  shows that the harness itself causes none of the failures.

The runs go in parallel (``MOKA_PY_TEETH_JOBS``, default: the number of CPUs), the control first as it
is the longest. ``MOKA_PY_SEEDS`` is passed through. A run that hangs is killed after
``RUN_TIMEOUT`` seconds and counts as NOT caught: a deadlocking mutant must be caught by the suite's
own watchdogs.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MUTANTS = HERE / "mutants"
RUN_TIMEOUT = 300.0  # seconds per suite run
CONTROL = "control_pure"

if str(HERE) not in sys.path:  # `mutants` must import here too (e.g. with --import-mode=importlib)
    sys.path.insert(0, str(HERE))


def _load(module: str) -> ModuleType:
    return importlib.import_module(f"mutants.{module}")


ALL = sorted(p.stem for p in MUTANTS.glob("*.py") if not p.stem.startswith("_"))
DETECTABLE = [m for m in ALL if m != CONTROL and not hasattr(_load(m), "UNDETECTABLE")]
UNDETECTABLE = [m for m in ALL if m != CONTROL and hasattr(_load(m), "UNDETECTABLE")]


@dataclass
class SuiteRun:
    backend: str
    returncode: int | None  # None: killed after RUN_TIMEOUT
    output: str
    seconds: float

    @property
    def failed_tests(self) -> list[str]:
        return re.findall(r"^FAILED (.+?)(?: - .*)?$", self.output, flags=re.MULTILINE)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def write_registration(folder: Path, modules: list[str]) -> dict[str, str]:
    """Write a ``.dist-info`` folder declaring ``modules`` as backends; return module -> backend name."""
    names = {module: _load(module).name for module in modules}
    dist_info = folder / "moka_py_teeth_mutants-0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: moka-py-teeth-mutants\nVersion: 0\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = mutants.{module}\n" for module, name in names.items())
    (dist_info / "entry_points.txt").write_text(f"[moka_py.backends]\n{lines}", encoding="utf-8")
    return names


def subprocess_env(registration: Path, backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    path = [str(registration), str(HERE)]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["MOKA_PY_BACKEND"] = backend  # also given as --moka-backend
    return env


def run_suite(registration: Path, backend: str, workdir: Path) -> SuiteRun:
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-q",
        "--pyargs", "moka_py_conformance", "--moka-backend", backend,
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=subprocess_env(registration, backend),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so that a timeout kills the whole process group
    )
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        returncode = None
    return SuiteRun(backend, returncode, output, time.monotonic() - started)


@pytest.fixture(scope="module")
def registration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("teeth-registration")
    return folder, write_registration(folder, [CONTROL, *DETECTABLE, *UNDETECTABLE])


def _module_of(item: pytest.Item) -> str | None:
    """The mutant (or control) whose suite run a selected test of this file needs, if any."""
    if not isinstance(item, pytest.Function) or item.path.resolve() != HERE / "test_teeth.py":
        return None
    if item.originalname == "test_control_passes":
        return CONTROL
    if item.originalname == "test_suite_catches_mutant":
        return str(item.callspec.params["module"])
    return None


@pytest.fixture(scope="module")
def suite_runs(
    request: pytest.FixtureRequest,
    registration: tuple[Path, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
    teeth_report: list[str],
) -> Iterator[dict[str, Future[SuiteRun]]]:
    """Start every suite run this session selected, in parallel; module name -> its future run."""
    folder, names = registration
    selected = {m for item in request.session.items if (m := _module_of(item)) is not None}
    order = sorted(selected, key=lambda m: (m != CONTROL, m))  # the longest run first
    jobs = int(os.environ.get("MOKA_PY_TEETH_JOBS", "0")) or os.cpu_count() or 2
    workdir = tmp_path_factory.mktemp("teeth-cwd")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        yield {m: pool.submit(run_suite, folder, names[m], workdir) for m in order}
    took = time.monotonic() - started
    teeth_report.append(f"total: {len(order)} suite runs took {took:.0f} s, {jobs} at a time")


def test_registration_lists_every_backend(registration: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Every mutant is a valid backend for ``moka_py``: listed, importable, priority 0, exact."""
    folder, names = registration
    script = (
        "import moka_py\n"
        "for b in moka_py.available_backends():\n"
        "    print(b.name, b.priority, b.importable, b.error, sep='|')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=subprocess_env(folder, names[CONTROL]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = {line.split("|")[0]: line.split("|")[1:] for line in done.stdout.splitlines()}
    for name in names.values():
        assert listed.get(name) == ["0", "True", "None"], f"{name}: {listed.get(name)}"
    for module in names:
        backend = _load(module)
        assert (backend.priority, backend.exact, backend.Moka.__name__) == (0, True, "Moka")


def test_control_passes(suite_runs: dict[str, Future[SuiteRun]], teeth_report: list[str]) -> None:
    run = suite_runs[CONTROL].result()
    teeth_report.append(f"{run.backend}: exit code {run.returncode} in {run.seconds:.0f} s")
    assert run.returncode == 0, f"the unbroken control failed the suite:\n{run.tail()}"
    assert re.search(r"\b\d+ passed\b", run.output), run.tail()


@pytest.mark.parametrize("module", DETECTABLE)
def test_suite_catches_mutant(
    module: str, suite_runs: dict[str, Future[SuiteRun]], teeth_report: list[str]
) -> None:
    run = suite_runs[module].result()
    caught_by = run.failed_tests[0] if run.failed_tests else None
    teeth_report.append(
        f"{run.backend}: exit code {run.returncode} in {run.seconds:.0f} s, caught by {caught_by}"
    )
    assert run.returncode is not None, (
        f"{run.backend}: the suite hung and was killed after {RUN_TIMEOUT} s; its watchdogs should "
        f"have failed a test instead:\n{run.tail()}"
    )
    assert run.returncode == 1, (
        f"{run.backend}: exit code {run.returncode}, expected 1 (tests failed); "
        f"0 means the suite did not notice the mutant, 2-5 that it did not even run:\n{run.tail()}"
    )
    assert caught_by is not None, f"{run.backend}: no FAILED test in the output:\n{run.tail()}"


# Mutants no black-box test can catch: show that each is still a real change of behaviour ----------


def _deadline_inclusive_serves_at_the_deadline() -> None:
    import moka_py_pure

    mutant = _load("deadline_inclusive")
    now = [0]
    for cls, served in ((moka_py_pure.Moka, False), (mutant.Moka, True)):
        now[0] = 0
        cache: Any = cls._with_clock(lambda: now[0], 10, ttl=1)
        cache.set("k", "v")
        now[0] = 1_000_000_000 - 1
        assert cache.get("k") == "v"
        now[0] = 1_000_000_000  # exactly the deadline
        assert (cache.get("k") == "v") is served, cls


DEMOS = {"deadline_inclusive": _deadline_inclusive_serves_at_the_deadline}


@pytest.mark.parametrize("module", UNDETECTABLE)
def test_undetectable_mutant_is_a_real_change(module: str) -> None:
    assert module in DEMOS, f"mutants/{module}.py is marked UNDETECTABLE but has no demonstration"
    DEMOS[module]()
