"""Key hashing shared with the Rust backend (docs/internals/moka-algorithms.md, "Key hashing").

The Rust backend feeds moka a ``BuildHasher`` that returns ``fmix64(hash(k) mod 2**64)``; moka then
uses that value for its map, its frequency sketch and its ``Miss(hash)`` read records.  The pure
backend keys its map by the raw ``hash(k)`` (see ``_keymap``), so it only needs the mixed value for
the sketch, and computes it lazily from the raw hash (see ``Entry.sk``).
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import hash
from collections.abc import Hashable

U64 = 0xFFFF_FFFF_FFFF_FFFF


def fmix64(k: int) -> int:
    """murmur3's 64-bit finalizer on a value in ``[0, 2**64)``."""
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & U64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & U64
    k ^= k >> 33
    return k


def mix_raw_hash(raw: int) -> int:
    """The moka hash of a key whose Python ``hash()`` is ``raw``."""
    return fmix64(raw & U64)


def key_hash(key: Hashable) -> int:
    """``fmix64(hash(key) mod 2**64)``: the hash moka sees for ``key``."""
    return fmix64(hash(key) & U64)
