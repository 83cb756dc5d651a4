"""moka's count-min frequency sketch (``common/frequency_sketch.rs``), bit for bit.

moka packs sixteen 4-bit counters into each u64 word of a table of ``table_len`` words.  Counter
``c`` (0..15) of word ``i`` is stored here as byte ``16 * i + c`` of a ``bytearray``: the same
counters, each in its own byte, so that an increment is a byte read and write instead of 64-bit
integer arithmetic on Python ints.  Every result is identical to moka's packed words:

* ``index(h, d)``: ``x = (h + SEED[d]) * SEED[d]`` (u64, wrapping), ``x += x >> 32``, ``x & (len - 1)``;
* the key's counter at depth ``d`` is counter ``(h & 3) * 4 + d`` of word ``index(h, d)``;
* ``frequency`` = the minimum of the four; ``increment`` adds one to each that is below 15 and, if
  any changed, ``size += 1`` and resets when ``size >= sample_size``;
* ``reset`` halves every counter (moka: ``(word >> 1) & 0x7777...``) and sets
  ``size = (size >> 1) - (odd >> 2)`` in wrapping u32 arithmetic, where ``odd`` counts the counters
  whose low bit was set (moka: popcount of ``word & 0x1111...``).

The sketch starts disabled (``increment`` is a no-op, ``frequency`` returns 0) until
``ensure_capacity`` is called once, when the cache is half full (``Policy.maybe_enable_sketch``).
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import bytearray, bytes, dict, int, isinstance, len, max, min, range, tuple  # noqa: UP029
from typing import Union

from ._hashing import mix_raw_hash

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

# Tables up to this many words are a dense bytearray (16 bytes a word, so at most 64 MiB); larger
# ones (moka allows 2**30 words, which it gets as calloc'ed, lazily mapped memory) are a sparse dict
# whose missing counters read as 0.  Both hold exactly the same counters.
DENSE_TABLE_LIMIT = 1 << 22

_HALVE = bytes(b >> 1 for b in range(256))
_EVEN_VALUES = bytes(range(0, 256, 2))

SATURATING_INCREMENT = (*range(1, 16), 15)
"""A counter's value after an increment: ``v + 1``, but 15 stays 15 (a tuple: the fastest lookup)."""

Positions = tuple[int, int, int, int]


class _SparseCounters(dict[int, int]):
    """Counters of a huge table: byte index -> counter, missing counters read as 0."""

    def __missing__(self, index: int) -> int:
        return 0


Counters = Union[bytearray, _SparseCounters]


def sketch_capacity(cache_capacity: int) -> int:
    """moka's ``common::sketch_capacity``: clamp to ``[128, u32::MAX]``."""
    return max(min(cache_capacity, U32), 128)


