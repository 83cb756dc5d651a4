//! What moka stores as a value, and the per-entry expiry policy.

use crate::args::NO_DURATION;
use crate::key::Key;
use crate::release::{note_reclaimed, TakeableRef};
use moka::Expiry;
use pyo3::prelude::*;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// moka's `V`. Cloned by moka on every read, so it is an `Arc`.
pub type Val = Arc<ValueCell>;

pub struct ValueCell {
    pub obj: TakeableRef,
    /// Per-entry ttl / tti in nanoseconds as given to `set` / `get_with`;
    /// `NO_DURATION` when not given (see `args::nanos`).
    ttl_ns: u64,
    tti_ns: u64,
    /// Computed by calling the Python weigher before moka is called; moka's weigher
    /// only reads it, so moka never calls Python.
    pub weight: u32,
    /// `__traverse__` de-duplication stamp (see `Moka::__traverse__`).
    pub mark: AtomicU64,
}

impl ValueCell {
    pub fn new(obj: &Bound<'_, PyAny>, ttl_ns: u64, tti_ns: u64, weight: u32) -> Val {
        Arc::new(ValueCell {
            obj: TakeableRef::new(obj),
            ttl_ns,
            tti_ns,
            weight,
            mark: AtomicU64::new(0),
        })
    }

    fn after_write(&self) -> Option<Duration> {
        after_write(self.ttl_ns, self.tti_ns)
    }
}

/// Deadline after a write: min(ttl, tti) of those given, else none.
fn after_write(ttl_ns: u64, tti_ns: u64) -> Option<Duration> {
    // NO_DURATION is u64::MAX, so the minimum picks whichever was given.
    let d = ttl_ns.min(tti_ns);
    (d != NO_DURATION).then(|| Duration::from_nanos(d))
}

/// Deadline after a read: the per-entry tti again, capped by what is left of the
/// per-entry ttl `since_write` after the last write; unchanged without a tti.
fn after_read(
    ttl_ns: u64,
    tti_ns: u64,
    since_write: Duration,
    current: Option<Duration>,
) -> Option<Duration> {
    if tti_ns == NO_DURATION {
        return current;
    }
    if ttl_ns == NO_DURATION {
        return Some(Duration::from_nanos(tti_ns));
    }
    let since_write = u64::try_from(since_write.as_nanos()).unwrap_or(u64::MAX);
    let ttl_left = ttl_ns.saturating_sub(since_write);
    Some(Duration::from_nanos(tti_ns.min(ttl_left)))
}

impl Drop for ValueCell {
    fn drop(&mut self) {
        note_reclaimed();
    }
}

/// moka's `Expiry` hooks, defined once for both backends (docs/internals/moka-algorithms.md, "Expiry hooks"):
/// create and update -> min(ttl, tti) given to that write, else none;
/// read -> per-entry tti again, capped by what is left of the per-entry ttl counted
/// from the last write; entries without a per-entry tti keep their deadline.
/// Pure Rust: never touches Python.
pub struct PerEntryExpiry;

impl Expiry<Key, Val> for PerEntryExpiry {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Val,
        _created_at: Instant,
    ) -> Option<Duration> {
        value.after_write()
    }

    fn expire_after_update(
        &self,
        _key: &Key,
        value: &Val,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        value.after_write()
    }

    fn expire_after_read(
        &self,
        _key: &Key,
        value: &Val,
        read_at: Instant,
        duration_until_expiry: Option<Duration>,
        last_modified_at: Instant,
    ) -> Option<Duration> {
        // Every read of every entry comes here (moka calls the hook whenever an
        // `Expiry` is set); without a per-entry tti, skip the clock arithmetic.
        if value.tti_ns == NO_DURATION {
            return duration_until_expiry;
        }
        after_read(
            value.ttl_ns,
            value.tti_ns,
            read_at.saturating_duration_since(last_modified_at),
            duration_until_expiry,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: u64 = NO_DURATION;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn ns(d: Duration) -> u64 {
        d.as_nanos() as u64
    }

    #[test]
    fn write_takes_the_smaller_given_duration() {
        assert_eq!(after_write(N, N), None);
        assert_eq!(after_write(ns(ms(5)), N), Some(ms(5)));
        assert_eq!(after_write(N, ns(ms(7))), Some(ms(7)));
        assert_eq!(after_write(ns(ms(9)), ns(ms(7))), Some(ms(7)));
        assert_eq!(after_write(0, N), Some(Duration::ZERO));
    }

    #[test]
    fn read_renews_tti_capped_by_ttl_left() {
        let cur = Some(ms(123));
        assert_eq!(after_read(N, N, ms(1), cur), cur);
        assert_eq!(after_read(ns(ms(50)), N, ms(1), cur), cur);
        assert_eq!(after_read(N, ns(ms(10)), ms(1_000), cur), Some(ms(10)));
        assert_eq!(
            after_read(ns(ms(50)), ns(ms(10)), ms(20), cur),
            Some(ms(10))
        );
        assert_eq!(after_read(ns(ms(50)), ns(ms(10)), ms(45), cur), Some(ms(5)));
        assert_eq!(
            after_read(ns(ms(50)), ns(ms(10)), ms(80), cur),
            Some(Duration::ZERO)
        );
    }
}
