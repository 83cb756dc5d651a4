//! `get_with` coalescing, done in the binding rather than with moka's `get_with`
//! (which would run the Python initializer inside moka's waiter lock).
//!
//! Each cache has a waiter map: a Python dict (used with the GIL held, through the
//! known-hash API) from key to a capsule owning an `Arc<Waiter>`. The first thread
//! that misses registers a waiter and becomes its owner; it runs the initializer with
//! the GIL held and no lock held, inserts through the normal insert path, publishes
//! the outcome, and unregisters. Other threads wait on the waiter's condition
//! variable with the GIL released, waking at least every 100 ms to re-attach and run
//! signal handlers (so Ctrl-C reaches a waiting main thread).
//!
//! The waiter's mutex is a leaf lock: it is held only to read or write the state or
//! inside `Condvar::wait_for` (which releases it), never while waiting for the GIL.

use crate::key::{arc_capsule, capsule_ptr, dict_discard, dict_get, dict_set};
use parking_lot::{Condvar, Mutex};
use pyo3::exceptions::PyException;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;

/// How long a waiter sleeps before re-attaching to check for signals.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

enum State {
    Pending,
    /// The initializer returned this value (it was inserted).
    Value(Py<PyAny>),
    /// The initializer raised this `Exception`: every waiter raises the same object.
    Error(Py<PyAny>),
    /// The owner left with a `BaseException` that is not an `Exception`
    /// (KeyboardInterrupt, SystemExit): waiters retry, one becomes the new owner.
    Retry,
}

pub enum Outcome {
    Value(Py<PyAny>),
    Error(Py<PyAny>),
    Retry,
}

pub struct Waiter {
    owner: ThreadId,
    state: Mutex<State>,
    done: Condvar,
}

impl Waiter {
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.owner == std::thread::current().id()
    }

    pub fn is_pending(&self) -> bool {
        matches!(*self.state.lock(), State::Pending)
    }

    /// Publish the owner's result and wake every waiter. GIL held.
    pub fn publish(&self, py: Python<'_>, result: &PyResult<Py<PyAny>>) {
        let state = match result {
            Ok(v) => State::Value(v.clone_ref(py)),
            Err(e) if e.is_instance_of::<PyException>(py) => {
                State::Error(e.value(py).clone().into_any().unbind())
            }
            Err(_) => State::Retry,
        };
        let old = std::mem::replace(&mut *self.state.lock(), state);
        self.done.notify_all();
        drop(old);
    }

    /// Let waiters retry if the owner never published (a Rust panic unwinding
    /// through the owner). Needs no GIL: a pending state holds no Python object.
    pub fn abandon_if_pending(&self) {
        let mut state = self.state.lock();
        if matches!(*state, State::Pending) {
            *state = State::Retry;
            self.done.notify_all();
        }
    }

    /// Block until the owner publishes, with the GIL released. Returns the error of a
    /// signal handler (e.g. KeyboardInterrupt) if one raised meanwhile.
    pub fn wait(&self, py: Python<'_>) -> PyResult<Outcome> {
        loop {
            let done = py.detach(|| {
                let mut state = self.state.lock();
                if matches!(*state, State::Pending) {
                    self.done.wait_for(&mut state, SIGNAL_CHECK_INTERVAL);
                }
                !matches!(*state, State::Pending)
            });
            if done {
                return Ok(self.outcome(py));
            }
            py.check_signals()?;
        }
    }

    fn outcome(&self, py: Python<'_>) -> Outcome {
        match &*self.state.lock() {
            State::Value(v) => Outcome::Value(v.clone_ref(py)),
            State::Error(e) => Outcome::Error(e.clone_ref(py)),
            State::Retry | State::Pending => Outcome::Retry,
        }
    }
}

/// Calls `abandon_if_pending` when dropped: whatever happens to the owner, its
/// waiters never wait forever.
pub struct OwnerGuard(pub Arc<Waiter>);

impl Drop for OwnerGuard {
    fn drop(&mut self) {
        self.0.abandon_if_pending();
    }
}

pub struct Waiters {
    dict: Py<PyDict>,
}

impl Waiters {
    pub fn new(py: Python<'_>) -> Waiters {
        Waiters {
            dict: PyDict::new(py).unbind(),
        }
    }

    pub fn dict(&self) -> &Py<PyDict> {
        &self.dict
    }

    /// The waiter registered for `key`, if any. Runs `__eq__` of colliding keys.
    pub fn find(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<Option<Arc<Waiter>>> {
        // SAFETY: GIL held; the dict holds only capsules of `Arc<Waiter>`; the capsule
        // is alive while we take our own strong count (no Python code in between).
        unsafe {
            let cap = dict_get(py, self.dict.as_ptr(), key.as_ptr(), py_hash)?;
            if cap.is_null() {
                return Ok(None);
            }
            let w = capsule_ptr::<Waiter>(cap);
            Arc::increment_strong_count(w);
            Ok(Some(Arc::from_raw(w)))
        }
    }

    /// Register a new waiter owned by the current thread.
    pub fn register(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<Arc<Waiter>> {
        let w = Arc::new(Waiter {
            owner: std::thread::current().id(),
            state: Mutex::new(State::Pending),
            done: Condvar::new(),
        });
        // SAFETY: GIL held.
        unsafe {
            let cap = arc_capsule(py, Arc::clone(&w))?;
            let r = dict_set(py, self.dict.as_ptr(), key.as_ptr(), cap, py_hash);
            ffi::Py_DECREF(cap);
            r?;
        }
        Ok(w)
    }

    /// Remove `w` if `key` still maps to it.
    pub fn unregister(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        py_hash: ffi::Py_hash_t,
        w: &Arc<Waiter>,
    ) -> PyResult<()> {
        if let Some(current) = self.find(py, key, py_hash)? {
            if Arc::ptr_eq(&current, w) {
                // A miss here (an inconsistent `__eq__`) leaves a finished waiter behind;
                // whoever finds it later drops it and looks again.
                // SAFETY: GIL held.
                unsafe { dict_discard(py, self.dict.as_ptr(), key.as_ptr(), py_hash)? };
            }
        }
        Ok(())
    }

    pub fn clear(&self, py: Python<'_>) {
        self.dict.bind(py).clear();
    }
}
