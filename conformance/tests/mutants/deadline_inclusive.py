"""``>`` instead of ``>=`` at the expiry deadline: an entry is still served AT its deadline (moka:
expired when ``deadline <= now``; here only when ``deadline < now``).

UNDETECTABLE by a black-box suite: the deadline and ``now`` are nanosecond clock readings, and a test
cannot make a read happen on the exact nanosecond of a deadline (nor can any user). ``test_teeth``
shows with an injected clock that this copy does serve an entry at its deadline while the pure
backend does not, and does not run the suite against it.
"""

from mutants._pure_copy import pure_copy

HIT_TEST = "            ((x := e.exp) is None or x"
UNDETECTABLE = "the deadline and now are nanosecond readings of a real clock; equality cannot be staged"

name = "mutant-deadline-inclusive"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_expiry": [
            ("    if x is not None and x <= now:\n", "    if x is not None and x < now:\n"),
            (
                "    if ttl is not None and sat_add(e.lm, ttl) <= now:\n        return False\n",
                "    if ttl is not None and sat_add(e.lm, ttl) < now:\n        return False\n",
            ),
            (
                "    if tti is not None and sat_add(e.la, tti) <= now:\n        return False\n",
                "    if tti is not None and sat_add(e.la, tti) < now:\n        return False\n",
            ),
        ],
        "_cache": [  # get's and get_with's lock-free hit tests
            (f"{kw} (\n{HIT_TEST} > now)", f"{kw} (\n{HIT_TEST} >= now)")
            for kw in ("        if", "        elif")
        ],
    },
).Moka
