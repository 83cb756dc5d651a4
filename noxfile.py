"""Developer and CI sessions for the moka-py monorepo.

``nox`` with no arguments runs what CI runs: lint, typecheck and the test suite
against every backend.  The Rust extension is built once per source state, in
release mode, into ``.nox/_wheels/`` and reused by every session that needs it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared"
CORE = ROOT / "packages" / "moka-py-core"
PURE = ROOT / "packages" / "moka-py-pure"
RUST = ROOT / "packages" / "moka-py-rust"
CONFORMANCE = ROOT / "conformance"
WHEELS = ROOT / ".nox" / "_wheels"
BENCHES = ROOT / "benches"
DOCS = ROOT / "docs"
SITE = ROOT / "site"  # the built documentation site (git-ignored)
LEAST = BENCHES / "least_binding"  # a benchmark floor (issue #5), built by the bench session only
BACKENDS = ["pure", "rust"]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "rust_unit", "tests", "examples", "mutants", "docs"]


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
    """Build the Rust backend's wheel in release mode once, and return its path."""
    out = WHEELS / f"rust-{_rust_fingerprint()}"
    wheels = sorted(out.glob("moka_py_rust-*.whl"))
    if not wheels:
        session.install("maturin>=1.9,<2")
        session.run(
            "maturin", "build", "--release", "--manifest-path", str(RUST / "Cargo.toml"),
            "--out", str(out), "--interpreter", "python",
        )
        wheels = sorted(out.glob("moka_py_rust-*.whl"))
    if len(wheels) != 1:
        session.error(f"expected one moka_py_rust wheel in {out}, found {wheels}")
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


def seeds_dir(session: nox.Session) -> str:
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        session.error(f"{seeds} is missing: the seed README examples are part of the test suite")
    return str(seeds)


@nox.session
@nox.parametrize("backend", BACKENDS)
def tests(session: nox.Session, backend: str) -> None:
    """The whole test suite against one backend: the conformance suite plus the backend's own tests."""
    install_project(session, backend)
    session.install("pytest-timeout")
    env = {"MOKA_PY_BACKEND": backend, "MOKA_PY_SEEDS": seeds_dir(session)}
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
        env={"MOKA_PY_SEEDS": seeds_dir(session)},
    )


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
        env={"MOKA_PY_SEEDS": seeds_dir(session)},
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
        env={"MOKA_PY_SEEDS": seeds_dir(session)},
    )


@nox.session
def mutants(session: nox.Session) -> None:
    """The suite's teeth: every deliberately broken backend in conformance/tests/mutants must fail it."""
    install_project(session, "pure")
    session.install("pytest-timeout")
    session.run(
        "pytest", "-p", "no:cacheprovider", "--rootdir", str(ROOT), str(CONFORMANCE / "tests"),
        *session.posargs,
        env={"MOKA_PY_SEEDS": seeds_dir(session), "MOKA_PY_BACKEND": "pure"},
    )


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package, including the Rust extension's stubs."""
    install_project(session)
    session.install("mypy>=1.10", "pytest", "hypothesis")
    session.run("mypy", "--strict", str(CORE / "src"), str(PURE / "src"))
    session.run("mypy", "--strict", "-p", "moka_py_rust")
    session.run("mypy", "--strict", str(CONFORMANCE / "src"))
    session.run("mypy", "--strict", str(ROOT / "tools"))
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
    session.run("python", str(ROOT / "tools" / "docstrings.py"), "--check")  # the backends' copies
    for manifest in (RUST / "Cargo.toml", BENCHES / "moka_floor" / "Cargo.toml", LEAST / "Cargo.toml"):
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
    # The least PyO3 binding of moka, timed beside the Rust targets (benches/floor.py). Its own
    # cargo target folder keeps rebuilds incremental; without cargo the floor group notes it.
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
