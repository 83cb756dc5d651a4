"""A value evicted by the size trim (``evict_lru_entries``) disappears without a ``"size"`` event.

Should be caught by: the contract tier (every value is readable or was reported), the model tier
(nothing lost) and the differential tier (event logs compared).
"""

from mutants._pure_copy import pure_copy

name = "mutant-silent-eviction"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_policy": [
            (
                "            if notify:\n"
                "                events.append((info.key, cur.value, SIZE))\n"
                "            evictions += 1\n",
                "            evictions += 1\n",
            )
        ]
    },
).Moka
