"""When an ``aget_with`` load raises, its exception object is stored as the key's value (the awaiters
still get the exception; later reads get the exception object as a cached value).

Should be caught by: the contract tier's ``aget_with`` tests (nothing is stored on error).
"""

from mutants._pure_copy import pure_copy

AWAIT_INITIALIZER = "            value = await initializer()\n"
CACHE_ITS_ERROR = """\
            try:
                value = await initializer()
            except Exception as error:
                cache.set(key, error, ttl, tti)
                raise
"""

name = "mutant-aload-caches-exception"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_aload": [(AWAIT_INITIALIZER, CACHE_ITS_ERROR)]}).Moka
