"""A minimal moka-py backend, written as a teaching example for backend authors.

This module is what the ``moka_py.backends`` entry point loads, so it carries the
attributes ``moka_py`` looks for (see ``moka_py._protocol.Backend``):

* ``name`` must equal the entry point's name (``example``);
* ``priority`` is below the shipped backends (pure 10, rust 20), so that
  ``import moka_py`` only picks this one when asked: ``MOKA_PY_BACKEND=example``;
* ``exact`` is False: the cache keeps the whole contract, but its eviction
  decisions are plain LRU, not moka's, so the differential tier does not apply;
* ``Moka`` is the cache class; there is no ``cached``, so ``moka_py.cached``
  builds its generic decorator on top of ``Moka``.
"""

from moka_py_example_backend._cache import Moka

__all__ = ["Moka", "__version__", "exact", "name", "priority"]

__version__ = "1.0.0.dev0"
name = "example"
priority = 0
exact = False
