//! The Rust backend's moka build for both floors (moka alone and the least binding):
//! its own `hashing.rs` and a copy of its per-entry expiry.

use moka::Expiry;
use std::time::{Duration, Instant};

/// `fmix64` (what the backend applies to `hash(key)`; CPython's `hash(k)` of an int below
/// 2**61 - 1 is `k`) and the pass-through hasher moka is built with.
#[allow(dead_code)]
#[path = "../../../packages/moka-py-rust/src/hashing.rs"]
mod hashing;

pub use hashing::{fmix64, PassThrough};

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
