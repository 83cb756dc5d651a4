//! The pieces of the Rust backend's moka build that the benchmark floors use: the hash
//! moka is fed and the pass-through hasher (the backend's own `hashing.rs`), and a copy
//! of its per-entry expiry. Shared by `moka_floor` (moka alone) and `least_binding`
//! (which includes this file by path), so both floors build moka the same way.

use moka::Expiry;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------ hashing

/// The backend's own hashing module, compiled in from its source: `fmix64` (what the
/// backend applies to `hash(key)`; CPython's `hash(k)` of an int below 2**61 - 1 is
/// `k`, so `fmix64(k)` is the int key's hash) and the pass-through hasher moka is built
/// with. (`key_hash` is the backend's entry point from a Python hash; the floors start
/// from `u64` keys.)
#[allow(dead_code)]
#[path = "../../../packages/moka-py-rust/src/hashing.rs"]
mod hashing;

pub use hashing::{fmix64, PassThrough};

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
