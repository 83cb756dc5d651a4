"""``peek`` is a recorded read: it counts in the statistics and the frequency sketch, moves the
entry in the LRU order and renews its time to idle, like ``get``.

Should be caught by: the contract tier (``stats()`` after a peek; an idle entry kept alive by
peeks), the model tier's ledger cannot see it (a peek of a present key changes no value), and the
differential tier (statistics and eviction decisions compared with the reference).
"""

from mutants._pure_copy import pure_copy

name = "mutant-peek-records-read"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "        with self._lock:\n            found = self._find_live(key, h)\n"
                "            return default if found is None else found[0].value\n\n"
                "    @overload\n    def expires_in",
                "        return self._get_locked(key, h, default)\n\n    @overload\n    def expires_in",
            )
        ]
    },
).Moka
