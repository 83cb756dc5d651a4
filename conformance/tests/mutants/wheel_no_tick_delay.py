"""The timer wheel also visits the current level-0 bucket when its tick has not advanced, so an entry
past its per-entry deadline is removed (and reported ``"expired"``) at the next housekeeping, instead
of lingering in the map, still counted, until a cycle runs in a later 1.07 s bucket as in moka.

The contract allows housekeeping to remove an expired entry at any cycle, so only a comparison with
moka's own timing can see this: should be caught by the differential tier's real-time expiry test.
"""

from mutants._pure_copy import pure_copy

name = "mutant-wheel-no-tick-delay"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_timer_wheel": [
            (
                "            if cur_ticks <= prev_ticks:\n                break",
                "            if level > 0 and cur_ticks <= prev_ticks:\n                break",
            )
        ]
    },
).Moka
