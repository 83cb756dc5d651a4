"""``get_with`` does not coalesce: a thread that finds another thread's initialization in progress
starts its own instead of waiting, so the initializer runs more than once under contention.

(The recursion check is kept: only callers from OTHER threads stop waiting.)

Should be caught by: the contract tier (``get_with`` from many threads at once runs the initializer
once) and the ``cached(wait_concurrent=True)`` tests.
"""

from mutants._pure_copy import pure_copy

name = "mutant-init-twice"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            (
                "                if waiter is None:\n",
                "                if waiter is None or waiter.owner != me:\n",
            ),
        ]
    },
).Moka
