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
//! Per-key stripes are not enough. moka's size eviction (`admit` / `evict_lru_entries`)
//! picks a victim, reads its `last_accessed`, and later removes it from the map if
//! that timestamp is unchanged. An update of the victim's key that lands in between
//! shares the victim's `EntryInfo` (moka reuses it on update), so the removal takes
//! the *updated* entry out of the map while its `Upsert` is still in the log; when
//! housekeeping applies that `Upsert`, the entry is no longer admitted and is
//! admitted again: a ghost node, as above. Housekeeping runs inline in any moka call
//! (a read that fills the read log, an insert of an unrelated key), so the update and
//! the eviction race whenever two calls overlap, whatever their keys. Reproduced with
//! the crate alone: inserts, removes and reads on 200 keys, every write serialised,
//! `entry_count()` one above the map in ~1 of 10 runs; serialising the reads as
//! well removed it.
//!
//! So every moka call that writes or can run housekeeping holds one lock for the
//! whole call: moka then sees the calls one at a time, as from a single thread, the
//! case its policy bookkeeping is exact for. Python callers hold the GIL between
//! calls anyway; what is lost is only the overlap of moka's own work.
//!
//! Lock order: the lock is waited for only without the GIL (inside `py.detach`); with
//! the GIL held it is only tried (`Moka::gated`). Its holder, with or without the
//! GIL, never needs the GIL while holding it (see `cache`'s "Locks and the GIL") and
//! never takes it a second time; nothing that holds a moka lock takes it.

use parking_lot::{Mutex, MutexGuard};

pub struct WriteOrder {
    gate: Mutex<()>,
}

impl WriteOrder {
    pub fn new() -> WriteOrder {
        WriteOrder {
            gate: Mutex::new(()),
        }
    }

    /// Hold this around one moka call that writes or may run housekeeping.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        self.gate.lock()
    }

    /// The gate if it is free right now.
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, ()>> {
        self.gate.try_lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both races, on the crate alone: two threads inserting, removing and reading
    /// the same 200 keys of a 50-entry cache, every call under the gate as the
    /// bindings do. Without the gate around the writes, or only around them, local
    /// runs ended with `entry_count()` above the entries in the map (ghost policy
    /// nodes); with it, the two agree.
    #[test]
    fn gated_calls_keep_the_policy_in_step_with_the_map() {
        use std::time::{Duration, Instant};
        for round in 0..8u64 {
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
                            let _gate = order.lock();
                            match (x >> 32) % 10 {
                                0..=3 => cache.insert(k, x),
                                4..=7 => drop(cache.get(&k)),
                                _ => cache.invalidate(&k),
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
