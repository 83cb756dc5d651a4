//! Moka alone: what the `moka` crate costs per operation, with no Python in the timed loop.
//!
//! The cache is built the way the moka-py Rust backend builds it (`backend_like.rs`): the
//! pass-through hasher, the per-entry expiry, the policy, capacity `n_keys` and
//! `time_to_live(60 s)` for the ttl operation. Keys are `u64` (already the mixed hash, as the
//! backend's keys write theirs) and values `u64`, so only moka is measured. Each loop is
//! `benches/timing.py`'s: the cache settled before it, the keys it consumes made (or the cache
//! refilled) before it, untimed; `benches/floor.py` calibrates and repeats it like any subject's,
//! in the same alternating rounds.

use crate::backend_like::{fmix64, new_cache, PassThrough};
use moka::sync::Cache;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SEED: u64 = 20_240_531;
const VALUE: u64 = 7;

type Moka = Cache<u64, u64, PassThrough>;

fn fill(cache: &Moka, keys: &[u64]) {
    for &k in keys {
        cache.insert(k, VALUE);
    }
    cache.run_pending_tasks();
}

/// A small seeded generator (splitmix64): the key shapes matter here, not their values.
struct Rng(u64);

impl Rng {
    fn new(salt: u64) -> Self {
        Rng(SEED.wrapping_mul(1_000).wrapping_add(salt))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        fmix64(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` distinct id-like 48-bit ints (as `timing.int_keys`), as the hashes moka sees.
fn int_keys(n: usize, salt: u64) -> Vec<u64> {
    let mut rng = Rng::new(salt);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = (rng.next() & ((1 << 48) - 1)) | (1 << 47);
        if seen.insert(k) {
            out.push(fmix64(k));
        }
    }
    out
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

/// moka alone set up for one operation: `MokaAlone(op, policy, n_keys, max_keys)`, then
/// `run(n)` per loop.
#[pyclass(module = "moka_least_binding")]
pub struct MokaAlone {
    op: Op,
    cache: Moka,
    keys: Keys,
}

#[pymethods]
impl MokaAlone {
    #[new]
    fn new(op: &str, policy: &str, n_keys: usize, max_keys: usize) -> PyResult<Self> {
        prepare(op, policy, n_keys, max_keys.max(2))
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

/// An error unless exactly `expect` of `keys` are in `cache`: the loop must time the shape it
/// claims (every hit a hit, every miss a miss).
fn check_hits(cache: &Moka, keys: &[u64], expect: usize, what: &str) -> PyResult<()> {
    let found = keys.iter().filter(|&k| cache.get(k).is_some()).count();
    if found == expect {
        return Ok(());
    }
    Err(PyValueError::new_err(format!("{what}: {found} keys found")))
}

/// The cache and keys of one operation; an error for an operation or policy it does not know.
fn prepare(op_name: &str, policy: &str, n: usize, max_keys: usize) -> PyResult<MokaAlone> {
    let unknown =
        || PyValueError::new_err(format!("unknown operation or policy: {op_name} {policy}"));
    let filled = |keys: &[u64], ttl| {
        let cache = new_cache(policy, n as u64, ttl).ok_or_else(unknown)?;
        fill(&cache, keys);
        check_hits(&cache, keys, n, op_name).map(|()| cache)
    };
    // `max_keys` uniform draws over `universe`.
    let order = |universe: &[u64], salt: u64| {
        let mut rng = Rng::new(salt + 7);
        let draws = (0..max_keys).map(|_| universe[rng.below(universe.len())]);
        Keys::Order(draws.collect())
    };
    let stored = int_keys(n, 1);
    let (op, cache, keys) = match op_name {
        "get_hit_int" => (Op::Get, filled(&stored, None)?, order(&stored, 1)),
        "get_miss_int" => {
            let missing = int_keys(n, 3);
            let cache = filled(&stored, None)?;
            check_hits(&cache, &missing, 0, op_name)?;
            (Op::Get, cache, order(&missing, 3))
        }
        "set_replace" => (Op::Insert, filled(&stored, None)?, order(&stored, 1)),
        "set_evict" => (Op::Insert, filled(&stored, None)?, Keys::Fresh(1 << 50)),
        "get_with_hit" => (Op::GetWith, filled(&stored, None)?, order(&stored, 1)),
        "get_hit_ttl" => {
            let cache = filled(&stored, Some(Duration::from_secs(60)))?;
            (Op::Get, cache, order(&stored, 1))
        }
        // A cache of every other operation's size, emptied in a shuffled order (as `timing.py`).
        "remove" => {
            let stored = int_keys(n, 5);
            let mut order = stored.clone();
            let mut rng = Rng::new(5);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let cache = filled(&stored, None)?;
            (Op::Remove, cache, Keys::Refill { stored, order })
        }
        _ => return Err(unknown()),
    };
    Ok(MokaAlone { op, cache, keys })
}
