//! Moka alone: what the `moka` crate costs per operation, with no Python in the timed loop.
//!
//! The cache is built the way the moka-py Rust backend builds it (`backend_like.rs`): the
//! pass-through hasher, the per-entry expiry, the policy, `time_to_live` when given. Its keys
//! are the harness's own (`benches/timing.py`'s `loop_keys`), each mixed by `fmix64` as the
//! backend mixes an int's hash, and its values `u64`, so only moka is measured. Each loop is
//! `timing.py`'s: the cache settled before it, the keys it consumes made (or the cache refilled)
//! before it, untimed; `benches/floor.py` calibrates and repeats it like any subject's, in the
//! same alternating rounds.

use crate::backend_like::{fmix64, new_cache, PassThrough};
use moka::sync::Cache;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

const VALUE: u64 = 7;

type Moka = Cache<u64, u64, PassThrough>;

fn fill(cache: &Moka, keys: &[u64]) {
    for &k in keys {
        cache.insert(k, VALUE);
    }
    cache.run_pending_tasks();
}

#[derive(Clone, Copy)]
enum Op {
    Get,
    GetWith,
    Insert,
    Remove,
}

/// One timed loop over `keys`, in ns.
fn timed(op: Op, cache: &Moka, keys: &[u64]) -> u64 {
    let t0 = Instant::now();
    match op {
        Op::Get => keys.iter().for_each(|k| {
            black_box(cache.get(k));
        }),
        // How a get_with binding serves a hit: one `get`; `get_with` only on a miss.
        Op::GetWith => keys.iter().for_each(|&k| {
            black_box(cache.get(&k).unwrap_or_else(|| cache.get_with(k, || VALUE)));
        }),
        Op::Insert => keys.iter().for_each(|&k| cache.insert(k, VALUE)),
        Op::Remove => keys.iter().for_each(|k| {
            black_box(cache.remove(k));
        }),
    }
    t0.elapsed().as_nanos() as u64
}

/// How each loop gets its keys.
enum Keys {
    /// The first `n` of a fixed access order.
    Order(Vec<u64>),
    /// `n` keys never seen before (set_evict), from 2**50 with a stride (as `timing.fresh_keys`).
    Fresh(u64),
    /// Refill `stored` before each loop and remove them all in `order` (remove).
    Refill { stored: Vec<u64>, order: Vec<u64> },
}

/// moka alone set up for one operation, then `run(n)` per loop.
#[pyclass(module = "moka_least_binding")]
pub struct MokaAlone {
    op: Op,
    cache: Moka,
    keys: Keys,
}

#[pymethods]
impl MokaAlone {
    /// A cache of capacity `len(stored)` holding `stored`, whose loops run `op` (`get`,
    /// `get_with`, `set` or `remove`) over the first `n` keys of `order` (`None`: over `n` keys
    /// never seen before; with `refill`, over all of `order`, `stored` inserted again before
    /// each loop). An error if the cache does not hold exactly `stored` of the keys the loops
    /// use: each loop must time the shape it claims (every hit a hit, every miss a miss).
    #[new]
    #[pyo3(signature = (op, policy, stored, order, ttl=None, refill=false))]
    fn new(
        op: &str,
        policy: &str,
        stored: Vec<u64>,
        order: Option<Vec<u64>>,
        ttl: Option<f64>,
        refill: bool,
    ) -> PyResult<Self> {
        let op = match op {
            "get" => Op::Get,
            "get_with" => Op::GetWith,
            "set" => Op::Insert,
            "remove" => Op::Remove,
            _ => return Err(PyValueError::new_err(format!("unknown operation {op:?}"))),
        };
        let cache = new_cache(policy, stored.len() as u64, ttl)?;
        let mixed = |keys: Vec<u64>| keys.into_iter().map(fmix64).collect::<Vec<_>>();
        let (stored, order) = (mixed(stored), order.map(mixed));
        fill(&cache, &stored);
        let expected: HashSet<u64> = stored.iter().copied().collect();
        let used = stored.iter().chain(order.iter().flatten());
        let wrong = used
            .filter(|&k| cache.contains_key(k) != expected.contains(k))
            .count();
        if wrong > 0 {
            return Err(PyValueError::new_err(format!("{wrong} keys not as stored")));
        }
        let keys = match order {
            None => Keys::Fresh(1 << 50),
            Some(order) if refill => Keys::Refill { stored, order },
            Some(order) => Keys::Order(order),
        };
        Ok(MokaAlone { op, cache, keys })
    }

    /// One loop of `n` calls (a `Refill` loop: of every key): elapsed ns and calls.
    fn run(&mut self, n: usize) -> (u64, usize) {
        let fresh;
        let keys: &[u64] = match &mut self.keys {
            Keys::Order(order) => &order[..n.min(order.len())],
            Keys::Fresh(next) => {
                fresh = (0..n as u64)
                    .map(|i| fmix64(*next + 7 * i))
                    .collect::<Vec<_>>();
                *next += 7 * n as u64;
                &fresh
            }
            Keys::Refill { stored, order } => {
                fill(&self.cache, stored);
                order
            }
        };
        self.cache.run_pending_tasks();
        (timed(self.op, &self.cache, keys), keys.len())
    }
}
