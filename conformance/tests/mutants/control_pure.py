"""The control: the pure backend, copied and registered exactly like a mutant, with nothing broken.

The suite must PASS against it; otherwise failures of the mutants could come from the harness.
"""

from mutants._pure_copy import pure_copy

name = "control-pure"
priority = 0
exact = True
__version__ = "0+control"
Moka = pure_copy(name, {}).Moka