def _next_power_of_two(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


class FrequencySketch:
    """The popularity estimator used by TinyLFU admission."""

    __slots__ = ("counters", "enabled", "sample_size", "size", "table_mask")

    def __init__(self) -> None:
        self.enabled = False  # moka: an empty table is the "disabled" state
        self.sample_size = 0
        self.table_mask = 0
        self.counters: Counters = bytearray()
        self.size = 0

    def table_len(self) -> int:
        """Number of u64 words in moka's table (0 while the sketch is disabled)."""
        return self.table_mask + 1 if self.enabled else 0

    def ensure_capacity(self, cap: int) -> None:
        """``FrequencySketch::ensure_capacity(cap: u32)`` on a 64-bit target."""
        maximum = min(cap, 1 << 30)
        table_size = 1 if maximum == 0 else _next_power_of_two(maximum)
        if self.table_len() >= table_size:
            return
        if table_size <= DENSE_TABLE_LIMIT:
            self.counters = bytearray(16 * table_size)
        else:
            self.counters = _SparseCounters()
        self.enabled = True
        self.table_mask = table_size - 1
        self.sample_size = 10 if cap == 0 else min(min(maximum * 10, U32), I32_MAX)
        # `size` is deliberately left as it is, like moka.

    def positions(self, h: int) -> Positions:
        """Where the four counters of hash ``h`` live (byte indices, depths 0..3).

        Valid for the sketch's lifetime: moka sizes it once and never resizes it, so entries cache
        their positions (``Entry.sk``).
        """
        # moka wraps x to u64 twice (the product, then x + (x >> 32)).  Neither wrap can change the
        # result: the mask keeps at most the low 30 bits of the sum, which depend only on the low
        # 30 bits of x and of x >> 32, i.e. on x's bits 0..61.  So no `& U64` is needed here.
        mask = self.table_mask
        start = (h & 3) << 2
        x = (h + SEED0) * SEED0
        p0 = (((x + (x >> 32)) & mask) << 4) + start
        x = (h + SEED1) * SEED1
        p1 = (((x + (x >> 32)) & mask) << 4) + start + 1
        x = (h + SEED2) * SEED2
        p2 = (((x + (x >> 32)) & mask) << 4) + start + 2
        x = (h + SEED3) * SEED3
        p3 = (((x + (x >> 32)) & mask) << 4) + start + 3
        return p0, p1, p2, p3

    def first_position(self, h: int) -> int:
        """``positions(h)[0]`` alone (keep in step with :meth:`positions`).

        A zero counter there makes the frequency (the minimum) 0 without the other three.
        """
        x = (h + SEED0) * SEED0
        return (((x + (x >> 32)) & self.table_mask) << 4) + ((h & 3) << 2)

    def positions_of_raw_hash(self, raw: int) -> Positions:
        """:meth:`positions` of the moka hash of a key whose ``hash()`` is ``raw``."""
        return self.positions(mix_raw_hash(raw))

    def frequency(self, h: int) -> int:
        """The estimated frequency (0..15) of the key whose moka hash is ``h``."""
        if not self.enabled:
            return 0
        return self.frequency_at(self.positions(h))

    def frequency_at(self, p: Positions) -> int:
        """``frequency`` for precomputed :meth:`positions`: the minimum of the four counters."""
        c = self.counters
        p0, p1, p2, p3 = p
        f = c[p0]
        x = c[p1]
        if x < f:
            f = x
        x = c[p2]
        if x < f:
            f = x
        x = c[p3]
        if x < f:
            f = x
        return f

    def increment(self, h: int) -> None:
        """Add one to each of the key's four counters that is below 15."""
        if self.enabled:
            self.increment_at(self.positions(h))

    def increment_at(self, p: Positions) -> None:
        """``increment`` for precomputed :meth:`positions` (the sketch must be enabled).

        The four positions are distinct bytes (their depths differ), so reading all four first is
        the same as moka's one-by-one update; counters are 0..15, so their ``&`` is 15 exactly when
        all four are saturated and nothing changes.
        """
        c = self.counters
        p0, p1, p2, p3 = p
        x0 = c[p0]
        x1 = c[p1]
        x2 = c[p2]
        x3 = c[p3]
        if x0 & x1 & x2 & x3 != 15:
            inc = SATURATING_INCREMENT
            c[p0] = inc[x0]
            c[p1] = inc[x1]
            c[p2] = inc[x2]
            c[p3] = inc[x3]
            self.size = (self.size + 1) & U32
            if self.size >= self.sample_size:
                self.reset()

    def reset(self) -> None:
        """Halve every counter; ``size = (size >> 1) - (odd >> 2)`` in wrapping u32 arithmetic."""
        c = self.counters
        if isinstance(c, bytearray):
            odd = len(c.translate(None, _EVEN_VALUES))  # what is left once the even bytes are deleted
            self.counters = c.translate(_HALVE)
        else:
            odd = 0
            new = _SparseCounters()
            for i, x in c.items():
                odd += x & 1
                if x > 1:
                    new[i] = x >> 1
            self.counters = new
        odd &= U32  # moka accumulates the count in a u32
        self.size = ((self.size >> 1) - (odd >> 2)) & U32

    def word(self, index: int) -> int:
        """moka's packed u64 table word ``index`` (for tests and debugging)."""
        c = self.counters
        base = index << 4
        w = 0
        for k in range(16):
            w |= c[base + k] << (k << 2)
        return w

    def words(self) -> list[int]:
        """The whole packed table, as moka holds it."""
        return [self.word(i) for i in range(self.table_len())]
