"""Load a private copy of ``moka_py_pure`` with a few source edits, leaving the original untouched.

A mutant must not patch ``moka_py_pure`` itself: the differential tier compares the backend under
test against ``moka_py_pure`` in the same process, so a global patch would break the reference too
and hide the mutant. Instead each mutant imports its own copy of the package under another name
(``_moka_py_pure_<mutant>``), compiled from the installed sources with exact-text replacements.

Every replacement must match exactly once; otherwise loading fails, so a change in the pure
backend's source that a mutant no longer fits is noticed at once (the teeth test then reports the
import error instead of a "caught" mutant).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import moka_py_pure

Edit = tuple[str, str]
"""``(old, new)``: exact source text and its replacement."""

PURE_DIR = Path(moka_py_pure.__file__).resolve().parent


def apply_edits(source: str, edits: Sequence[Edit], where: str) -> str:
    for old, new in edits:
        found = source.count(old)
        if found != 1:
            raise ImportError(f"mutant edit expected exactly one match in {where}, found {found}: {old!r}")
        source = source.replace(old, new)
    return source


class _CopyLoader(importlib.abc.Loader):
    """Compiles one module of the copy from the pure backend's source, edited."""

    def __init__(self, edits: Sequence[Edit]) -> None:
        self.edits = edits

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        path = module.__file__
        assert path is not None
        source = apply_edits(Path(path).read_text(encoding="utf-8"), self.edits, f"{module.__name__}")
        exec(compile(source, path, "exec"), module.__dict__)


class _CopyFinder(importlib.abc.MetaPathFinder):
    """Answers only for the copy's package name and its submodules."""

    def __init__(self, package: str, edits: Mapping[str, Sequence[Edit]]) -> None:
        self.package = package
        self.edits = edits

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.package:
            file, module, search = PURE_DIR / "__init__.py", "__init__", [str(PURE_DIR)]
        elif fullname.startswith(self.package + "."):
            module = fullname[len(self.package) + 1 :]
            file, search = PURE_DIR / f"{module}.py", None
        else:
            return None
        loader = _CopyLoader(self.edits.get(module, ()))
        return importlib.util.spec_from_file_location(
            fullname, file, loader=loader, submodule_search_locations=search
        )


def pure_copy(backend_name: str, edits: Mapping[str, Sequence[Edit]]) -> ModuleType:
    """Import a copy of ``moka_py_pure`` whose modules get ``edits`` (keyed by module name, e.g.
    ``"_policy"``), and whose ``repr`` names ``backend_name``; return the copy's package."""
    package = "_moka_py_pure_" + backend_name.replace("-", "_")
    if package in sys.modules:
        return sys.modules[package]
    unknown = set(edits) - {p.stem for p in PURE_DIR.glob("*.py")}
    if unknown:
        raise ImportError(f"no such module in moka_py_pure: {sorted(unknown)}")
    renamed = {**edits, "_cache": [*edits.get("_cache", ()), _rename(backend_name)]}
    sys.meta_path.insert(0, _CopyFinder(package, renamed))
    return importlib.import_module(package)


def _rename(backend_name: str) -> Edit:
    return 'BACKEND_NAME = "pure"', f"BACKEND_NAME = {backend_name!r}"
