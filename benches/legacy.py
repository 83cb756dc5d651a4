"""moka-py 0.5.0 from PyPI, in its own virtual environment ``benches/.venv-moka-py-0.5.0``.

0.5.0 installs the import name ``moka_py``, as the current core does, so it cannot share an
interpreter with the code under test; the harness runs its workers there.  The venv is reused
while its ``moka-py`` is 0.5.0; delete the folder to rebuild it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

LEGACY_VERSION = "0.5.0"
VENV = Path(__file__).resolve().parent / f".venv-moka-py-{LEGACY_VERSION}"


def _installed_version(python: Path) -> str | None:
    probe = "from importlib.metadata import version; print(version('moka-py'))"
    proc = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _run(cmd: list[str], log: Callable[[str], None]) -> bool:
    log("    $ " + " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log("    " + (proc.stderr or proc.stdout).strip().replace("\n", "\n    "))
    return proc.returncode == 0


def legacy_python(log: Callable[[str], None] = print) -> str | None:
    """The interpreter of the moka-py 0.5.0 venv, creating it if needed; ``None`` if that fails.

    The venv is built from the interpreter running the harness (``sys.executable``), so both run
    the same Python version: by ``uv`` when it is installed (nox's venvs have no ``pip``), else by
    ``venv`` and ``pip``.
    """
    python = VENV / "bin" / "python"
    if python.exists() and _installed_version(python) == LEGACY_VERSION:
        return str(python)
    log(f"  creating {VENV} with moka-py=={LEGACY_VERSION}")
    shutil.rmtree(VENV, ignore_errors=True)
    requirement = f"moka-py=={LEGACY_VERSION}"
    if uv := shutil.which("uv"):
        ok = _run([uv, "venv", "--python", sys.executable, str(VENV)], log) and _run(
            [uv, "pip", "install", "--quiet", "--python", str(python), requirement], log
        )
    else:
        ok = _run([sys.executable, "-m", "venv", str(VENV)], log) and _run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement], log
        )
    if ok and _installed_version(python) == LEGACY_VERSION:
        return str(python)
    log(f"  moka-py {LEGACY_VERSION} is unavailable: its results will be missing")
    return None
