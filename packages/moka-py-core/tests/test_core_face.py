"""One face on both shipped backends: what ``help()`` and ``inspect.signature`` show.

``moka_py.Moka``'s docstrings are written once, in ``moka_py/_typing.pyi``, and copied into the
backends by ``tools/generate.py``; ``cached`` and its wrapper's methods take theirs from
``moka_py._cached``. These tests compare what each backend shows with that source, and the two
backends with each other (where both are installed: the Rust session has both, the pure one skips).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moka_py import _cached

ROOT = Path(__file__).resolve().parents[3]
BACKENDS = ["pure", "rust"]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_tool", ROOT / "tools" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
SOURCE_DOCS: dict[str, str] = TOOL.read()


def _stub_members() -> list[str]:
    """Every method and property the stub declares, ``__init__`` aside (the class's signature)."""
    tree = ast.parse(TOOL.SOURCE.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Moka")
    names = [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"]
    return list(dict.fromkeys(names))


MEMBERS = _stub_members()


def backend_module(name: str) -> ModuleType:
    return pytest.importorskip(f"moka_py_{name}", reason=f"the {name} backend is not installed")


def moka_face(cls: type) -> dict[str, tuple[str | None, str | None]]:
    """``{member: (docstring as help() shows it, signature)}`` of a backend's ``Moka``."""
    face: dict[str, tuple[str | None, str | None]] = {
        "Moka": (inspect.getdoc(cls), str(inspect.signature(cls)))
    }
    for name in MEMBERS:
        member = getattr(cls, name)
        if inspect.isdatadescriptor(member):  # a property, or a compiled getter
            face[name] = (member.__doc__, None)
            continue
        # A special method without a docstring of its own in the stub (__contains__) shows the
        # interpreter's text on a compiled class ("Return bool(key in self)."): its docstring is
        # the backend's, its signature is compared.
        doc = inspect.getdoc(member) if name in SOURCE_DOCS else None
        face[name] = (doc, str(inspect.signature(member)))
    return face


def cached_face(cached: Any) -> dict[str, tuple[str | None, inspect.Signature]]:
    """``cached`` itself, a wrapper made by it, and the wrapper's methods."""

    def plain(x: int, *, y: int = 0) -> int:
        """A plain function."""
        return x + y

    wrapper = cached(maxsize=8)(plain)  # the native path on the Rust backend
    face = {
        "cached": (inspect.getdoc(cached), inspect.signature(cached)),
        "wrapper": (inspect.getdoc(wrapper), inspect.signature(wrapper)),
    }
    for name in ("cache_info", "cache_clear", "cache_parameters"):
        method = getattr(wrapper, name)
        face[name] = (inspect.getdoc(method), inspect.signature(method))
    return face


def test_generated_copies_are_current() -> None:
    assert TOOL.stale() == [], "run python tools/generate.py"


def test_the_source_documents_every_public_member() -> None:
    public = [name for name in MEMBERS if not name.startswith("_")]
    assert public and all(name in SOURCE_DOCS for name in public), set(public) - set(SOURCE_DOCS)
    assert "Moka" in SOURCE_DOCS


@pytest.mark.parametrize("name", BACKENDS)
def test_moka_shows_the_source_docstrings(name: str) -> None:
    cls = backend_module(name).Moka
    face = moka_face(cls)
    for member, doc in SOURCE_DOCS.items():
        assert face[member][0] == doc, f"{name}: {member}"
    assert {n for n in dir(cls) if not n.startswith("_")} == {n for n in MEMBERS if not n.startswith("_")}


@pytest.mark.parametrize("name", BACKENDS)
def test_moka_signatures_have_no_private_parameters(name: str) -> None:
    cls = backend_module(name).Moka
    signatures = [inspect.signature(cls)] + [
        inspect.signature(getattr(cls, member)) for member in MEMBERS if callable(getattr(cls, member))
    ]
    for sig in signatures:
        assert [p for p in sig.parameters if p.startswith("_")] == [], sig
    assert list(inspect.signature(cls).parameters) == [
        "capacity", "ttl", "tti", "eviction_listener", "policy", "weigher",
    ]  # fmt: skip


def test_moka_is_the_same_on_both_backends() -> None:
    pure, rust = (moka_face(backend_module(name).Moka) for name in BACKENDS)
    assert pure == rust


@pytest.mark.parametrize("name", BACKENDS)
def test_cached_is_the_generic_ones(name: str) -> None:
    # A backend's own cached shows the generic decorator's face (docstring, full signature with
    # annotations, the wrapper's methods), whatever its wrapper is made of.
    assert cached_face(backend_module(name).cached) == cached_face(_cached.cached)


def test_cached_is_the_same_on_both_backends() -> None:
    pure, rust = (cached_face(backend_module(name).cached) for name in BACKENDS)
    assert pure == rust


def test_cached_shows_the_complete_docstring() -> None:
    doc = inspect.getdoc(_cached.cached)
    assert doc is not None and len(doc.splitlines()) > 10  # not a stub pointing elsewhere
    for parameter in inspect.signature(_cached.cached).parameters:
        assert f"``{parameter}" in doc, parameter  # ``weigher(key, value)`` counts
