"""A weight above the limit is clamped to ``2**31 - 1`` (an i32's maximum) instead of ``2**32 - 1``.

Should be caught by: the contract tier (a huge weight is clamped to ``2**32 - 1``).
"""

from mutants._pure_copy import pure_copy

name = "mutant-weigher-clamp"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_validation": [
            (
                "return U32_MAX if r > U32_MAX else int(r)",
                "return 0x7FFF_FFFF if r > 0x7FFF_FFFF else int(r)",
            )
        ]
    },
).Moka
