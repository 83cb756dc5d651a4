"""The frequency sketch against a direct port of moka's packed-u64 algorithm, and hand-computed values."""

from __future__ import annotations

import random

import pytest
from moka_py_pure._hashing import fmix64
from moka_py_pure._sketch import SEED, FrequencySketch, sketch_capacity

U64 = 2**64 - 1
U32 = 2**32 - 1


def moka_index_of(h: int, i: int, mask: int) -> int:
    """moka's ``index_of``: the table word of depth ``i``, with every u64 wrap."""
    x = ((h + SEED[i]) & U64) * SEED[i] & U64
    x = (x + (x >> 32)) & U64
    return x & mask


class PackedSketch:
    """moka's FrequencySketch written the way moka writes it: 16 nibbles per u64 word."""

    def __init__(self, cap: int) -> None:
        maximum = min(cap, 2**30)
        size = 1 if maximum == 0 else 1 << (maximum - 1).bit_length()
        self.table: list[int] = [0] * size
        self.mask = size - 1
        self.sample_size = 10 if cap == 0 else min(min(maximum * 10, U32), 2**31 - 1)
        self.size = 0

    def index_of(self, h: int, i: int) -> int:
        return moka_index_of(h, i, self.mask)

    def frequency(self, h: int) -> int:
        start = (h & 3) << 2
        return min((self.table[self.index_of(h, i)] >> ((start + i) << 2)) & 0xF for i in range(4))

    def increment(self, h: int) -> None:
        start = (h & 3) << 2
        added = False
        for i in range(4):
            idx = self.index_of(h, i)
            off = (start + i) << 2
            mask = 0xF << off
            if self.table[idx] & mask != mask:
                self.table[idx] += 1 << off
                added = True
        if added:
            self.size = (self.size + 1) & U32
            if self.size >= self.sample_size:
                count = 0
                for j, w in enumerate(self.table):
                    count += bin(w & 0x1111_1111_1111_1111).count("1")
                    self.table[j] = (w >> 1) & 0x7777_7777_7777_7777
                self.size = ((self.size >> 1) - ((count & U32) >> 2)) & U32


@pytest.mark.parametrize(
    "cap, table_len, sample_size",
    [
        (0, 1, 10),
        (1, 1, 10),
        (100, 128, 1000),
        (128, 128, 1280),
        (129, 256, 1290),
        (1000, 1024, 10_000),
        (2**30, 2**30, 2**31 - 1),  # 2**30 * 10 saturates u32, then min(i32::MAX)
        (U32, 2**30, 2**31 - 1),
    ],
)
def test_sizing(cap: int, table_len: int, sample_size: int) -> None:
    s = FrequencySketch()
    s.ensure_capacity(cap)
    assert s.enabled
    assert s.table_len() == table_len
    assert s.sample_size == sample_size
    assert s.size == 0


def test_sketch_capacity_clamp() -> None:
    assert sketch_capacity(1) == 128
    assert sketch_capacity(128) == 128
    assert sketch_capacity(5000) == 5000
    assert sketch_capacity(2**40) == U32


def test_disabled_sketch_counts_nothing() -> None:
    s = FrequencySketch()
    s.increment(12345)
    assert s.frequency(12345) == 0
    assert s.size == 0


def test_hand_computed_counter_positions() -> None:
    s = FrequencySketch()
    s.ensure_capacity(128)  # 128 words
    h = fmix64(7)
    start = (h & 3) * 4
    s.increment(h)
    for i in range(4):
        x = ((h + SEED[i]) * SEED[i]) % 2**64
        x = x + (x >> 32)
        index = x % 128
        nibble = (s.word(index) >> ((start + i) * 4)) & 0xF
        assert nibble == 1  # depths use different nibbles, even when they share a word
    assert s.frequency(h) == 1
    assert s.size == 1


def test_counters_saturate_at_15_and_size_counts_only_changes() -> None:
    s = FrequencySketch()
    s.ensure_capacity(128)
    h = fmix64(42)
    for _ in range(20):
        s.increment(h)
    assert s.frequency(h) == 15
    assert s.size == 15  # the last five increments changed no counter


def test_reset_halves_and_uses_moka_size_formula() -> None:
    s = FrequencySketch()
    s.ensure_capacity(128)  # sample_size 1280
    ref = PackedSketch(128)
    rng = random.Random(1)
    hashes = [fmix64(rng.getrandbits(64)) for _ in range(300)]
    resets = 0
    for n in range(5000):
        h = hashes[rng.randrange(len(hashes))]
        before = s.size
        s.increment(h)
        ref.increment(h)
        if s.size < before:
            resets += 1
        assert s.size == ref.size, n
    assert resets >= 2
    assert s.words() == ref.table
    for h in hashes:
        assert s.frequency(h) == ref.frequency(h)


