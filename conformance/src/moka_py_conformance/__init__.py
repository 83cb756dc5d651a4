"""The moka-py conformance suite.

Run it against any installed backend with::

    pytest --pyargs moka_py_conformance --moka-backend NAME
"""

__version__ = "1.0.0.dev0"
