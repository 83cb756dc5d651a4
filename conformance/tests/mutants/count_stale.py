"""``count()`` is published at the START of a housekeeping cycle instead of its end, so after
``run_pending_tasks()`` it still shows the previous cycle's number (``weighted_size()`` is right).

Should be caught by: the contract tier (counts settle after ``run_pending_tasks``), the model tier
(settled counts) and the differential tier (``count()`` compared at every sync point).
"""

from mutants._pure_copy import pure_copy

name = "mutant-count-stale"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "        self._trigger_at = self._hk.run(policy, self._rlog, self._wlog)\n"
                "        self._count = policy.ec\n",
                "        self._count = policy.ec\n"
                "        self._trigger_at = self._hk.run(policy, self._rlog, self._wlog)\n",
            )
        ]
    },
).Moka