def test_reset_size_arithmetic_by_hand() -> None:
    s = FrequencySketch()
    s.ensure_capacity(128)
    # counters 3, 1 and 15 in word 0, 2 in word 5: odd counters = 3
    s.counters[0] = 3
    s.counters[1] = 1
    s.counters[2] = 15
    s.counters[5 * 16 + 7] = 2
    s.size = 101
    s.reset()
    assert s.word(0) == 1 | (0 << 4) | (7 << 8)
    assert s.word(5) == 1 << 28
    assert s.size == (101 >> 1) - (3 >> 2) == 50


def test_reset_size_wraps_like_u32() -> None:
    s = FrequencySketch()
    s.ensure_capacity(128)
    for i in range(64):
        s.counters[i] = 1  # 64 odd counters -> subtract 16
    s.size = 4  # (4 >> 1) - 16 underflows: moka wraps in release builds
    s.reset()
    assert s.size == (2 - 16) & U32


def test_sparse_table_matches_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    import moka_py_pure._sketch as mod

    dense = FrequencySketch()
    dense.ensure_capacity(128)
    monkeypatch.setattr(mod, "DENSE_TABLE_LIMIT", 64)
    sparse = FrequencySketch()
    sparse.ensure_capacity(128)
    assert isinstance(sparse.counters, dict)
    rng = random.Random(3)
    for _ in range(4000):
        h = fmix64(rng.randrange(500))
        dense.increment(h)
        sparse.increment(h)
        assert dense.size == sparse.size
    assert dense.words() == sparse.words()


def test_positions_of_raw_hash_is_positions_of_the_mixed_hash() -> None:
    s = FrequencySketch()
    s.ensure_capacity(1000)
    rng = random.Random(7)
    raws = [0, 1, -1, -2, 2**63 - 1, -(2**63), *(rng.randrange(-(2**63), 2**63) for _ in range(500))]
    for raw in raws:
        assert s.positions_of_raw_hash(raw) == s.positions(fmix64(raw & U64))


def test_apply_reads_counts_like_increment_across_resets() -> None:
    """Policy.apply_reads carries an inlined copy of increment_at: same counters, size and resets."""
    from moka_py_pure._policy import Policy

    policy = Policy({}, [], False, 64, True, False, None, None, lambda: 0, 0)
    policy.ws = 64
    policy.maybe_enable_sketch()
    s = policy.sketch
    ref = FrequencySketch()
    ref.ensure_capacity(sketch_capacity(64))
    assert s.enabled and (s.table_len(), s.sample_size) == (ref.table_len(), ref.sample_size)
    rng = random.Random(11)
    # Misses (raw hashes) from a small pool, so counters saturate and a few resets happen.
    pool = [rng.randrange(-(2**63), 2**63) for _ in range(150)]
    resets = 0
    for _ in range(100):
        batch = [rng.choice(pool) for _ in range(64)]
        before = ref.size
        policy.apply_reads(batch)
        for raw in batch:
            ref.increment_at(ref.positions_of_raw_hash(raw))
        resets += ref.size < before
        assert s.counters == ref.counters
        assert s.size == ref.size
    assert resets > 0


@pytest.mark.parametrize("words", [1, 128, 2**16, 2**23, 2**30])
def test_positions_match_moka_wrapping_arithmetic_at_every_table_size(words: int) -> None:
    # positions() skips moka's u64 wraps (see its comment): check it against the wrapping formula
    # up to the largest table, whose mask keeps the most bits, and at hashes that wrap.  (Tables
    # above DENSE_TABLE_LIMIT words are sparse: no memory is allocated for them here.)
    s = FrequencySketch()
    s.ensure_capacity(words)
    assert s.table_len() == words
    rng = random.Random(words)
    edges = [0, 1, 3, U32, U32 + 1, 2**63, U64 - SEED[0], U64 - 1, U64]
    for h in [*edges, *(rng.getrandbits(64) for _ in range(2000))]:
        start = (h & 3) << 2
        expected = tuple((moka_index_of(h, i, words - 1) << 4) + start + i for i in range(4))
        assert s.positions(h) == expected
        assert s.first_position(h) == expected[0]
