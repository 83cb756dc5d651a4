"""TinyLFU admission: a tie in frequency ADMITS the candidate (moka rejects it: it must be strictly
more popular than its victims).

Should be caught by: the contract tier (a cold newcomer to a full cache of cold entries is a tie at
frequency 0) and the differential tier (tiny_lfu lockstep against the reference).
"""

from mutants._pure_copy import pure_copy

name = "mutant-tie-admits"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_policy": [
            (
                "if vic_weight >= cand_weight and cand_freq > vic_freq:",
                "if vic_weight >= cand_weight and cand_freq >= vic_freq:",
            )
        ]
    },
).Moka
