"""When a ``get_with`` initializer raises, its exception object is stored as the key's value (the
callers still get the exception; later reads get the exception object as a cached value).

Should be caught by: the contract tier (nothing is cached on error), the model tier and the
``cached`` tests (exceptions are not cached).
"""

from mutants._pure_copy import pure_copy

RUN_INITIALIZER = "                value = initializer()\n"
CACHE_ITS_ERROR = """\
                try:
                    value = initializer()
                except Exception as error:
                    self._insert(key, h, error, pttl, ptti)
                    raise
"""

name = "mutant-caches-exception"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_cache": [(RUN_INITIALIZER, CACHE_ITS_ERROR)]}).Moka
