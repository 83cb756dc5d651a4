"""Write the generated copies in the backends: ``Moka``'s docstrings and the shared Python modules.

The docstrings are written once, in ``packages/moka-py-core/src/moka_py/_typing.pyi`` (what type
checkers, IDEs and the API reference read).  The backends cannot read that file when they are
imported: the Rust extension's docstrings are compiled in, and the pure backend imports without
``moka_py`` (whose import selects a backend, so importing it from a backend would be circular).
So this script writes a copy into each:

* ``packages/moka-py-pure/src/moka_py_pure/_docstrings.py``, which ``moka_py_pure._cache`` applies
  to its ``Moka`` at import;
* ``packages/moka-py-rust/src/docstrings.rs``, a ``moka_doc!(name)`` macro that the ``#[doc]``
  attributes of the Rust ``Moka`` expand.

It also copies ``moka_py_pure/_aload.py`` (``aget_with``'s asyncio part) and ``_refresh.py``
(refresh-ahead) into ``moka_py_rust``, for the same reason: neither backend depends on another
package.

``python tools/generate.py`` rewrites every copy; ``--check`` only reports (exit 1) a copy that differs
from what it would write.  The lint session runs the check, and the backend-parity test compares
what ``help()`` shows on each backend.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "packages" / "moka-py-core" / "src" / "moka_py" / "_typing.pyi"
PURE = ROOT / "packages" / "moka-py-pure" / "src" / "moka_py_pure" / "_docstrings.py"
RUST = ROOT / "packages" / "moka-py-rust" / "src" / "docstrings.rs"
CLASS = "Moka"
# ``aget_with``'s asyncio coalescing, written once in the pure backend and copied into the Rust
# backend's Python part: the two packages share no dependency (API.md section 1).
ALOAD = ROOT / "packages" / "moka-py-pure" / "src" / "moka_py_pure" / "_aload.py"
ALOAD_COPY = ROOT / "packages" / "moka-py-rust" / "python" / "moka_py_rust" / "_aload.py"
REFRESH = ALOAD.with_name("_refresh.py")
REFRESH_COPY = ALOAD_COPY.with_name("_refresh.py")
# copy -> the file it is copied from
COPIES = {ALOAD_COPY: ALOAD, REFRESH_COPY: REFRESH}

_HEADER = f"generated from {SOURCE.relative_to(ROOT)}\nby tools/generate.py: do not edit"


def read(source: Path = SOURCE) -> dict[str, str]:
    """``{name: docstring}`` of the class (under its own name) and of its documented members.

    Docstrings are cleaned as ``inspect.cleandoc`` does (what ``help()`` shows).  An overloaded
    method's docstring is the one on its first overload.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == CLASS)
    docs: dict[str, str] = {}
    class_doc = ast.get_docstring(cls, clean=True)
    if class_doc is None:
        raise ValueError(f"{source}: class {CLASS} has no docstring")
    docs[CLASS] = class_doc
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name not in docs:
            doc = ast.get_docstring(node, clean=True)
            if doc is not None:
                docs[node.name] = doc
    return docs


def _python_literal(text: str) -> str:
    if '"""' in text or "\\" in text or text.endswith('"'):
        return repr(text)
    return '"""' + text + '"""'


def render_python(docs: dict[str, str]) -> str:
    lines = [
        f'"""The public docstrings of ``Moka``, {_HEADER}."""',
        "",
        "MOKA: dict[str, str] = {",
    ]
    for name, doc in docs.items():
        lines.append(f'    "{name}": {_python_literal(doc)},')
    lines.append("}")
    lines.append(f'"""``{{name: docstring}}``: the class under ``{CLASS!r}``, then its members."""')
    return "\n".join(lines) + "\n"


def _rust_literal(text: str) -> str:
    hashes = "#"
    while f'"{hashes}' in text:
        hashes += "#"
    return f'r{hashes}"{text}"{hashes}'


def render_rust(docs: dict[str, str]) -> str:
    lines = [
        *(f"//! {line}" for line in f"The public docstrings of `Moka`, {_HEADER}.".split("\n")),
        "//!",
        "//! `#[doc = moka_doc!(name)]` is the docstring of the class (`Moka`) or of one of its",
        "//! members; PyO3 turns it into the Python `__doc__`.",
        "",
        "macro_rules! moka_doc {",
    ]
    for name, doc in docs.items():
        lines.append(f"    ({name}) => {{")
        lines.append(f"        {_rust_literal(doc)}")
        lines.append("    };")
    lines.append("}")
    lines.append("pub(crate) use moka_doc;")
    return "\n".join(lines) + "\n"


def outputs(source: Path = SOURCE) -> dict[Path, str]:
    """Every generated file and the text it must have."""
    docs = read(source)
    out = {PURE: render_python(docs), RUST: render_rust(docs)}
    for copy, origin in COPIES.items():
        header = f"# generated from {origin.relative_to(ROOT)} by tools/generate.py: do not edit\n"
        out[copy] = header + origin.read_text(encoding="utf-8")
    return out


def stale(source: Path = SOURCE) -> list[Path]:
    """The generated files whose text differs from what :func:`outputs` gives."""
    return [
        path
        for path, text in outputs(source).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=inspect.cleandoc(__doc__ or "").split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale copies, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            origin = COPIES.get(path, SOURCE)
            print(f"{path.relative_to(ROOT)} differs from {origin.relative_to(ROOT)}: "
                  "run python tools/generate.py", file=sys.stderr)
        return 1 if out_of_date else 0
    for path, text in outputs().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
