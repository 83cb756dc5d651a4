"""``remove`` on a weighted cache no longer applies the queued writes first, so an update to
another weight that is still queued when its entry leaves the map is skipped (moka 0.12.16) and
``weighted_size()`` drifts by the weight it changed.

Should be caught by: the contract tier (weighted size after an update then a remove), the model
tier (settled weighted size with a weigher) and the differential tier (``weighted_size()`` compared
at every sync point).
"""

from mutants._pure_copy import pure_copy

name = "mutant-weighted-remove-keeps-queue"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "            if self._weigher is not None:\n                # Apply the queued",
                "            if False:\n                # Apply the queued",
            )
        ]
    },
).Moka
