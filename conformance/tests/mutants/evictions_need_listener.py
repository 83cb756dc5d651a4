"""The size trim (``evict_lru_entries``) counts its evictions in ``stats()`` only when there is a listener.

API.md section 7: ``evictions`` counts every removal, listener or not. Should be caught by: the
contract tier (``stats()`` of a cache without a listener) and the differential tier (its caches
without a listener compare ``stats()``).
"""

from mutants._pure_copy import pure_copy

name = "mutant-evictions-need-listener"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_policy": [
            (
                "            self.evictions[SIZE] += 1  # the statistics (see notify)\n"
                "            self.evicted_weight += weight\n",
                "            if notify:\n"
                "                self.evictions[SIZE] += 1\n"
                "                self.evicted_weight += weight\n",
            )
        ]
    },
).Moka
