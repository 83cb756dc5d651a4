"""``len()`` and iteration include entries that have expired but are still stored (waiting for
housekeeping), which ``get`` no longer returns: moka's ``count()`` semantics instead of API.md
section 7's.

Should be caught by: the contract tier (``len`` and iteration after a per-entry ttl passed) and the
differential expiry tier (``len``/``items()`` compared with the reference between housekeeping runs).
"""

from mutants._pure_copy import pure_copy

name = "mutant-len-counts-expired"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "                if is_valid(e, now, ttl, tti, va):\n                    live.append(e)\n",
                "                live.append(e)\n",
            )
        ]
    },
).Moka
