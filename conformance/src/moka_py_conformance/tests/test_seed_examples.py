"""Every ```python block of the seed READMEs runs unchanged against the backend under test.

The blocks are read from the README files at collection time (``--moka-seeds`` or
``MOKA_PY_SEEDS``), never copied into this suite by hand.
"""

from __future__ import annotations

from moka_py_conformance._support import CodeBlock


def test_seed_example_runs(seed_example: CodeBlock) -> None:
    code = compile(seed_example.code, f"{seed_example.path}:{seed_example.line}", "exec")
    # A fresh module namespace per block; "__main__" so `if __name__ == '__main__':` bodies run too.
    namespace = {"__name__": "__main__", "__file__": str(seed_example.path)}
    exec(code, namespace)
