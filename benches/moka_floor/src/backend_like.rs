//! The pieces of the Rust backend's moka build that the benchmark floors copy: the hash
//! moka is fed, the pass-through hasher and the per-entry expiry. Shared by `moka_floor`
//! (moka alone) and `least_binding` (which includes this file by path), so both floors
//! build moka the same way.

use moka::Expiry;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------ hashing

/// murmur3's 64-bit finalizer: what the backend applies to `hash(key)`. CPython's
/// `hash(k)` of an int below 2**61 - 1 is `k`, so `fmix64(k)` is the int key's hash.
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Hashers that return the one `u64` written into them (a `u64` key writes itself).
#[derive(Clone, Copy, Default)]
pub struct PassThrough;

pub struct PassThroughHasher(u64);

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(5) ^ v;
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

// ------------------------------------------------------------------------------- expiry

/// The backend's per-entry expiry for writes that give no per-entry ttl/tti (every
/// write in these benchmarks): create and update clear the deadline, a read keeps it.
/// Installed for the same reason as there: its presence changes moka's code paths.
pub struct NoPerEntryDeadline;

impl<V> Expiry<u64, V> for NoPerEntryDeadline {
    fn expire_after_create(&self, _k: &u64, _v: &V, _at: Instant) -> Option<Duration> {
        None
    }

    fn expire_after_update(
        &self,
        _k: &u64,
        _v: &V,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        None
    }

    fn expire_after_read(
        &self,
        _k: &u64,
        _v: &V,
        _at: Instant,
        left: Option<Duration>,
        _modified: Instant,
    ) -> Option<Duration> {
        left
    }
}
