//! The gate that hands moka its calls one at a time, for weighted caches only.
//!
//! A moka write (`insert`, `remove`) changes the concurrent map first and then sends
//! its `WriteOp` to the write log; housekeeping later applies the log to the policy
//! (deques, counters). moka 0.12.14 could apply an entry's queued `Upsert` after the
//! entry had left the map (a writer descheduled before queueing its op while another
//! call removed or evicted the key), admitting a policy node that no eviction reaches:
//! `count()` stuck above the map and the capacity (moka#590). moka-py 0.12.14 needed
//! this gate around every call. moka 0.12.16 fixed it: an entry is *retired* as it
//! leaves the map, and housekeeping skips the queued upserts and reads of a retired
//! entry. The two reproductions that showed the ghosts (two threads on 200 keys of a
//! 50-entry cache: inserts and reads unserialised; inserts, removes and reads with
//! the writes serialised; with and without a listener) end with `entry_count()` equal
//! to the map in every run on 0.12.16 with no gate.
//!
//! The fix leaves one error, in caches with a weigher: a skipped `Upsert` that
//! changed an admitted entry's weight is never counted, while the entry's removal
//! subtracts the new weight, so `weighted_size()` drifts by the difference for good
//! (an empty cache that thinks it is full evicts every new entry). One thread is
//! enough: update a key to another weight and remove it before housekeeping runs.
//! So in a weighted cache:
//!
//! * `remove` runs moka's pending tasks first (`Moka::remove`): no write of the key is
//!   still queued when its entry leaves the map. The pure backend does the same.
//! * Every moka call still holds this gate, so that no other call can slip a write of
//!   the key in between, nor a housekeeping that evicts an entry whose update is on
//!   its way into the log (the same drift, by the skipped update of a size victim).
//!
//! Unweighted caches have no gate: every weight is 1, so a skipped update changes
//! nothing. Python callers hold the GIL between calls anyway; the gate only matters
//! around the calls that run without it (`clear`, `run_pending_tasks`, `__clear__`,
//! and gated calls that found the gate busy).
//!
//! Lock order: the lock is waited for only without the GIL (inside `py.detach`); with
//! the GIL held it is only tried (`Moka::gated`). Its holder, with or without the
//! GIL, never needs the GIL while holding it (see `cache`'s "Locks and the GIL") and
//! never takes it a second time; nothing that holds a moka lock takes it.

use parking_lot::{Mutex, MutexGuard};

pub struct WriteOrder {
    /// `None` for a cache without a weigher: no gate.
    gate: Option<Mutex<()>>,
}

impl WriteOrder {
    pub fn new(weighted: bool) -> WriteOrder {
        WriteOrder {
            gate: weighted.then(|| Mutex::new(())),
        }
    }

    /// Hold this around one moka call that writes or may run housekeeping (nothing
    /// to hold without a gate).
    #[inline]
    pub fn lock(&self) -> Option<MutexGuard<'_, ()>> {
        self.gate.as_ref().map(Mutex::lock)
    }

    /// The gate, if this cache has one.
    #[inline]
    pub fn gate(&self) -> Option<&Mutex<()>> {
        self.gate.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Two threads inserting, reading and removing the same 200 keys of a cache for
    /// 300 ms, each call under `order` (when it has a gate); `weight` gives each
    /// value's weight when the cache has a weigher, and `weighted_remove` runs the
    /// pending tasks before each remove, as `Moka::remove` does in a weighted cache.
    /// Returns, after `run_pending_tasks`: (entry_count, entries in the map,
    /// weighted_size, their weight).
    fn race(round: u64, order: &WriteOrder, weigh: bool, weighted_remove: bool) -> [u64; 4] {
        fn weight(v: u64) -> u32 {
            1 + (v % 7) as u32
        }
        let mut builder = moka::sync::Cache::builder().max_capacity(if weigh { 200 } else { 50 });
        builder = builder.eviction_listener(|_k, _v, _c| {});
        if weigh {
            builder = builder.weigher(|_k: &u64, v: &u64| weight(*v));
        }
        let cache: moka::sync::Cache<u64, u64> = builder.build();
        let end = Instant::now() + Duration::from_millis(300);
        std::thread::scope(|s| {
            for t in 0..2u64 {
                let cache = &cache;
                s.spawn(move || {
                    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (round * 2 + t + 1);
                    while Instant::now() < end {
                        // xorshift64: a cheap deterministic key and op stream
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let k = x % 200;
                        let _gate = order.lock();
                        match (x >> 32) % 10 {
                            0..=3 => cache.insert(k, x),
                            4..=7 => drop(cache.get(&k)),
                            _ => {
                                if weighted_remove {
                                    cache.run_pending_tasks();
                                }
                                cache.invalidate(&k)
                            }
                        }
                    }
                });
            }
        });
        cache.run_pending_tasks();
        let live: Vec<u64> = (0..200u64).filter_map(|k| cache.get(&k)).collect();
        let live_weight = live
            .iter()
            .map(|v| if weigh { weight(*v) as u64 } else { 1 })
            .sum();
        [
            cache.entry_count(),
            live.len() as u64,
            cache.weighted_size(),
            live_weight,
        ]
    }

    /// moka 0.12.16 keeps its policy in step with its map with no gate: the race that
    /// left ghost nodes in 0.12.14 (`entry_count()` above the map in most such runs).
    #[test]
    fn ungated_calls_leave_no_ghost_entries() {
        for round in 0..8u64 {
            let [count, in_map, ..] = race(round, &WriteOrder::new(false), false, false);
            assert_eq!(count, in_map, "round {round}");
            assert!(count <= 50, "round {round}");
        }
    }

    /// With a weigher, the gate and a remove that runs the pending tasks first keep
    /// `weighted_size()` equal to the weight of the entries in the map.
    #[test]
    fn gated_weighted_calls_keep_the_weighted_size_exact() {
        for round in 0..8u64 {
            let [count, in_map, ws, weight] = race(round, &WriteOrder::new(true), true, true);
            assert_eq!((count, ws), (in_map, weight), "round {round}");
        }
    }

    /// Why weighted caches need `Moka::remove`'s rule: moka 0.12.16 alone, one thread.
    /// An update to another weight, then a remove, both before housekeeping: the
    /// update is skipped (its entry has retired) and the removal subtracts the new
    /// weight, so the empty cache keeps a weighted size. If a newer moka counts it,
    /// this fails, and the rule can go.
    #[test]
    fn moka_skips_the_weight_change_of_a_removed_entry() {
        let cache: moka::sync::Cache<u64, u32> = moka::sync::Cache::builder()
            .max_capacity(100)
            .weigher(|_k: &u64, v: &u32| *v)
            .build();
        cache.insert(1, 7);
        cache.run_pending_tasks();
        cache.insert(1, 5);
        cache.invalidate(&1);
        cache.run_pending_tasks();
        assert_eq!((cache.entry_count(), cache.weighted_size()), (0, 2));
    }
}
