//! Key hashing shared with the pure backend (docs/internals/moka-algorithms.md, "Key hashing").
//!
//! Python's `hash(key)` is computed once per public call, reduced mod 2**64 and
//! mixed with murmur3's 64-bit finalizer. The result is what moka sees as the key's
//! hash: our key types write it with a single `write_u64`, and the hasher below
//! hands it back unchanged. So moka (map, sketch, key locks) never calls Python.

use std::hash::{BuildHasher, Hasher};

/// murmur3's `fmix64`.
#[inline]
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// `key_hash(k) = fmix64(hash(k) mod 2**64)`.
#[inline]
pub fn key_hash(py_hash: isize) -> u64 {
    fmix64(py_hash as u64)
}

/// A `BuildHasher` whose hashers return the one `u64` written into them.
#[derive(Clone, Copy, Default, Debug)]
pub struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    #[inline]
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Default, Debug)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    /// The first write stores the value as is (`0.rotate_left(5) ^ v == v`), which is
    /// the only write our keys make. Later writes (moka hashes `(key, TypeId)` in
    /// code paths we do not use) are mixed in rather than overwriting.
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(5) ^ v;
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmix64_known_values() {
        assert_eq!(fmix64(0), 0);
        // hash(1) == 1 in CPython.
        assert_eq!(fmix64(1), 0xb456_bcfc_34c2_cb2c);
        // hash(-1) == -2 in CPython (-1 is reserved for errors).
        assert_eq!(key_hash(-2), fmix64(u64::MAX - 1));
    }

    #[test]
    fn pass_through() {
        let mut h = PassThrough.build_hasher();
        h.write_u64(42);
        assert_eq!(h.finish(), 42);
    }
}
