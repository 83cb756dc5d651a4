//! `moka_py_rust._native`: the Rust backend of moka-py, a PyO3 bridge over the
//! `moka` crate's `sync::Cache`.
//!
//! One module per mechanism:
//! * `hashing`: the key hash shared with the pure backend, passed through to moka;
//! * `key`: the per-cache key interner and moka's key type (Eq without Python);
//! * `value_key`: which keys moka compares by value (ints, strs), not interned;
//! * `value`: moka's value type and the per-entry `Expiry`;
//! * `events`: eviction-listener events, queued inside moka, delivered after it;
//! * `refresh`: refresh-ahead's due check and claim on a hit (the rest is Python);
//! * `release`: releasing Python references that moka drops anywhere;
//! * `waiter`: `get_with` coalescing outside moka;
//! * `write_order`: the gate that hands moka its calls one at a time (weighted caches);
//! * `args`: argument validation with the shared messages;
//! * `cache`: the `Moka` class and its lock/GIL discipline;
//! * `docstrings`: the class's public docstrings (generated from `moka_py/_typing.pyi`);
//! * `cached`: the native call path of the `cached` decorator.

mod args;
mod cache;
mod cached;
mod docstrings;
mod events;
mod hashing;
mod key;
mod refresh;
mod release;
mod stats;
mod value;
mod value_key;
mod waiter;
mod write_order;

use pyo3::prelude::*;

/// Rust allocations only (Python objects keep CPython's allocator); see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The version of the `moka` crate linked into this module, read from Cargo.lock at
/// build time.
pub const MOKA_VERSION: &str = env!("MOKA_PY_LINKED_MOKA_VERSION");

/// Rust backend of moka-py: a concurrent cache built on the moka crate.
///
/// `gil_used = true`: the bridge relies on the GIL (the interner and waiter dicts,
/// the value cells' take/get, `GilCell`), so a free-threaded interpreter keeps the
/// GIL enabled when it imports this module.
#[pymodule(gil_used = true)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<cache::Moka>()?;
    refresh::register(m)?;
    m.add_class::<cached::CachedFunction>()?;
    m.add_class::<stats::CacheStats>()?;
    m.add("MOKA_VERSION", MOKA_VERSION)?;
    m.add("__version__", "1.0.0.dev0")?;
    m.add("KEY_HASH_MIX", "fmix64")?;
    m.add_function(wrap_pyfunction!(key_hash, m)?)?;
    Ok(())
}

/// ``key_hash(key) -> int``: the hash moka sees for ``key``,
/// ``fmix64(hash(key) mod 2**64)`` (shared with the pure backend), found the way every
/// cache call finds it (`cache::hashed`, which skips `__hash__` for value keys).
#[pyfunction]
fn key_hash(key: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(hashing::key_hash(cache::hashed(key.py(), key)?.py_hash))
}

#[cfg(test)]
mod tests {
    #[test]
    fn linked_moka_is_exactly_0_12_16() {
        // The pure backend mirrors moka 0.12.16; see Cargo.toml's exact pin.
        assert_eq!(super::MOKA_VERSION, "0.12.16");
    }
}
