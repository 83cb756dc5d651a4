"""Refresh-ahead does not claim the key: every stale hit starts its own reload.

Should be caught by: the contract tier's refresh tests (a hit while a reload is in flight starts
none; eight threads and a hundred tasks on one stale entry start one reload).
"""

from mutants._pure_copy import pure_copy

# The claim's look without the lock, then its check under the lock (shared by both claims).
PEEK = (
    "    if slot in _slots:  # first without the lock: a hot key, its reload in flight\n"
    "        return None\n"
)
CLAIM = "        if slot in _slots:\n            return False\n"

name = "mutant-refresh-twice"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_refresh": [(PEEK, ""), (CLAIM, "")]}).Moka
