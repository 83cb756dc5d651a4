//! Per-key order of moka's write log.
//!
//! A moka write (`insert`, `remove`) changes the concurrent map first and then sends
//! its `WriteOp` to the write log; housekeeping later applies the log, in log order,
//! to the policy (deques, counters). moka 0.12.14 assumes that the ops of one key
//! reach the log in the order their map changes happened. Two threads writing the
//! same key at once can break that: if thread A updates the map, is descheduled
//! before sending its op, and thread B updates the same key and sends its op first,
//! housekeeping applies B's op, may then evict the entry (B's op made it clean), and
//! finally applies A's stale `Upsert`, which admits the entry again although it is no
//! longer in the map. That policy node is never removed: `count()` stays too high,
//! above the capacity, and eviction keeps skipping the ghost (the "wedged" cache).
//! Reproduced with the crate alone (two threads of insert + get on 200 keys).
//!
//! So every moka write holds the stripe lock of its key hash for the whole moka
//! call: the map change and the op are then one step for that key, and the log sees
//! one key's ops in map order, as a single-threaded caller would produce them.
//!
//! Lock order: a stripe is taken without the GIL (inside `py.detach`) and released
//! before the GIL is needed again; while it is held only moka runs (its key locks,
//! its housekeeping lock through an inline housekeeping run). Nothing that holds a
//! moka lock ever takes a stripe, so no cycle is possible.

use parking_lot::{Mutex, MutexGuard};

/// Number of stripes: a power of two, enough that unrelated keys rarely share one.
const STRIPES: usize = 64;

pub struct WriteOrder {
    stripes: [Mutex<()>; STRIPES],
}

impl WriteOrder {
    pub fn new() -> WriteOrder {
        WriteOrder {
            stripes: std::array::from_fn(|_| Mutex::new(())),
        }
    }

    /// The lock that orders the writes of keys with this hash (moka's key hash).
    /// Call without the GIL.
    #[inline]
    pub fn lock(&self, hash: u64) -> MutexGuard<'_, ()> {
        // The high bits: moka's map uses the low ones to pick segments and buckets,
        // the mixed hash is uniform in both.
        self.stripes[(hash >> 58) as usize & (STRIPES - 1)].lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_hash_same_stripe_and_stripes_are_independent() {
        let w = WriteOrder::new();
        let a = 0x0400_0000_0000_0000u64; // stripe 1
        let g = w.lock(a);
        // Another stripe is free while this one is held.
        assert!(w.stripes[2].try_lock().is_some());
        // The same hash maps to the held stripe.
        assert!(w.stripes[(a >> 58) as usize].try_lock().is_none());
        drop(g);
        assert!(w.stripes[1].try_lock().is_some());
    }

    /// The race itself, on the crate alone: two threads inserting and reading the
    /// same 200 keys of a 50-entry cache. Without the stripe around `insert`, every
    /// local run ended with `entry_count()` above the entries in the map (ghost
    /// policy nodes), often above the capacity; with it, the two agree.
    #[test]
    fn ordered_inserts_keep_the_policy_in_step_with_the_map() {
        use std::time::{Duration, Instant};
        for round in 0..4u64 {
            let cache: moka::sync::Cache<u64, u64> = moka::sync::Cache::new(50);
            let order = WriteOrder::new();
            let end = Instant::now() + Duration::from_millis(300);
            std::thread::scope(|s| {
                for t in 0..2u64 {
                    let (cache, order) = (&cache, &order);
                    s.spawn(move || {
                        let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (round * 2 + t + 1);
                        while Instant::now() < end {
                            // xorshift64: a cheap deterministic key and op stream
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let k = x % 200;
                            if (x >> 32) % 2 == 0 {
                                let _ordered = order.lock(crate::hashing::fmix64(k));
                                cache.insert(k, x);
                            } else {
                                let _ = cache.get(&k);
                            }
                        }
                    });
                }
            });
            cache.run_pending_tasks();
            let in_map = (0..200u64).filter(|k| cache.contains_key(k)).count() as u64;
            assert!(cache.entry_count() <= 50, "round {round}");
            assert_eq!(cache.entry_count(), in_map, "round {round}");
        }
    }
}
