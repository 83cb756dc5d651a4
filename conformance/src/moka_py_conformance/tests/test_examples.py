"""Every ```python block of the given Markdown files runs unchanged against the backend under test.

Two sources, read at collection time, never copied into this suite by hand: the seed READMEs
(``--moka-seeds DIR`` or ``MOKA_PY_SEEDS``) and a project's own README and docs pages
(``--moka-docs PATH``, repeatable, or ``MOKA_PY_DOCS``). Each block runs as a script of its own.
A block marked ``<!-- conformance: exact -->`` on the line above its fence shows moka's own
decisions and is skipped for backends that do not claim ``exact``; one marked
``<!-- conformance: requires NAME -->`` needs another distribution (the Redis near cache and a
server), is run by that package's own tests, and is skipped here.
"""

from __future__ import annotations

from typing import Any

import pytest

from moka_py_conformance._support import EXACT_MARK, CodeBlock

pytestmark = pytest.mark.contract


def run_example(block: CodeBlock, backend: Any) -> None:
    if block.requires is not None:
        pytest.skip(f"needs {block.requires}: run by that package's own tests")
    if block.exact and not getattr(backend, "exact", False):
        pytest.skip(f"{EXACT_MARK}: backend {backend.name!r} does not claim moka-identical decisions")
    block.run()


def test_seed_example_runs(seed_example: CodeBlock, backend: Any) -> None:
    run_example(seed_example, backend)


def test_doc_example_runs(doc_example: CodeBlock, backend: Any) -> None:
    run_example(doc_example, backend)
