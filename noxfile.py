"""Developer and CI sessions for the moka-py monorepo.

``nox`` with no arguments runs what CI runs: lint, typecheck and the test suite
against every backend, and the contract tier on every other supported CPython
found (``contract-3.X``).  The Rust extension is built once per source state and
interpreter, in release mode, into ``.nox/_wheels/`` and reused by every session
that needs it.  ``nox -s wheels`` builds and checks the release artifacts.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared"
CORE = ROOT / "packages" / "moka-py-core"
PURE = ROOT / "packages" / "moka-py-pure"
RUST = ROOT / "packages" / "moka-py-rust"
CONFORMANCE = ROOT / "conformance"
REDIS = ROOT / "packages" / "moka-py-redis"
WHEELS = ROOT / ".nox" / "_wheels"
BENCHES = ROOT / "benches"
DOCS = ROOT / "docs"
SITE = ROOT / "site"  # the built documentation site (git-ignored)
LEAST = BENCHES / "least_binding"  # a benchmark floor (issue #5), built by the bench session only
BACKENDS = ["pure", "rust"]
# The whole suite runs on the interpreter that runs nox (CPython 3.11 in CI); each other CPython of
# requires-python gets a contract-X.Y session, skipped when the machine does not have it.
OTHER_PYTHONS = ["3.9", "3.10", "3.12", "3.13"]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "rust_unit", "tests", "examples", "mutants", "docs", "redis"]
nox.options.sessions += [f"contract-{version}" for version in OTHER_PYTHONS]


def _rust_fingerprint() -> str:
    """Hash of everything that goes into the Rust wheel, so a rebuild happens only on change."""
    digest = hashlib.sha256()
    for path in sorted(RUST.rglob("*")):
        rel = path.relative_to(RUST)
        if path.is_file() and rel.parts[0] not in {"target", "tests"} and "__pycache__" not in rel.parts:
            digest.update(str(rel).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def rust_wheel(session: nox.Session) -> Path:
    """Build the Rust backend's wheel for the session's interpreter (release mode) once; return its path.

    The wheels of every interpreter of one source state share a folder and the cargo target folder,
    so another interpreter recompiles only pyo3 and the extension, not moka (about 10 s here).
    """
    out = WHEELS / f"rust-{_rust_fingerprint()}"
    tag = session.run("python", "-c", "import sys; print('cp%d%d' % sys.version_info[:2])", silent=True)
    tag = str(tag).strip()
    pattern = f"moka_py_rust-*-{tag}-{tag}-*.whl"
    wheels = sorted(out.glob(pattern))
    if not wheels:
        session.install("maturin>=1.9,<2")
        session.run(
            "maturin", "build", "--release", "--manifest-path", str(RUST / "Cargo.toml"),
            "--out", str(out), "--interpreter", "python",
        )
        wheels = sorted(out.glob(pattern))
    if len(wheels) != 1:
        session.error(f"expected one {pattern} in {out}, found {wheels}")
    return wheels[0]


def install_project(session: nox.Session, backend: str | None = None) -> None:
    """Install the core, the pure backend, the conformance suite and (optionally) the Rust wheel.

    All local distributions go in one resolver run so that their pinned
    dependencies on each other resolve to these folders, not to PyPI.
    """
    targets = [str(CORE), str(PURE), str(CONFORMANCE)]
    if backend in (None, "rust"):
        targets.append(str(rust_wheel(session)))
    session.install(*targets)


# Every ```python block of these runs on every backend (conformance's test_examples); the seed
# READMEs beside the repository (../shared/seeds, present in CI) are an extra check when they exist.
EXAMPLE_DOCS = [ROOT / "README.md", DOCS]
SEEDS = SHARED / "seeds"


def examples_env(session: nox.Session) -> dict[str, str]:
    """``MOKA_PY_DOCS`` naming the README and docs, and ``MOKA_PY_SEEDS`` if the seeds folder exists."""
    env = {"MOKA_PY_DOCS": os.pathsep.join(str(path) for path in EXAMPLE_DOCS if path.exists())}
    if SEEDS.is_dir():
        env["MOKA_PY_SEEDS"] = str(SEEDS)
    else:
        session.log(f"{SEEDS} does not exist: the seed README examples are skipped")
    return env


@nox.session
@nox.parametrize("backend", BACKENDS)
def tests(session: nox.Session, backend: str) -> None:
    """The whole test suite against one backend: the conformance suite plus the backend's own tests."""
    install_project(session, backend)
    session.install("pytest-timeout")
    env = {"MOKA_PY_BACKEND": backend, **examples_env(session)}
    own_tests = {"pure": PURE / "tests", "rust": RUST / "tests"}[backend]
    session.run(
        "pytest", "-p", "no:cacheprovider", "--timeout=600", "--rootdir", str(ROOT),
        "--pyargs", "moka_py_conformance",
        str(own_tests), str(CORE / "tests"),
        "--moka-backend", backend,
        *session.posargs,
        env=env,
    )


