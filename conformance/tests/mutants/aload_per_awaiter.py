"""``aget_with`` does not coalesce: every awaiter that misses starts its own load.

Should be caught by: the contract tier's ``aget_with`` tests (N awaiters, one load) and the async
``cached(wait_concurrent=True)`` tests.
"""

from mutants._pure_copy import pure_copy

SHARE_THE_LOAD = "    task = _in_flight.get(slot)\n"
LOAD_ALONE = "    task = None\n"

name = "mutant-aload-per-awaiter"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_aload": [(SHARE_THE_LOAD, LOAD_ALONE)]}).Moka
