//! The Rust backend's moka build for both floors (moka alone and the least binding):
//! its own `hashing.rs`, a copy of its per-entry expiry, and its cache builder's settings.

use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use moka::Expiry;
use pyo3::exceptions::PyValueError;
use pyo3::PyResult;
use std::time::{Duration, Instant};

/// `fmix64` (what the backend applies to `hash(key)`; CPython's `hash(k)` of an int below
/// 2**61 - 1 is `k`) and the pass-through hasher moka is built with.
#[allow(dead_code)]
#[path = "../../../packages/moka-py-rust/src/hashing.rs"]
mod hashing;

pub use hashing::{fmix64, PassThrough};

/// The backend's per-entry expiry for writes that give no per-entry ttl/tti (every
/// write in these benchmarks): an update clears the deadline; create (none) and read (keep
/// it) are moka's defaults. Installed for the same reason as there: its presence changes
/// moka's code paths.
pub struct NoPerEntryDeadline;

impl<V> Expiry<u64, V> for NoPerEntryDeadline {
    fn expire_after_update(
        &self,
        _k: &u64,
        _v: &V,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        None
    }
}

/// A cache built as the backend builds one: the policy, the per-entry expiry, the capacity,
/// `time_to_live` when given (seconds), the pass-through hasher; an error for a policy it does
/// not know or a ttl no `Duration` holds.
pub fn new_cache<V: Clone + Send + Sync + 'static>(
    policy: &str,
    capacity: u64,
    ttl: Option<f64>,
) -> PyResult<Cache<u64, V, PassThrough>> {
    let policy = match policy {
        "tiny_lfu" => EvictionPolicy::tiny_lfu(),
        "lru" => EvictionPolicy::lru(),
        _ => return Err(PyValueError::new_err(format!("unknown policy {policy:?}"))),
    };
    let mut builder = Cache::builder()
        .eviction_policy(policy)
        .expire_after(NoPerEntryDeadline)
        .max_capacity(capacity);
    if let Some(secs) = ttl {
        let d = Duration::try_from_secs_f64(secs);
        builder = builder.time_to_live(d.map_err(|e| PyValueError::new_err(format!("ttl: {e}")))?);
    }
    Ok(builder.build_with_hasher(PassThrough))
}
