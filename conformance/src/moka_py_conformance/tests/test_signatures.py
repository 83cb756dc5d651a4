"""The parameters of ``Moka`` and its methods are the contract's (API.md section 3).

A caller passes ``Moka(10, ttl=1)`` or ``cache.get(key, default=0)`` by name: the names, kinds and
defaults of every backend's parameters are those of ``moka_py.Moka`` as declared in
``moka_py/_typing.pyi`` (what type checkers read), and no backend adds a parameter of its own.
Annotations are not compared: a compiled backend's signature cannot carry any.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import moka_py
import pytest

pytestmark = pytest.mark.contract  # the contract tier (conformance README)

STUB = Path(moka_py.__file__).resolve().parent / "_typing.pyi"

Params = list[tuple[str, str, Any]]
"""``(name, kind, default)`` of each parameter after ``self``."""


def _declared() -> dict[str, Params]:
    """The parameters of ``__init__`` and of every public method the stub declares.

    An overloaded method (``get``, ``remove``) takes the union of its overloads: a parameter that
    only the wider overload has is optional, with the contract's default ``None``, or the default
    that overload gives it (``pop``'s ``...``: no default, ``KeyError``).
    """
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Moka")
    declared: dict[str, Params] = {}
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef) or (node.name[0] == "_" and node.name != "__init__"):
            continue
        decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if "property" in decorators:
            continue
        params = _params(node)
        narrower = declared.get(node.name) if "overload" in decorators else None
        if narrower is not None:
            known = {name for name, _, _ in narrower}
            params = [
                (n, k, d if n in known else None if d is inspect.Parameter.empty else d) for n, k, d in params
            ]
        declared[node.name] = params
    return declared


def _params(node: ast.FunctionDef) -> Params:
    args = node.args
    positional = [(a.arg, "POSITIONAL_ONLY") for a in args.posonlyargs]
    positional += [(a.arg, "POSITIONAL_OR_KEYWORD") for a in args.args]
    defaults: list[Any] = [inspect.Parameter.empty] * (len(positional) - len(args.defaults))
    defaults += [ast.literal_eval(d) for d in args.defaults]
    params: Params = [(name, kind, d) for (name, kind), d in zip(positional, defaults)][1:]  # no self
    if args.vararg is not None:
        params.append((args.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        params.append((a.arg, "KEYWORD_ONLY", inspect.Parameter.empty if d is None else ast.literal_eval(d)))
    if args.kwarg is not None:
        params.append((args.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    return params


DECLARED = _declared()


def _actual(func: Any) -> Params:
    sig = inspect.signature(func)
    return [(p.name, p.kind.name, p.default) for p in sig.parameters.values()]


def test_the_stub_declares_the_methods() -> None:
    assert {"__init__", "set", "get", "get_with", "remove", "clear", "count", "run_pending_tasks"} <= set(
        DECLARED
    )


def test_constructor_parameters() -> None:
    assert _actual(moka_py.Moka) == DECLARED["__init__"]


@pytest.mark.parametrize("method", sorted(set(DECLARED) - {"__init__"}))
def test_method_parameters(method: str) -> None:
    cache: Any = moka_py.Moka(10)
    assert _actual(getattr(cache, method)) == DECLARED[method]
