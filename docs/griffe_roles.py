"""A Griffe extension for the API reference: what the stubs and docstrings mean, rendered.

* reST roles (``:class:`Backend```, ``:func:`moka_py.backend```) become plain code spans of the
  name (``~`` dropped): the project's docstrings name objects the Sphinx way, which Markdown would
  show as role markup.
* A stub method given only as ``@overload`` definitions (``get`` and ``remove`` in the ``.pyi``
  files: a stub has no implementation to attach them to) is documented as one method: the
  signature of its widest overload, where a parameter that the other overloads omit is shown with
  its run-time default ``None``, the docstring of the first overload that has one, and every
  overload listed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj):`~?([^`]+)`")


class ReSTRoles(griffe.Extension):
    """Rewrite reST roles as code spans, and give overload-only stub methods a documented member."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, overloads in list(cls.overloads.items()):
            if not overloads or name in cls.members:
                continue
            widest = max(overloads, key=lambda f: len(f.parameters))
            # New parameters, sharing the annotations: a deep copy would copy what the annotation
            # expressions refer to (their modules), which grows with every overload-only method.
            parameters = griffe.Parameters(
                *(
                    griffe.Parameter(
                        p.name,
                        annotation=p.annotation,
                        kind=p.kind,
                        default="None"
                        if p.default is None and any(p.name not in f.parameters for f in overloads)
                        else p.default,
                    )
                    for p in widest.parameters
                )
            )
            docstring = next((f.docstring for f in overloads if f.docstring is not None), None)
            for overload in overloads:
                overload.docstring = None
            function = griffe.Function(
                name,
                lineno=overloads[0].lineno,
                endlineno=overloads[-1].endlineno,
                parameters=parameters,
                docstring=docstring,
                parent=cls,
            )
            function.overloads = overloads
            cls.set_member(name, function)
            del cls.overloads[name]
