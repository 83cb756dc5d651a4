//! What moka stores as a value, and the per-entry expiry policy.

use crate::args::NO_DURATION;
use crate::key::Key;
use crate::release::{note_reclaimed, TakeableRef};
use moka::Expiry;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
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
    /// Refresh-ahead's claim on this write: 0, or the fork epoch of the claim (see
    /// `refresh`). In the padding after `weight`: the cell does not grow.
    refresh_claim: AtomicU32,
    /// `__traverse__` de-duplication stamp (see `Moka::__traverse__`).
    pub mark: AtomicU64,
    /// What moka knows of this value's entry and does not tell (for `expires_in`), as
    /// `instant_nanos`, written by the `Expiry` hooks moka calls: the write (moka's
    /// `last_modified`), the last access (`last_accessed`, kept only in caches with a
    /// cache-wide tti, see `PerEntryExpiry::track_reads`) and the per-entry deadline
    /// (`NO_DEADLINE` when none).
    pub written_ns: AtomicU64,
    pub accessed_ns: AtomicU64,
    pub deadline_ns: AtomicU64,
}

/// `deadline_ns` of a value without a per-entry deadline.
pub const NO_DEADLINE: u64 = u64::MAX;

/// Nanoseconds from a process-wide origin to `t` (0 before it).
#[inline]
pub fn instant_nanos(t: Instant) -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(t.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
}

fn plus(t: u64, d: Duration) -> u64 {
    t.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl ValueCell {
    pub fn new(obj: &Bound<'_, PyAny>, ttl_ns: u64, tti_ns: u64, weight: u32) -> Val {
        Arc::new(ValueCell {
            obj: TakeableRef::new(obj),
            ttl_ns,
            tti_ns,
            weight,
            refresh_claim: AtomicU32::new(0),
            mark: AtomicU64::new(0),
            written_ns: AtomicU64::new(0),
            accessed_ns: AtomicU64::new(0),
            deadline_ns: AtomicU64::new(NO_DEADLINE),
        })
    }

    /// The create and update hooks: the write's time (always: `refresh_after` counts
    /// from it; `at` is the instant moka already read, so this reads no clock), the
    /// per-entry deadline, and with `timestamps` (a cache-wide ttl or tti) the access
    /// time. A new cell per write, so what is not stored stays unset.
    fn after_write(&self, at: Instant, timestamps: bool) -> Option<Duration> {
        let d = after_write(self.ttl_ns, self.tti_ns);
        let t = instant_nanos(at);
        self.written_ns.store(t, Ordering::Relaxed);
        if timestamps {
            self.accessed_ns.store(t, Ordering::Relaxed);
        }
        if let Some(d) = d {
            self.deadline_ns.store(plus(t, d), Ordering::Relaxed);
        }
        d
    }

    /// Claims this write for refresh-ahead in `epoch`: whether this call made the claim.
    #[inline]
    pub fn claim_refresh(&self, epoch: u32) -> bool {
        let current = self.refresh_claim.load(Ordering::Relaxed);
        current != epoch
            && self
                .refresh_claim
                .compare_exchange(current, epoch, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Gives back the claim of `epoch` (a later one, made in a forked child, stays).
    pub fn unclaim_refresh(&self, epoch: u32) {
        let _ = self
            .refresh_claim
            .compare_exchange(epoch, 0, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// Nanoseconds since this value was written (moka's `last_modified`).
    pub fn age_ns(&self) -> u64 {
        instant_nanos(Instant::now()).saturating_sub(self.written_ns.load(Ordering::Relaxed))
    }

    /// When this value's entry expires, as `instant_nanos`, given the cache-wide ttl
    /// and tti (nanoseconds, `NO_DURATION` when not set): the earliest of its deadline,
    /// `last_modified + ttl` and `last_accessed + tti`; `NO_DEADLINE` when none exists.
    pub fn expires_at(&self, ttl_ns: u64, tti_ns: u64) -> u64 {
        let mut t = self.deadline_ns.load(Ordering::Relaxed);
        if ttl_ns != NO_DURATION {
            t = t.min(
                self.written_ns
                    .load(Ordering::Relaxed)
                    .saturating_add(ttl_ns),
            );
        }
        if tti_ns != NO_DURATION {
            t = t.min(
                self.accessed_ns
                    .load(Ordering::Relaxed)
                    .saturating_add(tti_ns),
            );
        }
        t
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
/// Pure Rust: never touches Python. The hooks also note the timestamps moka keeps
/// for itself (see `ValueCell::written_ns`).
pub struct PerEntryExpiry {
    /// The cache has a cache-wide tti: reads note the access time (for `expires_in`);
    /// without one, an access changes no deadline, and reads skip the clock.
    pub track_reads: bool,
    /// The cache has a cache-wide ttl or tti: writes also note their time as the last
    /// access (every write notes its own time, for `refresh_after`).
    pub track_writes: bool,
}

impl Expiry<Key, Val> for PerEntryExpiry {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Val,
        created_at: Instant,
    ) -> Option<Duration> {
        value.after_write(created_at, self.track_writes)
    }

    fn expire_after_update(
        &self,
        _key: &Key,
        value: &Val,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        value.after_write(updated_at, self.track_writes)
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
        // `Expiry` is set, and sets `last_accessed` to `read_at` after it); without a
        // per-entry tti or a cache-wide one, skip the clock arithmetic.
        if self.track_reads {
            value
                .accessed_ns
                .store(instant_nanos(read_at), Ordering::Relaxed);
        }
        if value.tti_ns == NO_DURATION {
            return duration_until_expiry;
        }
        let d = after_read(
            value.ttl_ns,
            value.tti_ns,
            read_at.saturating_duration_since(last_modified_at),
            duration_until_expiry,
        );
        if let Some(d) = d {
            value
                .deadline_ns
                .store(plus(instant_nanos(read_at), d), Ordering::Relaxed);
        }
        d
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
