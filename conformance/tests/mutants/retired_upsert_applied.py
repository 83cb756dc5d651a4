"""Housekeeping applies the queued upsert of an entry that has already left the map (moka 0.12.14's
behaviour, moka#590): it is admitted (then unlinked by its remove record), and may evict others.

Should be caught by: the differential tier (events and counts against the reference at sync
points, e.g. a removed key's queued insert admitted and evicting a victim) and the model tier
(settled counts above the entries present).
"""

from mutants._pure_copy import pure_copy

name = "mutant-retired-upsert-applied"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_policy": [
            (
                "                if e.retired:\n"
                "                    pass  # left the map since: only the policy generation moves on\n"
                "                elif e.admitted",
                "                if e.admitted",
            ),
            (
                "        if e.retired:\n            # Removed from the map since",
                "        if False:\n            # Removed from the map since",
            ),
            (
                "        if e.retired:\n            return  # moka 0.12.16 re-checks",
                "        if False:\n            return  # moka 0.12.16 re-checks",
            ),
        ]
    },
).Moka
