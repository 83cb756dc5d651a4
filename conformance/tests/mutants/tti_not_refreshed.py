"""``get`` does not refresh an entry's last-access time, so a cache-wide ``tti`` expires entries
that are read all the time (as if it were a ttl). ``get_with`` hits and per-entry tti still work.

Should be caught by: a real-time contract test that keeps reading an entry past its tti.
"""

from mutants._pure_copy import pure_copy

name = "mutant-tti-not-refreshed"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "                e.la = now\n                value = e.value\n",
                "                value = e.value\n",
            )
        ]
    },
).Moka
