//! Moka alone: what the `moka` crate costs per operation, with no Python in the timed loop.
//!
//! The cache is built the way the moka-py Rust backend builds it (`backend_like.rs`), and the
//! harness prepares and times it as it does every subject (`benches/timing.py`), with one
//! difference: its one call, `run(op, keys)`, makes a whole loop's calls in Rust and returns
//! their elapsed ns. Keys are the harness's ints, each mixed by `fmix64` (untimed) as the backend
//! mixes an int's hash, and values a `u64`, so only moka is measured.

use crate::backend_like::{fmix64, new_cache, PassThrough};
use moka::sync::Cache;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::hint::black_box;
use std::time::Instant;

const VALUE: u64 = 7;

fn mixed(keys: Vec<u64>) -> Vec<u64> {
    keys.into_iter().map(fmix64).collect()
}

/// moka alone: `MokaAlone(capacity, ttl=None, policy="tiny_lfu")` (the least binding's `Moka`
/// signature), filled by `fill`, timed by `run`.
#[pyclass(module = "moka_least_binding", frozen)]
pub struct MokaAlone {
    cache: Cache<u64, u64, PassThrough>,
}

#[pymethods]
impl MokaAlone {
    #[new]
    #[pyo3(signature = (capacity, ttl=None, policy="tiny_lfu"))]
    fn new(capacity: u64, ttl: Option<f64>, policy: &str) -> PyResult<Self> {
        Ok(MokaAlone {
            cache: new_cache(policy, capacity, ttl)?,
        })
    }

    /// Insert every key, run the pending tasks: how many of the keys the cache then holds.
    fn fill(&self, keys: Vec<u64>) -> usize {
        let keys = mixed(keys);
        keys.iter().for_each(|&k| self.cache.insert(k, VALUE));
        self.cache.run_pending_tasks();
        keys.iter().filter(|&k| self.cache.contains_key(k)).count()
    }

    fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }

    /// One timed loop of `op` (`get`, `get_with`, `set` or `remove`) over `keys`: elapsed ns.
    fn run(&self, op: &str, keys: Vec<u64>) -> PyResult<u64> {
        let (cache, keys) = (&self.cache, mixed(keys));
        let t0 = Instant::now();
        match op {
            "get" => keys.iter().for_each(|k| {
                black_box(cache.get(k));
            }),
            // How a get_with binding serves a hit: one `get`; `get_with` only on a miss.
            "get_with" => keys.iter().for_each(|&k| {
                black_box(cache.get(&k).unwrap_or_else(|| cache.get_with(k, || VALUE)));
            }),
            "set" => keys.iter().for_each(|&k| cache.insert(k, VALUE)),
            "remove" => keys.iter().for_each(|k| {
                black_box(cache.remove(k));
            }),
            _ => return Err(PyValueError::new_err(format!("unknown operation {op:?}"))),
        }
        Ok(t0.elapsed().as_nanos() as u64)
    }
}
