"""Argument checks with the exact types and messages shared with the Rust backend.

See docs/internals/moka-algorithms.md, "Argument validation".

Every check runs before anything in the cache changes.
"""

from __future__ import annotations

import math

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import bool, callable, float, int, isinstance, round, str, type  # noqa: UP029
from typing import Any

U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1
MAX_DURATION_SECS = 31_536_000_000  # 1000 years, moka's builder limit (inclusive)

TINY_LFU = "tiny_lfu"
LRU = "lru"


def _tname(x: object) -> str:
    return type(x).__name__


def check_capacity(x: object) -> int | None:
    if x is None:
        return None
    if not isinstance(x, int) or isinstance(x, bool):
        raise TypeError(f"capacity must be an int or None, not {_tname(x)}")
    if x < 0:
        raise ValueError(f"capacity must be >= 0, got {x}")
    if x > U64_MAX:
        raise ValueError(f"capacity must be at most 2**64 - 1, got {x}")
    return int(x)


def duration_ns(name: str, x: object) -> int | None:
    """Seconds (int or float) to nanoseconds: ints exactly, floats as ``round(secs * 1e9)``."""
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a number of seconds (int or float) or None, not {_tname(x)}")
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x) or x <= 0 or x > MAX_DURATION_SECS:
            raise ValueError(
                f"{name} must be finite, > 0 and at most 1000 years (31536000000 seconds), got {x!r}"
            )
        return round(x * 1e9)
    if x <= 0 or x > MAX_DURATION_SECS:
        raise ValueError(
            f"{name} must be finite, > 0 and at most 1000 years (31536000000 seconds), got {x!r}"
        )
    return int(x) * 1_000_000_000


def check_policy(x: object) -> str:
    if not isinstance(x, str):
        raise TypeError(f"policy must be 'tiny_lfu' or 'lru', not {_tname(x)}")
    if x != TINY_LFU and x != LRU:
        raise ValueError(f"policy must be 'tiny_lfu' or 'lru', got {x!r}")
    return TINY_LFU if x == TINY_LFU else LRU


def check_optional_callable(name: str, x: object) -> None:
    if x is not None and not callable(x):
        raise TypeError(f"{name} must be callable or None, not {_tname(x)}")


def check_initializer(x: object) -> None:
    if not callable(x):
        raise TypeError(f"initializer must be callable, not {_tname(x)}")


def check_weight(r: Any) -> int:
    """Validate a weigher's result; values above ``2**32 - 1`` are clamped (moka stores a u32)."""
    if not isinstance(r, int) or isinstance(r, bool):
        raise TypeError(f"weigher must return an int, not {_tname(r)}")
    if r < 0:
        raise ValueError(f"weigher must return an int >= 0, got {r}")
    return U32_MAX if r > U32_MAX else int(r)
