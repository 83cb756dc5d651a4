//! Refresh-ahead's native part (`refresh_after=` on `get_with`, API.md section 8).
//!
//! The reloads themselves, the table of keys with a reload in flight (one per key and
//! cache) and the worker threads are Python, shared with the pure backend
//! (`moka_py_rust._refresh`). What is here keeps them off a hit's path: a hit checks
//! the age of the write it found and, when it is due, claims that write in its value
//! cell, so the later hits of a write whose reload is in flight never call Python.
//! The table stays the authority: a claim only decides who asks it.
//!
//! A claim is the current *fork epoch*: a forked child starts a new one, so the claims
//! of the parent's reloads (whose threads the child does not have) are void there.

use crate::args;
use crate::value::Val;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

static FORK_EPOCH: AtomicU32 = AtomicU32::new(1);

/// The epoch of this process (never 0, the value of an unclaimed cell).
fn epoch() -> u32 {
    FORK_EPOCH.load(Ordering::Relaxed)
}

#[pyfunction]
fn after_fork_in_child() {
    let next = epoch().wrapping_add(1).max(1);
    FORK_EPOCH.store(next, Ordering::Relaxed);
}

/// Registers the fork hook (from the module's init).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let os = py.import("os")?;
    if os.hasattr("register_at_fork")? {
        let hook = wrap_pyfunction!(after_fork_in_child, m)?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("after_in_child", hook)?;
        os.getattr("register_at_fork")?.call((), Some(&kwargs))?;
    }
    m.add_class::<WriteStamp>()
}

/// The value cell of one write of an entry, as refresh-ahead found it: `_replace_if`
/// writes only while that write is still the entry's latest. Holding the cell keeps its
/// address from being reused. A stamp made by a claim gives the claim back when the
/// reload lets it go (Python drops it), so a failed or refused reload can be retried.
#[pyclass(frozen, module = "moka_py_rust._native", name = "WriteStamp")]
pub struct WriteStamp {
    pub val: Val,
    claimed: u32,
}

impl WriteStamp {
    pub fn unclaimed(val: Val) -> Self {
        WriteStamp { val, claimed: 0 }
    }
}

impl Drop for WriteStamp {
    fn drop(&mut self) {
        if self.claimed != 0 {
            self.val.unclaim_refresh(self.claimed);
        }
    }
}

/// `refresh_after` in nanoseconds: `args::seconds`' rule (the one every duration
/// follows), below the ttl in effect (`ttl`, else the cache's). That last rule and its
/// message are `_refresh.refresh_ns`'s, which is called only to raise.
pub fn refresh_after_ns(
    py: Python<'_>,
    refresh_after: &Bound<'_, PyAny>,
    ttl: Option<&Bound<'_, PyAny>>,
    cache_ttl: Option<f64>,
) -> PyResult<u64> {
    let ns = args::nanos(args::seconds(Some(refresh_after), "refresh_after")?);
    let limit = match ttl {
        // A ttl that is not a number is left for the cache's own check, as in
        // `refresh_ns`. Every number involved is exact in an f64.
        Some(t) if !t.is_none() => (args::is_int(t) || args::is_float(t))
            .then(|| t.extract::<f64>())
            .transpose()?,
        _ => cache_ttl,
    };
    let at_or_above = match limit {
        Some(limit) => refresh_after.extract::<f64>()? >= limit, // false for a NaN ttl
        None => false,
    };
    if !at_or_above {
        return Ok(ns);
    }
    static REFRESH_NS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let check = REFRESH_NS.import(py, "moka_py_rust._refresh", "refresh_ns")?;
    check.call1((refresh_after, ttl, cache_ttl))?;
    Err(pyo3::exceptions::PyRuntimeError::new_err(
        "refresh_ns accepted a refresh_after at or above the ttl",
    ))
}

/// After a hit on `val` that is at least `ns` old: claims the write and hands it to
/// `_refresh.reload_in_thread`, which starts the reload unless one for the key is in
/// flight already (then the claim is given back at once, with the stamp).
#[allow(clippy::too_many_arguments)]
pub fn after_hit(
    cache: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    val: &Val,
    ns: u64,
    initializer: &Bound<'_, PyAny>,
    ttl: Option<&Bound<'_, PyAny>>,
    tti: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let epoch = epoch();
    if val.age_ns() < ns || !val.claim_refresh(epoch) {
        return Ok(());
    }
    let py = cache.py();
    let stamp = WriteStamp {
        val: Val::clone(val),
        claimed: epoch,
    };
    static RELOAD: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let reload = RELOAD.import(py, "moka_py_rust._refresh", "reload_in_thread")?;
    reload.call1((cache, key, stamp, initializer, ttl, tti))?;
    Ok(())
}
