"""moka's count-min frequency sketch (``common/frequency_sketch.rs``), bit for bit.

Four 4-bit counters per key, spread over ``table_len`` u64 words; all arithmetic wraps like moka's
u64/u32 arithmetic in a release build.  The sketch starts empty (``increment`` is a no-op and
``frequency`` returns 0) until ``ensure_capacity`` is called once, when the cache is half full
(see ``Policy.maybe_enable_sketch``).
"""

from __future__ import annotations

from typing import Dict, List, Union

U64 = 0xFFFF_FFFF_FFFF_FFFF
U32 = 0xFFFF_FFFF
I32_MAX = 0x7FFF_FFFF

SEED0 = 0xC3A5C85C97CB3127
SEED1 = 0xB492B66FBE98F273
SEED2 = 0x9AE16A3B2F90404F
SEED3 = 0xCBF29CE484222325
SEED = (SEED0, SEED1, SEED2, SEED3)
RESET_MASK = 0x7777_7777_7777_7777
ONE_MASK = 0x1111_1111_1111_1111

# Tables up to this many words are a plain list; larger ones (moka allows 2**30 words, which moka gets
# from calloc'ed, lazily mapped memory) are a sparse dict whose missing words read as 0.  Both hold
# exactly the same values, so the algorithm's results do not depend on the representation.
DENSE_TABLE_LIMIT = 1 << 22


class _SparseTable(Dict[int, int]):
    """A dict of table words that reads a missing word as 0."""

    def __missing__(self, index: int) -> int:
        return 0


Table = Union[List[int], _SparseTable]


def sketch_capacity(cache_capacity: int) -> int:
    """moka's ``common::sketch_capacity``: clamp to ``[128, u32::MAX]``."""
    return max(min(cache_capacity, U32), 128)


def _next_power_of_two(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def _popcount(x: int) -> int:
    return bin(x).count("1")


class FrequencySketch:
    """The popularity estimator used by TinyLFU admission."""

    __slots__ = ("enabled", "sample_size", "table_mask", "table", "size")

    def __init__(self) -> None:
        self.enabled = False  # moka: `table.is_empty()` is the "disabled" state
        self.sample_size = 0
        self.table_mask = 0
        self.table: Table = []
        self.size = 0

    def table_len(self) -> int:
        """Number of u64 words in the table (0 while the sketch is disabled)."""
        return self.table_mask + 1 if self.enabled else 0

    def ensure_capacity(self, cap: int) -> None:
        """``FrequencySketch::ensure_capacity(cap: u32)`` on a 64-bit target."""
        maximum = min(cap, 1 << 30)
        table_size = 1 if maximum == 0 else _next_power_of_two(maximum)
        if self.table_len() >= table_size:
            return
        if table_size <= DENSE_TABLE_LIMIT:
            self.table = [0] * table_size
        else:
            self.table = _SparseTable()
        self.enabled = True
        self.table_mask = table_size - 1
        self.sample_size = 10 if cap == 0 else min(min(maximum * 10, U32), I32_MAX)
        # `size` is deliberately left as it is, like moka.

    def frequency(self, h: int) -> int:
        """The estimated frequency (0..15) of the key whose moka hash is ``h``."""
        if not self.enabled:
            return 0
        t = self.table
        mask = self.table_mask
        start = (h & 3) << 2
        x = ((h + SEED0) * SEED0) & U64
        f = (t[(x + (x >> 32)) & mask] >> (start << 2)) & 15
        x = ((h + SEED1) * SEED1) & U64
        c = (t[(x + (x >> 32)) & mask] >> ((start + 1) << 2)) & 15
        if c < f:
            f = c
        x = ((h + SEED2) * SEED2) & U64
        c = (t[(x + (x >> 32)) & mask] >> ((start + 2) << 2)) & 15
        if c < f:
            f = c
        x = ((h + SEED3) * SEED3) & U64
        c = (t[(x + (x >> 32)) & mask] >> ((start + 3) << 2)) & 15
        if c < f:
            f = c
        return f

    def increment(self, h: int) -> None:
        """Add one to each of the key's four counters that is below 15."""
        if not self.enabled:
            return
        t = self.table
        mask = self.table_mask
        start = (h & 3) << 2
        added = False
        for i in range(4):
            s = SEED[i]
            x = ((h + s) * s) & U64
            idx = (x + (x >> 32)) & mask
            off = (start + i) << 2
            w = t[idx]
            if (w >> off) & 15 != 15:
                t[idx] = w + (1 << off)
                added = True
        if added:
            self.size = (self.size + 1) & U32
            if self.size >= self.sample_size:
                self.reset()

    def reset(self) -> None:
        """Halve every counter; ``size = (size >> 1) - (odd >> 2)`` in wrapping u32 arithmetic."""
        t = self.table
        if isinstance(t, list):
            odd = sum(_popcount(w & ONE_MASK) for w in t if w)
            self.table = [(w >> 1) & RESET_MASK for w in t]
        else:
            odd = sum(_popcount(w & ONE_MASK) for w in t.values())
            new = _SparseTable()
            for i, w in t.items():
                w = (w >> 1) & RESET_MASK
                if w:
                    new[i] = w
            self.table = new
        odd &= U32  # moka accumulates the count in a u32
        self.size = ((self.size >> 1) - (odd >> 2)) & U32
