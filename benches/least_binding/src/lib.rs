//! moka-least-binding: the least a PyO3 binding of moka does per call.
//!
//! Also moka alone, timed from Rust (`moka_alone.rs`): the other half of the bench floor.
//!
//! A floor for `benches/` (issue #5), not a cache. Its `Moka` has the call shapes of
//! moka-py's (`get(key, default=None)`, `set(key, value, ttl=None, tti=None)`,
//! `get_with(key, initializer, ttl=None, tti=None)`, `remove(key)`), PyO3's argument
//! handling, and a moka 0.12.16 cache built as the Rust backend builds it (the same
//! pass-through hasher fed `fmix64(hash(key))`, `expire_after` without per-entry
//! deadlines, the policy, `time_to_live` when given, mimalloc, the release profile).
//! Per call it does only what any binding must: one `hash(key)`, the moka call, one
//! reference for the value, nothing else. So it is wrong where moka-py must be right:
//! keys are their 64-bit hash (two keys with one hash are one entry), `ttl`/`tti`
//! per entry, listeners, weights and stampede protection are ignored, and a value
//! dropped without the GIL waits in PyO3's pool. What moka-py's backend (or 0.5.0)
//! costs above it is the price of its features; what it costs itself is beyond any
//! binding's reach.

mod backend_like;
mod moka_alone;

use backend_like::{fmix64, new_cache, PassThrough};
use moka::sync::Cache;
use pyo3::prelude::*;
use std::sync::Arc;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Value = Arc<Py<PyAny>>;

#[inline]
fn key_of(key: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(fmix64(key.hash()? as u64))
}

/// moka behind PyO3 and nothing else (see the module docs: a floor, not a cache).
#[pyclass(frozen)]
struct Moka {
    cache: Cache<u64, Value, PassThrough>,
}

#[pymethods]
impl Moka {
    #[new]
    #[pyo3(signature = (capacity, ttl=None, policy="tiny_lfu"))]
    fn new(capacity: u64, ttl: Option<f64>, policy: &str) -> PyResult<Self> {
        Ok(Moka {
            cache: new_cache(policy, capacity, ttl)?,
        })
    }

    #[pyo3(signature = (key, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        Ok(match self.cache.get(&key_of(key)?) {
            Some(v) => v.clone_ref(py),
            None => default.unwrap_or_else(|| py.None()),
        })
    }

    #[pyo3(signature = (key, value, ttl=None, tti=None))]
    fn set(
        &self,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = (ttl, tti); // taken for the call shape only
        self.cache
            .insert(key_of(key)?, Arc::new(value.clone().unbind()));
        Ok(())
    }

    #[pyo3(signature = (key, initializer, ttl=None, tti=None))]
    fn get_with(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        initializer: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = (ttl, tti);
        let k = key_of(key)?;
        // A hit is one `get` (as moka-py serves it); the miss path is not coalesced.
        if let Some(v) = self.cache.get(&k) {
            return Ok(v.clone_ref(py));
        }
        let v = initializer.call0()?.unbind();
        self.cache.insert(k, Arc::new(v.clone_ref(py)));
        Ok(v)
    }

    fn remove(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(match self.cache.remove(&key_of(key)?) {
            Some(v) => v.clone_ref(py),
            None => py.None(),
        })
    }

    fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }
}

#[pymodule]
fn moka_least_binding(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Moka>()?;
    m.add_class::<moka_alone::MokaAlone>()
}