@nox.session
@nox.parametrize("backend", BACKENDS)
def conformance(session: nox.Session, backend: str) -> None:
    """The conformance suite alone against one backend.

    For long local runs: ``nox -s conformance -- --hypothesis-profile thorough``.
    """
    install_project(session, backend)
    session.run(
        "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
        "--pyargs", "moka_py_conformance", "--moka-backend", backend, *session.posargs,
        env=examples_env(session),
    )


PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


@functools.cache
def find_python(version: str) -> str | None:
    """A working CPython ``version`` interpreter: ``pythonX.Y`` on PATH, else the newest pyenv install.

    A pyenv shim on PATH exists for every installed version but runs only the selected ones, so
    each candidate is run once to see that it is that CPython.
    """
    installs = sorted(
        PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parts[-3])],
        reverse=True,
    )
    probe = "import platform, sys; print(platform.python_implementation(), '%d.%d' % sys.version_info[:2])"
    for candidate in [shutil.which(f"python{version}"), *map(str, installs)]:
        if candidate is None:
            continue
        try:
            done = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.split() == ["CPython", version]:
            return candidate
    return None


def contract_on(session: nox.Session, version: str, python: str | None) -> None:
    """The contract tier, the README/docs/seed examples and the packages' own tests, on both backends."""
    if python is None:
        session.skip(f"CPython {version} not found (python{version} on PATH, {PYENV_VERSIONS}/{version}.*)")
    install_project(session)
    session.install("pytest-timeout")
    pytest = ["pytest", "-p", "no:cacheprovider", "--timeout=600", "--rootdir", str(ROOT)]
    for backend in BACKENDS:
        env = {"MOKA_PY_BACKEND": backend, **examples_env(session)}
        session.run(
            *pytest, "--pyargs", "moka_py_conformance", "-m", "contract", "--moka-backend", backend,
            *session.posargs, env=env,
        )  # fmt: skip
        own_tests = {"pure": PURE / "tests", "rust": RUST / "tests"}[backend]
        session.run(*pytest, str(own_tests), str(CORE / "tests"), *session.posargs, env=env)


def _define_contract_session(version: str) -> None:
    python = find_python(version)

    def session_func(session: nox.Session) -> None:
        contract_on(session, version, python)

    session_func.__doc__ = (
        f"On CPython {version}: the conformance contract tier (-m contract, with the README, docs and "
        "seed examples) and the packages' own tests, against both backends."
    )
    # No interpreter: a session without a virtualenv that only reports the skip.
    nox.session(session_func, name=f"contract-{version}", python=python or False)


for _version in OTHER_PYTHONS:
    _define_contract_session(_version)


@nox.session
@nox.parametrize("backend", BACKENDS)
def soak(session: nox.Session, backend: str) -> None:
    """The reliability tests, long: more threads, longer runs, more cycles (not part of CI).

    ``nox -s soak -- --moka-soak 30`` for a longer run (default factor 10).
    """
    install_project(session, backend)
    session.install("pytest-timeout")
    factor = [] if any(arg.startswith("--moka-soak") for arg in session.posargs) else ["--moka-soak", "10"]
    session.run(
        "pytest", "-p", "no:cacheprovider", "--timeout=3600", "--rootdir", str(ROOT),
        "--pyargs", "moka_py_conformance", "-k", "reliability", "--moka-backend", backend,
        *factor, *session.posargs,
        env=examples_env(session),
    )


@nox.session
def examples(session: nox.Session) -> None:
    """Install the example third-party backend and certify it with the conformance plugin."""
    install_project(session, "pure")
    example = CONFORMANCE / "examples" / "moka-py-example-backend"
    session.install(str(example))
    session.run(
        "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
        "--pyargs", "moka_py_conformance", "--moka-backend", "example", *session.posargs,
        env=examples_env(session),
    )


@nox.session
def mutants(session: nox.Session) -> None:
    """The suite's teeth: every deliberately broken backend in conformance/tests/mutants must fail it."""
    install_project(session, "pure")
    session.install("pytest-timeout")
    session.run(
        "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT), str(CONFORMANCE / "tests"),
        *session.posargs,
        env={**examples_env(session), "MOKA_PY_BACKEND": "pure"},
    )


DIST = ROOT / "dist"  # the release artifacts built by the wheels session (git-ignored)
RELEASE_TARGET = ROOT / ".nox" / "_cargo-release"  # its cargo target folder, kept between runs
MANYLINUX = (2, 17)  # the newest glibc the Rust wheels may need: manylinux2014


