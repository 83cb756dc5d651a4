"""The value that ``set`` overwrites is reported with cause ``"explicit"`` instead of ``"replaced"``.

Should be caught by: the contract tier (listener tests of ``set`` over an existing key), the model
tier (causes right) and the differential tier (event logs compared).
"""

from mutants._pure_copy import pure_copy

name = "mutant-replaced-as-explicit"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_expiry": [("    cause = REPLACED\n", "    cause = EXPLICIT\n")]}).Moka
