from moka_py_pure._hashing import fmix64, key_hash, mix_raw_hash


def test_fmix64_known_values() -> None:
    # murmur3's finalizer: 0 is a fixed point; fmix64(1) is the well-known 0xb456bcfc34c2cb2c.
    assert fmix64(0) == 0
    assert fmix64(1) == 0xB456BCFC34C2CB2C
    assert fmix64(2) == 0x3ABF2A20650683E7
    assert fmix64(0xDEADBEEF) == 0xD24BD59F862A1DAC
    assert fmix64(2**64 - 1) == 0x64B5720B4B825F21


def test_key_hash_is_fmix64_of_python_hash_mod_2_64() -> None:
    assert key_hash(1) == fmix64(1)
    # hash(-1) == -2 in CPython; negative hashes are taken mod 2**64 (two's complement)
    assert key_hash(-1) == fmix64(2**64 - 2)
    assert key_hash("abc") == fmix64(hash("abc") % 2**64)
    assert mix_raw_hash(hash((1, 2))) == key_hash((1, 2))