@nox.session
def wheels(session: nox.Session) -> None:
    """The release artifacts, in dist/, and a check that they install and work on their own.

    An sdist of every package; a wheel of each pure-Python package built from its sdist; Rust wheels
    built from the unpacked Rust sdist for every CPython found, linked by zig against glibc 2.17
    (manylinux2014) and checked with ``auditwheel show``; ``twine check`` on everything. Then a fresh
    virtualenv installs moka-py, both backends and the conformance suite from dist/ alone
    (``--no-index``; only pytest and hypothesis come from the index) and passes the contract tests
    against both backends, and one per other interpreter runs ``python -m moka_py`` on its wheel.
    Not in the default set: about 3 minutes, most of it the five Rust builds.
    """
    shutil.rmtree(DIST, ignore_errors=True)
    session.install("build[uv]", "maturin>=1.9,<2", "ziglang", "auditwheel", "twine")
    for package in (CORE, PURE, CONFORMANCE):
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(DIST), str(package))
    session.run("maturin", "sdist", "--manifest-path", str(RUST / "Cargo.toml"), "--out", str(DIST))

    tmp = Path(session.create_tmp()).resolve()
    unpacked = tmp / "rust-sdist"
    shutil.rmtree(unpacked, ignore_errors=True)
    (sdist,) = DIST.glob("moka_py_rust-*.tar.gz")
    shutil.unpack_archive(sdist, unpacked)
    (source,) = unpacked.iterdir()
    interpreters = ["python"]  # the session's own, then every other supported CPython found
    for version in OTHER_PYTHONS:
        found = find_python(version)
        if found is None:
            session.warn(f"CPython {version} not found: no Rust wheel for it")
        else:
            interpreters += [found]
    session.run(
        "maturin", "build", "--release", "--zig", "--compatibility", "manylinux2014",
        "--manifest-path", str(source / "Cargo.toml"), "--out", str(DIST),
        *[arg for interpreter in interpreters for arg in ("--interpreter", interpreter)],
        env={"CARGO_TARGET_DIR": str(RELEASE_TARGET)},
    )  # fmt: skip
    rust_wheels = sorted(DIST.glob("moka_py_rust-*.whl"))
    if len(rust_wheels) != len(interpreters):
        session.error(f"expected {len(interpreters)} Rust wheels in {DIST}, found {rust_wheels}")
    for wheel in rust_wheels:
        shown = str(session.run("auditwheel", "show", str(wheel), silent=True))
        tag = re.search(r'platform tag:\s*"manylinux_(\d+)_(\d+)_', shown)
        if tag is None or (int(tag[1]), int(tag[2])) > MANYLINUX:
            session.error(f"{wheel.name} needs more than manylinux_2_17:\n{shown}")
        session.log(f"{wheel.name}: auditwheel: manylinux_{tag[1]}_{tag[2]}")
    session.run("twine", "check", "--strict", *map(str, sorted(DIST.iterdir())))

    session.chdir(tmp)  # nothing of the source tree on sys.path
    # The session's interpreter: the contract tests, in a venv that has only the artifacts.
    python = release_venv(session, tmp / "release-venv", "python")
    session.run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "pytest>=8", "hypothesis>=6.100", "pytest-timeout", external=True)  # fmt: skip
    install_from_dist(session, python, "moka-py[rust]", "moka-py-conformance")
    # Every other one: its own wheel, through the demo's self-check on the Rust backend. The core's
    # third-party dependencies (typing_extensions before 3.10) come from the index, as pytest does.
    for interpreter in interpreters[1:]:
        other = release_venv(session, tmp / f"release-venv-{Path(interpreter).name}", interpreter)
        session.run(other, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *third_party_dependencies(CORE), external=True)  # fmt: skip
        install_from_dist(session, other, "moka-py[rust]")
        session.run(other, "-m", "moka_py", env={"MOKA_PY_BACKEND": "rust"}, external=True)
    for backend in BACKENDS:
        session.run(
            python, "-m", "pytest", "-p", "no:cacheprovider", "--timeout=600",
            "--pyargs", "moka_py_conformance", "-m", "contract", "--moka-backend", backend,
            *session.posargs, env=examples_env(session), external=True,
        )  # fmt: skip


def third_party_dependencies(package: Path) -> list[str]:
    """The requirements of ``package``'s pyproject that are not moka-py's own distributions."""
    import tomllib  # the session runs on 3.11

    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    return [req for req in project.get("dependencies", []) if not req.startswith("moka-py")]


def release_venv(session: nox.Session, venv: Path, interpreter: str) -> str:
    """A new virtualenv (the standard library's, with pip) made by ``interpreter``; its python."""
    shutil.rmtree(venv, ignore_errors=True)
    session.run(interpreter, "-m", "venv", str(venv), external=True)
    return str(venv / "bin" / "python")


