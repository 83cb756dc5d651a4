"""A reload writes whatever happened to the entry meanwhile: it overwrites a ``set`` and brings
back a removed or cleared key's value.

Should be caught by: the contract tier's refresh tests (a set, remove or clear during a reload
wins).
"""

from mutants._pure_copy import pure_copy

CHECK = "            if found is None or found[0] is not stamp[0] or found[0].gen != stamp[1]:\n"
NO_CHECK = "            if False:\n"

name = "mutant-refresh-resurrects"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_cache": [(CHECK, NO_CHECK)]}).Moka
