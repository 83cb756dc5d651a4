"""``remove_if`` removes the entries its predicate accepts without telling the listener: the
removed values are lost (neither readable nor reported), and ``stats().evictions`` misses them.

Should be caught by: the contract tier (``remove_if``'s events), the model tier (a value in the
map when ``remove_if`` returned was never reported) and the differential tier (events compared
with the reference).
"""

from mutants._pure_copy import pure_copy

name = "mutant-remove-if-silent"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "            if predicate(key, value) and "
                "self._remove(key, hash(key), written) is not _MISSING:\n"
                "                removed += 1\n",
                "            if predicate(key, value):\n"
                "                with self._lock:\n"
                "                    gone = self._unlink(key, hash(key), written)\n"
                "                    del self._events[:]\n"
                "                if gone is not _MISSING:\n"
                "                    removed += 1\n",
            )
        ]
    },
).Moka