def install_from_dist(session: nox.Session, python: str, *requirements: str) -> None:
    """Install ``requirements`` from the wheels in dist/ alone: no index, no source builds."""
    session.run(
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-index", "--find-links", str(DIST), "--only-binary", ":all:", *requirements, external=True,
    )  # fmt: skip


@nox.session
def redis(session: nox.Session) -> None:
    """The Redis near cache against a real redis-server (``.ci/run`` installs Debian's), once per backend.

    The tests start their own server on a free loopback port; without ``redis-server`` on PATH
    they skip, except in CI (``CI=true``), where they fail.
    """
    install_project(session)
    session.install(str(REDIS), "pytest-timeout")
    for backend in BACKENDS:
        session.run(
            "pytest", "-p", "no:cacheprovider", "--timeout=300", "--rootdir", str(REDIS),
            str(REDIS / "tests"), *session.posargs,
            env={"MOKA_PY_BACKEND": backend},
        )  # fmt: skip


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package, including the Rust extension's stubs; the decorators' types
    under mypy and pyright (``packages/moka-py-core/tests/typing``)."""
    install_project(session)
    session.install(
        "mypy>=1.10", "pyright[nodejs]>=1.1.380", "typing_extensions>=4.1", "pytest", "hypothesis"
    )
    session.run("mypy", "--strict", str(CORE / "src"), str(PURE / "src"))
    session.run("mypy", "--strict", "-p", "moka_py_rust")
    session.run("mypy", "--strict", str(CONFORMANCE / "src"))
    session.run("mypy", "--strict", str(ROOT / "tools"))
    session.install(str(REDIS))
    session.run("mypy", "--strict", str(REDIS / "src"), str(REDIS / "tests"), str(REDIS / "bench"))
    # The public decorators' types, as users' checkers see them: accepted and rejected calls.
    typing_tests = CORE / "tests" / "typing"
    session.run("mypy", "--strict", str(typing_tests / "check_cached.py"))
    session.run("pyright", "--project", str(typing_tests / "pyrightconfig.json"))
    # The harness imports its peers lazily and they are not installed here: check our code, not theirs.
    benches = sorted(str(p) for p in (ROOT / "benches").glob("*.py"))
    session.run("mypy", "--strict", "--ignore-missing-imports", *benches)


@nox.session(python=False)
def rust_unit(session: nox.Session) -> None:
    """The Rust backend's own unit tests: the linked moka version, the gate, the Expiry hooks.

    Built without the ``extension-module`` feature, so that the test binary links libpython.
    """
    session.run(
        "cargo", "test", "--release", "--no-default-features", "--manifest-path", str(RUST / "Cargo.toml"),
        external=True,
    )  # fmt: skip


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the Python tree and rustfmt over the extension."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", str(ROOT))
    session.run("python", str(ROOT / "tools" / "generate.py"), "--check")  # the backends' copies
    for manifest in (RUST / "Cargo.toml", LEAST / "Cargo.toml"):
        session.run("cargo", "fmt", "--check", "--manifest-path", str(manifest), external=True)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (``mkdocs build --strict``) and check it in headless Chromium.

    The API reference is read from the packages' sources and ``.pyi`` stubs (``mkdocs.yml`` points
    mkdocstrings at them), so nothing is built or installed for it; the site goes to ``site/``.
    """
    session.install("-r", str(DOCS / "requirements.txt"))
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run(
        "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
        "--site-dir", str(SITE), env=env,
    )  # fmt: skip
    session.run(
        "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT), str(DOCS / "tests"),
        *session.posargs, env={**env, "MOKA_PY_SITE": str(SITE)},
    )  # fmt: skip


@nox.session
def bench(session: nox.Session) -> None:
    """Speed, memory and hit-ratio benchmarks against the peers; writes benches/results/ and charts.

    Pass options to the harness after ``--`` (see ``python benches/run.py --help``).
    """
    install_project(session)
    session.install("-r", str(BENCHES / "requirements.txt"))
    # moka alone from Rust and the least PyO3 binding of it, timed in the speed rounds
    # (benches/floor.py). Its own cargo target folder keeps rebuilds incremental; without cargo
    # the floor group notes it.
    if shutil.which("cargo") is not None:
        session.install("maturin>=1.9,<2")
        out = WHEELS / "least-binding"
        shutil.rmtree(out, ignore_errors=True)
        session.run(
            "maturin", "build", "--release", "--manifest-path", str(LEAST / "Cargo.toml"),
            "--out", str(out), "--interpreter", "python",
        )  # fmt: skip
        session.install("--force-reinstall", "--no-deps", *map(str, out.glob("*.whl")))
    session.run("python", str(BENCHES / "run.py"), *session.posargs)
