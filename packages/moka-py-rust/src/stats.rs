//! Always-on statistics: what `Moka.stats()` reports (API.md section 7).
//!
//! Relaxed atomic counters: each is exact on its own (every increment lands), and a
//! snapshot reads them one after the other, so a snapshot taken while other threads
//! run may mix counts from just before and just after an operation, as the pure
//! backend's may not (it reads them under its lock). Removals are counted by the
//! eviction listener every cache gives moka (`events::listener_for`): moka reports
//! removals only to a listener (the pure backend counts the same removals).

use moka::notification::RemovalCause;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicU64, Ordering};

const CAUSES: [&str; 4] = ["explicit", "size", "expired", "replaced"];

fn cause_index(cause: RemovalCause) -> usize {
    match cause {
        RemovalCause::Explicit => 0,
        RemovalCause::Size => 1,
        RemovalCause::Expired => 2,
        RemovalCause::Replaced => 3,
    }
}

#[derive(Default)]
pub struct Stats {
    hits: AtomicU64,
    misses: AtomicU64,
    loads: AtomicU64,
    load_failures: AtomicU64,
    load_ns: AtomicU64,
    evictions: [AtomicU64; 4],
    eviction_weight: AtomicU64,
}

impl Stats {
    /// A recorded read (`get`, `c[k]`, `get_many`, the first lookup of `get_with`).
    #[inline(always)]
    pub fn read(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// An initializer ran for `ns` nanoseconds, and raised if `failed`.
    pub fn load(&self, ns: u64, failed: bool) {
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.load_ns.fetch_add(ns, Ordering::Relaxed);
        if failed {
            self.load_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A removal reported by moka (called inside moka: no Python, no lock).
    pub fn event(&self, cause: RemovalCause, weight: u32) {
        self.evictions[cause_index(cause)].fetch_add(1, Ordering::Relaxed);
        if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
            self.eviction_weight
                .fetch_add(u64::from(weight), Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            loads: get(&self.loads),
            load_failures: get(&self.load_failures),
            load_ns: get(&self.load_ns),
            evictions: [
                get(&self.evictions[0]),
                get(&self.evictions[1]),
                get(&self.evictions[2]),
                get(&self.evictions[3]),
            ],
            eviction_weight: get(&self.eviction_weight),
        }
    }

    pub fn reset(&self) {
        let counters = [
            &self.hits,
            &self.misses,
            &self.loads,
            &self.load_failures,
            &self.load_ns,
            &self.eviction_weight,
        ];
        for c in counters.into_iter().chain(self.evictions.iter()) {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// What a cache counted since it was created or since ``reset_stats()``.
///
/// * ``hits`` / ``misses``: recorded reads (``get``, ``c[k]``, ``get_many``, and the
///   first lookup of ``get_with``) that found a live entry / did not;
/// * ``loads``: ``get_with`` initializer runs, ``load_failures`` those that raised,
///   ``load_time`` the seconds spent in them;
/// * ``evictions``: cause -> number of entries removed with that cause (what an
///   eviction listener is told, counted with or without one); ``eviction_weight``: the
///   total weight of those removed as ``"size"`` or ``"expired"``.
#[pyclass(frozen, module = "moka_py_rust._native", name = "CacheStats")]
pub struct CacheStats {
    #[pyo3(get)]
    hits: u64,
    #[pyo3(get)]
    misses: u64,
    #[pyo3(get)]
    loads: u64,
    #[pyo3(get)]
    load_failures: u64,
    load_ns: u64,
    evictions: [u64; 4],
    #[pyo3(get)]
    eviction_weight: u64,
}

#[pymethods]
impl CacheStats {
    /// Seconds spent in initializers.
    #[getter]
    fn load_time(&self) -> f64 {
        self.load_ns as f64 / 1e9
    }

    /// A read-only mapping cause -> count, for every cause.
    #[getter]
    fn evictions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let counts = PyDict::new(py);
        for (cause, n) in CAUSES.iter().zip(self.evictions) {
            counts.set_item(cause, n)?;
        }
        py.import("types")?
            .getattr("MappingProxyType")?
            .call1((counts,))
    }

    /// ``hits / (hits + misses)``, or 1.0 when nothing was read.
    #[getter]
    fn hit_rate(&self) -> f64 {
        let reads = self.hits + self.misses;
        if reads == 0 {
            1.0
        } else {
            self.hits as f64 / reads as f64
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CacheStats(hits={}, misses={}, loads={}, load_failures={}, load_time={}, \
             evictions={}, eviction_weight={})",
            self.hits,
            self.misses,
            self.loads,
            self.load_failures,
            pyo3::types::PyFloat::new(py, self.load_time()).repr()?,
            self.evictions(py)?.repr()?,
            self.eviction_weight,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<CacheStats>().is_ok_and(|o| {
            let o = o.get();
            (
                self.hits,
                self.misses,
                self.loads,
                self.load_failures,
                self.load_ns,
            ) == (o.hits, o.misses, o.loads, o.load_failures, o.load_ns)
                && self.evictions == o.evictions
                && self.eviction_weight == o.eviction_weight
        })
    }
}
