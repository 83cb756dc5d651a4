"""``clear()`` empties the cache but never notifies the listener (it drops the queued events).

Should be caught by: the contract tier (``clear`` reports every entry), the model tier (nothing lost)
and the differential tier (event logs compared after a ``clear()``).
"""

from mutants._pure_copy import pure_copy

name = "mutant-clear-silent"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "            self._va = now\n            if not self._events:\n",
                "            self._va = now\n"
                "            del self._events[:]\n"
                "            if not self._events:\n",
            )
        ]
    },
).Moka
