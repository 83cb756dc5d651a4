//! The `Moka` class: a thin bridge from Python calls to a `moka::sync::Cache`.
//!
//! # Locks and the GIL
//!
//! Three rules keep every combination of threads, listeners and initializers free of
//! deadlocks:
//!
//! 1. One gate before moka, in weighted caches. There, every moka call that writes
//!    or can run housekeeping (reads, inserts, removes, `clear`, `run_pending_tasks`)
//!    holds the `write_order` gate around the moka call only, so moka sees the calls
//!    one at a time (see `write_order` for why only weighted caches need it). Then
//!    moka's locks (key locks, which exist with a listener; the housekeeping lock and
//!    the ones taken under it) are only taken by the gate's holder. Without a gate,
//!    Python threads still reach moka one at a time (they hold the GIL), except
//!    around the calls that run detached (`clear`, `run_pending_tasks`, `__clear__`):
//!    a call with the GIL may then wait briefly for a moka lock, or for moka's
//!    write-log back-pressure loop, held or drained by a detached call, which never
//!    needs the GIL to finish (rule 2). The calls that skip the gate (`contains_key`,
//!    `entry_count`, `weighted_size`, `iter` in `__traverse__`) take no lock of ours.
//! 2. The GIL is never needed while the gate or a moka lock is held: nothing that
//!    runs inside moka (our `Hash`, `Eq`, `Drop` of keys and values, the
//!    eviction-listener callback, `Expiry`, the weigher) calls Python or waits for the
//!    GIL. The Python weigher runs before moka is called; moka's weigher reads the
//!    stored result. Listener events are queued and delivered after moka returns.
//!    References that moka drops are released through `release::defer_decref`,
//!    which decrements in place only when that frees nothing and otherwise queues
//!    them for `release::drain`, run at the end of each call. The epoch collector,
//!    which moka's map drives from inside its calls, only runs those drops.
//! 3. Nothing waits for the gate with the GIL held. Single-key calls (`Moka::gated`)
//!    try it with the GIL held: when it is free, the moka call runs at once without
//!    releasing the GIL (by rule 1 it does not block, and releasing and re-taking the
//!    GIL would cost more than the call); when it is busy, its holder is inside moka
//!    without the GIL (a thread holding the GIL cannot be), so they release the GIL,
//!    wait, and run the call detached. Calls that can take long (`clear`,
//!    `run_pending_tasks`, `__clear__`) always release the GIL first. `get_with`
//!    waiters wait on their waiter (a leaf lock) without the GIL and without the gate.
//!
//! # Value keys
//!
//! Value keys (`value_key`: int-valued keys and exact `str`s) reach moka by value and
//! are not interned; every other key is. One entry per key (up to Python equality)
//! then needs care only for an interned key `k` that may equal a value key
//! (`Decimal(1)`, a `str` subclass, a class with its own `__eq__`):
//!
//! * Looking `k` up: the interner first; if `k` is not interned, each value entry
//!   that `k` could equal (same `hash()`: the ints of `value_key::ints_with_hash`, the
//!   strs that `key::StrSearch` finds) that moka contains is compared with `k` in
//!   Python, as a dict would compare them. An equal one is `k`'s entry.
//! * Inserting such a `k` that is not interned: first set `values_shadowed` (from then
//!   on every value key is looked up in the interner before moka, and an equal
//!   interned key is its entry); then wait until no value-keyed insert decided before
//!   the flag (so without that lookup) is still on its way into moka without the GIL
//!   (`value_inserts_detached`); only then search the value entries, so that none can
//!   appear behind our back. An equal value entry is `k`'s entry; otherwise `k` is
//!   interned.
//!
//! Caches that only ever see ints, strs, tuples and the like never set the flag. Two
//! gaps remain, both benign: a comparison `__eq__` that switches threads can let an
//! equal value key be inserted meanwhile (two entries for equal keys, as in the
//! interner's own gap, see `key`), and an expired value entry that moka has not
//! removed yet is not found, so such a `k` gets an entry of its own and the expired
//! one is reported at the next housekeeping rather than at the insert.
//!
//! Each public method ends with `finish`: deliver this cache's listener events, reap
//! dead interner entries, release queued references. All three run with the GIL held
//! and no lock held, so Python code they run may re-enter the cache freely.

use crate::args::{self, Arg, Policy};
use crate::docstrings::moka_doc;
use crate::events::{self, cause_name, Event};
use crate::hashing::{key_hash, PassThrough};
use crate::key::{token_arc, Interner, Key, KeyId, Peek, Probe, StrSearch, Token, TokenPin};
use crate::refresh::{self, WriteStamp};
use crate::release;
use crate::stats::{CacheStats, Stats};
use crate::value::{instant_nanos, PerEntryExpiry, Val, ValueCell, NO_DEADLINE};
use crate::value_key::{self, KeyClass};
use crate::waiter::{Outcome, OwnerGuard, Waiters};
use crate::write_order::WriteOrder;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyIterator, PyList, PyTuple, PyType};
use pyo3::PyTraverseError;
use std::cell::UnsafeCell;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

type MokaCache = moka::sync::Cache<Key, Val, PassThrough>;

/// Flushes of the epoch collector allowed after housekeeping (see `settle_epoch`).
const SETTLE_ROUNDS: usize = 4096;

/// A cell whose contents are only accessed with the GIL held (this extension does
/// not declare free-threading support, so the GIL is always there). Used for the
/// callables that `__clear__` must be able to drop.
struct GilCell<T>(UnsafeCell<T>);

// SAFETY: every access takes a `Python` token, i.e. happens with the GIL held, and no
// reference obtained from `get` is kept across a call into Python.
unsafe impl<T: Send> Sync for GilCell<T> {}

impl<T> GilCell<T> {
    fn new(v: T) -> Self {
        GilCell(UnsafeCell::new(v))
    }

    fn get<'a>(&'a self, _py: Python<'a>) -> &'a T {
        // SAFETY: see the `Sync` impl.
        unsafe { &*self.0.get() }
    }

    fn replace(&self, _py: Python<'_>, v: T) -> T {
        // SAFETY: see the `Sync` impl.
        unsafe { std::mem::replace(&mut *self.0.get(), v) }
    }
}

impl GilCell<Option<Py<PyAny>>> {
    fn cloned(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.get(py).as_ref().map(|o| o.clone_ref(py))
    }
}

/// Drains the release queue when the cache is deallocated (declared last, so it runs
/// after moka and the interner have dropped everything they held).
struct ReleaseOnDrop;

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        Python::attach(release::drain);
    }
}

static TRAVERSE_MARK: AtomicU64 = AtomicU64::new(1);

fn visit_raw(visit: &PyVisit<'_>, ptr: *mut ffi::PyObject) -> Result<(), PyTraverseError> {
    if ptr.is_null() {
        return Ok(());
    }
    // SAFETY: `Py<PyAny>` is a transparent non-null object pointer; we only lend it to
    // `visit` for the duration of the call, without touching the refcount.
    let obj: &Py<PyAny> = unsafe { &*(&ptr as *const *mut ffi::PyObject as *const Py<PyAny>) };
    visit.call(obj)
}

/// A key's `hash()` and class (`value_key::classify`), found once per call.
#[derive(Clone, Copy)]
pub(crate) struct Hashed {
    pub py_hash: ffi::Py_hash_t,
    pub class: KeyClass,
}

/// `hash(key)` and the class of `key`, without a `__hash__` call for value keys
/// (every public call starts here):
///
/// * an int-valued key's hash is computed from its value, which `classify` has read:
///   numbers that compare equal hash equal, and such a key compares and hashes as int
///   (or float) does, so `hash(key) == hash(int(key))`;
/// * an exact `str` keeps its hash in the object once computed (CPython's dict reads
///   it there too).
#[inline(always)]
pub(crate) fn hashed(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Hashed> {
    let ptr = key.as_ptr();
    // SAFETY: GIL held; `key` is alive.
    let mut class = unsafe { value_key::classify(ptr) };
    let py_hash = match class {
        KeyClass::Int(v) => value_key::int_hash(v),
        // SAFETY: an exact str is a `PyASCIIObject`; -1 means "not computed yet".
        KeyClass::Str => match unsafe { (*ptr.cast::<ffi::PyASCIIObject>()).hash } {
            -1 => object_hash(py, ptr)?,
            h => h,
        },
        KeyClass::Other { .. } => {
            let h = object_hash(py, ptr)?;
            // An exact str that was not ready (made by a legacy C API, CPython < 3.12)
            // is readied by `hash()`: from then on it is a str key (see `classify`).
            // SAFETY: GIL held; `key` is alive.
            if unsafe { ffi::PyUnicode_CheckExact(ptr) } != 0 {
                class = unsafe { value_key::classify(ptr) };
            }
            h
        }
    };
    Ok(Hashed { py_hash, class })
}

/// `hash(obj)`.
fn object_hash(py: Python<'_>, obj: *mut ffi::PyObject) -> PyResult<ffi::Py_hash_t> {
    // SAFETY: GIL held; `obj` is alive.
    match unsafe { ffi::PyObject_Hash(obj) } {
        -1 => Err(PyErr::fetch(py)),
        h => Ok(h),
    }
}

/// `key, value = pair`, as the pure backend unpacks it: any iterable of exactly two
/// items; otherwise `TypeError` naming the item.
fn unpack_pair<'py>(
    py: Python<'py>,
    what: &str,
    index: usize,
    pair: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if let Ok(t) = pair.cast_exact::<PyTuple>() {
        if t.len() == 2 {
            return Ok((t.get_item(0)?, t.get_item(1)?));
        }
    }
    let not_a_pair = || -> PyResult<PyErr> {
        Ok(PyTypeError::new_err(format!(
            "{what}: item {index} is not a (key, value) pair: {}",
            pair.repr()?
        )))
    };
    let unpacking =
        |e: &PyErr| e.is_instance_of::<PyTypeError>(py) || e.is_instance_of::<PyValueError>(py);
    let mut items = match pair.try_iter() {
        Ok(items) => items,
        Err(e) if unpacking(&e) => return Err(not_a_pair()?),
        Err(e) => return Err(e),
    };
    let mut next = || -> PyResult<Option<Bound<'py, PyAny>>> {
        match items.next() {
            None => Ok(None),
            Some(Ok(item)) => Ok(Some(item)),
            Some(Err(e)) if unpacking(&e) => Err(not_a_pair()?),
            Some(Err(e)) => Err(e),
        }
    };
    match (next()?, next()?) {
        (Some(k), Some(v)) if next()?.is_none() => Ok((k, v)),
        _ => Err(not_a_pair()?),
    }
}

/// `iter(keys)`, or `TypeError` naming the method.
fn iterate<'py>(what: &str, keys: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyIterator>> {
    keys.try_iter().map_err(|e| {
        if e.is_instance_of::<PyTypeError>(keys.py()) {
            PyTypeError::new_err(format!(
                "{what} expects an iterable of keys, not {}",
                args::type_name(keys)
            ))
        } else {
            e
        }
    })
}

fn keep_first(slot: &mut Option<PyErr>, r: PyResult<()>) {
    if let Err(e) = r {
        if slot.is_none() {
            *slot = Some(e);
        }
    }
}

// The public docstrings are moka_py.Moka's (see `docstrings`).
#[doc = moka_doc!(Moka)]
#[pyclass(
    frozen,
    weakref,
    subclass,
    module = "moka_py_rust._native",
    name = "Moka"
)]
pub struct Moka {
    cache: MokaCache,
    interner: Interner,
    waiters: Waiters,
    /// Hands moka its calls one at a time (see `write_order`).
    write_order: WriteOrder,
    listener: GilCell<Option<Py<PyAny>>>,
    weigher: GilCell<Option<Py<PyAny>>>,
    has_listener: bool,
    has_weigher: bool,
    cache_id: u64,
    capacity: Option<u64>,
    ttl: Option<f64>,
    tti: Option<f64>,
    /// The cache-wide ttl / tti in nanoseconds, `NO_DURATION` when not set.
    ttl_ns: u64,
    tti_ns: u64,
    policy: Policy,
    /// Shared with moka's eviction listener, which counts the removals.
    stats: Arc<Stats>,
    /// Set once a value that the garbage collector tracks has been stored; until
    /// then `__traverse__` need not walk the entries.
    gc_values: AtomicBool,
    /// Set once the interner may hold a key equal to a value key ("Value keys").
    values_shadowed: AtomicBool,
    /// Value-keyed inserts waiting for the gate without the GIL ("Value keys").
    value_inserts_detached: AtomicUsize,
    /// The size bound's slack, `min(64, capacity / 8)` (API.md section 6; `None` when
    /// unbounded or at capacity 0): see `Moka::bound_after_write`.
    slack: Option<u64>,
    /// Weight written since housekeeping last ran at this cache's own request.
    written: AtomicU64,
    /// Held by `clear` and `run_pending_tasks` (without the GIL, after the gate) and by
    /// refresh-ahead's conditional write (`insert_if`): neither can then fall between
    /// that write's check and its insert, even in a cache without a gate.
    refresh_writes: parking_lot::Mutex<()>,
    _release_on_drop: ReleaseOnDrop,
}

/// Where a looked-up key is in moka: an int value, a `str` (the key itself or an
/// equal stored one, held here for as long as a probe may read it), or an interned
/// token (null when the key is not interned: it is in no entry).
enum Located<'py> {
    Int(i64),
    Str(Bound<'py, PyAny>),
    Tok(*const Token),
}

impl Located<'_> {
    #[inline]
    fn probe(&self, hash: u64) -> Probe {
        match self {
            Located::Int(v) => Probe::int(hash, *v),
            // SAFETY: an exact, ready str (`value_key::classify`), alive while `self` is.
            Located::Str(s) => unsafe { Probe::str(hash, s.as_ptr()) },
            Located::Tok(tok) => Probe::token(hash, *tok),
        }
    }

    /// The token a probe points to, to pin while the GIL is released (see `gated`).
    #[inline]
    fn token(&self) -> *const Token {
        match self {
            Located::Tok(tok) => *tok,
            Located::Int(_) | Located::Str(_) => std::ptr::null(),
        }
    }

    /// The moka key of an entry found here (for an insert).
    ///
    /// # Safety
    /// A token is non-null and was borrowed from the interner with no Python code run
    /// since.
    #[inline]
    unsafe fn into_key(self, py: Python<'_>, hash: u64, val: &Val) -> Key {
        let val = Arc::downgrade(val);
        match self {
            Located::Int(v) => Key::int(v, hash, val),
            Located::Str(s) => Key::str(&s, hash, val),
            Located::Tok(tok) => Key::interned(py, token_arc(tok), hash, val),
        }
    }
}

/// Counts a detached value-keyed insert for as long as it lives.
struct DetachedInsert<'a>(&'a AtomicUsize);

impl Drop for DetachedInsert<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Moka {
    /// End of every public call (GIL held, no lock held): deliver this cache's
    /// listener events, reap dead interner entries, release queued references.
    /// Returns the first exception raised by the listener, if any.
    #[inline]
    pub(crate) fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let r = if self.has_listener {
            self.deliver(py, events::take(self.cache_id))
        } else {
            Ok(())
        };
        self.interner.reap(py);
        release::drain(py);
        r
    }

    /// Call the listener for each event, in order. Every event is delivered even if
    /// the listener raises; the first exception is returned.
    fn deliver(&self, py: Python<'_>, events: Vec<Event>) -> PyResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let listener = self.listener.cloned(py);
        let mut first: Option<PyErr> = None;
        for ev in events {
            let Some(listener) = &listener else {
                continue; // dropped by __clear__: events are discarded
            };
            let key = ev.key.object(py);
            // The entry has left the cache, so its value reference can move to the
            // listener and be released as soon as the listener is done with it. Not
            // for "replaced": a read racing with the update may still hold the old
            // cell, and must not see it emptied (that would be a spurious miss).
            let value = if ev.cause == RemovalCause::Replaced {
                ev.value.obj.get(py)
            } else {
                ev.value.obj.take(py)
            }
            .unwrap_or_else(|| py.None());
            let cause = match ev.cause {
                RemovalCause::Expired => pyo3::intern!(py, "expired"),
                RemovalCause::Explicit => pyo3::intern!(py, "explicit"),
                RemovalCause::Replaced => pyo3::intern!(py, "replaced"),
                RemovalCause::Size => pyo3::intern!(py, "size"),
            };
            debug_assert_eq!(cause.to_str().ok(), Some(cause_name(ev.cause)));
            drop(ev);
            let r = listener.call1(py, (key, value, cause.clone())).map(drop);
            keep_first(&mut first, r);
        }
        first.map_or(Ok(()), Err)
    }

    /// Run one moka call (`f`) under the `write_order` gate; see "Locks and the GIL".
    ///
    /// Fast path: the gate is free, so no other thread is inside moka; the call runs
    /// at once, with the GIL held. Slow path: the gate is held by a thread that is
    /// inside moka without the GIL (`clear`, `run_pending_tasks`, or another slow
    /// path); the GIL is released while waiting, so that other Python threads are
    /// not stalled behind that work, and `tok` (the token a probe in `f` points to)
    /// is pinned meanwhile so that its address cannot be reused.
    ///
    /// # Safety
    /// `tok` is null or a token borrowed from the interner with no Python code run
    /// since (see `TokenPin::new`).
    ///
    /// `detached`, if given, counts the call while it runs detached (see "Value keys").
    #[inline]
    unsafe fn gated<R: Send>(
        &self,
        py: Python<'_>,
        tok: *const Token,
        detached: Option<&AtomicUsize>,
        f: impl FnOnce(&MokaCache) -> R + Send,
    ) -> R {
        let Some(gate) = self.write_order.gate() else {
            return f(&self.cache); // no gate: an unweighted cache (see `write_order`)
        };
        if let Some(_gate) = gate.try_lock() {
            return f(&self.cache);
        }
        let _pin = TokenPin::new(tok);
        let _count = detached.map(|n| {
            n.fetch_add(1, Ordering::SeqCst);
            DetachedInsert(n)
        });
        py.detach(|| {
            let _gate = gate.lock();
            f(&self.cache)
        })
    }

    /// Where `key` is in moka (see "Value keys"). May run `__eq__` of keys. Always
    /// inlined: `insert_key` calls it for value keys only, and a call cost `set` ~40
    /// instructions (callgrind).
    #[inline(always)]
    fn locate<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        h: Hashed,
    ) -> PyResult<Located<'py>> {
        let Hashed { py_hash, class } = h;
        match class {
            KeyClass::Int(v) => self.shadowed_or(py, key, py_hash, Located::Int(v)),
            KeyClass::Str => self.shadowed_or(py, key, py_hash, Located::Str(key.clone())),
            KeyClass::Other { may_equal_value } => {
                let tok = self.interner.lookup(py, key.as_ptr(), py_hash)?;
                if tok.is_null() && may_equal_value {
                    if let Some(at) = self.equal_value_entry(py, key, py_hash)? {
                        return Ok(at);
                    }
                }
                Ok(Located::Tok(tok))
            }
        }
    }

    /// Where the value key `key` is: the entry of an equal interned key once the
    /// interner may hold one (`values_shadowed`), else its own (`by_value`). Never a
    /// null token.
    #[inline(always)]
    fn shadowed_or<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        py_hash: ffi::Py_hash_t,
        by_value: Located<'py>,
    ) -> PyResult<Located<'py>> {
        if self.values_shadowed.load(Ordering::SeqCst) {
            let tok = self.interner.lookup(py, key.as_ptr(), py_hash)?;
            if !tok.is_null() {
                return Ok(Located::Tok(tok));
            }
        }
        Ok(by_value)
    }

    /// A value entry in moka that equals `key` (an interned kind of key), compared in
    /// Python as a dict compares a stored key with the one looked up.
    fn equal_value_entry<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<Option<Located<'py>>> {
        let hash = key_hash(py_hash);
        for v in value_key::ints_with_hash(py_hash) {
            if self.cache.contains_key(&Probe::int(hash, v))
                && PyAnyMethods::eq(v.into_pyobject(py)?.as_any(), key)?
            {
                return Ok(Some(Located::Int(v)));
            }
        }
        let search = StrSearch::new(hash);
        self.cache.contains_key(&search);
        for s in search.take(py) {
            // SAFETY: `s` is a stored str key, alive while we hold it.
            let present = self
                .cache
                .contains_key(&unsafe { Probe::str(hash, s.as_ptr()) });
            if present && s.eq(key)? {
                return Ok(Some(Located::Str(s)));
            }
        }
        Ok(None)
    }

    /// The key to insert `key` under (see "Value keys"). May run `__eq__` of keys.
    fn insert_key(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        val: &Val,
    ) -> PyResult<Key> {
        let Hashed { py_hash, class } = h;
        let hash = key_hash(py_hash);
        let may_equal_value = match class {
            KeyClass::Int(_) | KeyClass::Str => {
                let at = self.locate(py, key, h)?;
                // SAFETY: a value key's token is a non-null one just borrowed from the
                // interner (`shadowed_or`), no Python ran since.
                return Ok(unsafe { at.into_key(py, hash, val) });
            }
            KeyClass::Other { may_equal_value } => may_equal_value,
        };
        if may_equal_value && self.interner.lookup(py, key.as_ptr(), py_hash)?.is_null() {
            self.values_shadowed.store(true, Ordering::SeqCst);
            while self.value_inserts_detached.load(Ordering::SeqCst) != 0 {
                py.detach(std::thread::yield_now);
            }
            if let Some(at) = self.equal_value_entry(py, key, py_hash)? {
                // SAFETY: an int or a str, no token.
                return Ok(unsafe { at.into_key(py, hash, val) });
            }
        }
        // Finds the key if another thread interned an equal one meanwhile.
        let tok = self.interner.intern(py, key, py_hash)?;
        Ok(Key::interned(py, tok, hash, Arc::downgrade(val)))
    }

    /// A recorded moka read (`get`), counted in the statistics: the value, or None on
    /// a miss.
    #[inline]
    pub(crate) fn read(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
    ) -> PyResult<Option<Py<PyAny>>> {
        let found = self.read_uncounted(py, key, h)?;
        self.stats.read(found.is_some());
        Ok(found)
    }

    /// A recorded moka read that the statistics do not count (`get_with`'s re-check).
    #[inline(always)]
    fn read_uncounted(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
    ) -> PyResult<Option<Py<PyAny>>> {
        Ok(self.read_cell_uncounted(py, key, h)?.map(|(v, _)| v))
    }

    /// `read_uncounted`, with the value's cell (refresh-ahead reads the write's age).
    #[inline(always)]
    fn read_cell_uncounted(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
    ) -> PyResult<Option<(Py<PyAny>, Val)>> {
        let at = self.locate(py, key, h)?;
        // A key that is in no entry still reaches moka, with a probe that equals
        // nothing, so that moka records the miss (frequency sketch).
        let probe = at.probe(key_hash(h.py_hash));
        // SAFETY: a token in `at` was just borrowed from the interner, no Python ran since.
        let found = unsafe { self.gated(py, at.token(), None, |c| c.get(&probe)) };
        Ok(found.and_then(|v| Some((v.obj.get(py)?, v))))
    }

    /// `moka.contains_key`: not recorded, triggers nothing, never blocks (a lock-free
    /// map read), so the GIL is kept.
    fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>, h: Hashed) -> PyResult<bool> {
        let at = self.locate(py, key, h)?;
        Ok(self.cache.contains_key(&at.probe(key_hash(h.py_hash))))
    }

    /// Call the Python weigher (before moka is called).
    fn weigh(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<u32> {
        if !self.has_weigher {
            return Ok(1);
        }
        match self.weigher.cloned(py) {
            Some(w) => args::weight(w.bind(py).call1((key, value))?.as_any()),
            None => Ok(1), // dropped by __clear__
        }
    }

    /// The insert path shared by `set` and `get_with`. On error nothing changed.
    /// Listener events are left for the caller's `finish`.
    pub(crate) fn insert(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        value: &Bound<'_, PyAny>,
        ttl_ns: u64,
        tti_ns: u64,
    ) -> PyResult<()> {
        let weight = self.weigh(py, key, value)?;
        if self.capacity == Some(0) {
            // moka's map is disabled at capacity 0: its insert returns at once.
            return Ok(());
        }
        let v = ValueCell::new(value, ttl_ns, tti_ns, weight);
        let k = self.insert_key(py, key, h, &v)?;
        let by_value = !matches!(k.id(), KeyId::Tok(_));
        // SAFETY: type-flag test.
        if unsafe { ffi::PyObject_IS_GC(value.as_ptr()) } != 0 {
            self.gc_values.store(true, Ordering::Relaxed);
        }
        let detached = by_value.then_some(&self.value_inserts_detached);
        // SAFETY: no probe: the key owns its token.
        unsafe { self.gated(py, std::ptr::null(), detached, |c| c.insert(k, v)) };
        self.bound_after_write(py, weight);
        Ok(())
    }

    /// `insert`, only if the entry of `key` is live and its latest write stored `only`:
    /// the check and the insert are one critical section, closed to every other moka
    /// call: the gate in a weighted cache; otherwise the GIL (the calls made with it)
    /// and `refresh_writes` (`clear` and `run_pending_tasks`, made without it), as
    /// `remove_impl`'s `only` check. Whether it wrote.
    #[allow(clippy::too_many_arguments)]
    fn insert_if(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        value: &Bound<'_, PyAny>,
        ttl_ns: u64,
        tti_ns: u64,
        only: &Val,
    ) -> PyResult<bool> {
        let weight = self.weigh(py, key, value)?;
        if self.capacity == Some(0) {
            return Ok(false);
        }
        let v = ValueCell::new(value, ttl_ns, tti_ns, weight);
        let k = self.insert_key(py, key, h, &v)?;
        let by_value = !matches!(k.id(), KeyId::Tok(_));
        // SAFETY: type-flag test.
        if unsafe { ffi::PyObject_IS_GC(value.as_ptr()) } != 0 {
            self.gc_values.store(true, Ordering::Relaxed);
        }
        let detached = by_value.then_some(&self.value_inserts_detached);
        let write = |c: &MokaCache| {
            let peek = Peek::new(k.probe());
            if !(c.contains_key(&peek) && peek.matched(only)) {
                return false;
            }
            c.insert(k, v);
            true
        };
        let wrote = if self.write_order.gate().is_some() {
            // SAFETY: no probe from the interner: `k` owns its token (or str). The
            // gate's holder is the only one that can hold `refresh_writes` then.
            unsafe {
                self.gated(py, std::ptr::null(), detached, |c| {
                    let _quiet = self.refresh_writes.lock();
                    write(c)
                })
            }
        } else {
            // No gate: the GIL keeps the other writes out; `refresh_writes` keeps out
            // the calls that run without it (`clear`, `run_pending_tasks`).
            let _quiet = self.refresh_writes_held(py);
            write(&self.cache)
        };
        if wrote {
            self.bound_after_write(py, weight);
        }
        Ok(wrote)
    }

    /// `get_with` once the cache is borrowed; with `hit_cell`, the cell of the value a
    /// hit found goes there (refresh-ahead's due check).
    fn get_with_checked(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        initializer: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
        hit_cell: Option<&mut Option<Val>>,
    ) -> PyResult<Py<PyAny>> {
        if !initializer.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "initializer must be callable, not {}",
                args::type_name(initializer)
            )));
        }
        let ttl_ns = args::nanos(args::seconds(ttl, "ttl")?);
        let tti_ns = args::nanos(args::seconds(tti, "tti")?);
        let h = hashed(py, key)?;
        let mut events = Vec::new();
        let r = self.get_with_impl(
            py,
            key,
            h,
            initializer,
            ttl_ns,
            tti_ns,
            &mut events,
            hit_cell,
        );
        // Events of the whole call, in order, once the outcome is settled (the waiter
        // is unregistered, so the listener may call get_with for this key too).
        let delivered = self.deliver(py, events);
        let f = self.finish(py);
        let v = r?;
        delivered?;
        f?;
        Ok(v)
    }

    /// `refresh_writes`, taken with the GIL held: tried, and waited for only without
    /// the GIL (its holders never need the GIL), then tried again.
    fn refresh_writes_held(&self, py: Python<'_>) -> parking_lot::MutexGuard<'_, ()> {
        loop {
            if let Some(guard) = self.refresh_writes.try_lock() {
                return guard;
            }
            py.detach(|| drop(self.refresh_writes.lock()));
        }
    }

    /// The size bound (API.md section 6), after a write of `weight`: once the weight
    /// written since housekeeping last ran at this cache's request passes the slack,
    /// the write runs housekeeping, and releases what it evicted, before it returns.
    /// So what moka's map holds, admitted or still queued, stays within capacity +
    /// slack, and at capacity < 8 nothing stays queued. moka's own inline cycles are
    /// not seen, so they do not reset the count; the pure backend counts the same way,
    /// so both decide alike.
    #[inline]
    fn bound_after_write(&self, py: Python<'_>, weight: u32) {
        let Some(slack) = self.slack else {
            return;
        };
        let written = self.written.load(Ordering::Relaxed) + u64::from(weight);
        if written <= slack {
            self.written.store(written, Ordering::Relaxed);
            return;
        }
        // SAFETY: no probe.
        unsafe {
            self.gated(py, std::ptr::null(), None, |c| {
                c.run_pending_tasks();
                release::settle_epoch(SETTLE_ROUNDS);
            })
        };
        self.written.store(0, Ordering::Relaxed);
    }

    /// `get_with` once the arguments are validated.
    ///
    /// Listener events produced on the way are moved to `events` right after each
    /// moka call and delivered by the caller once everything is done: a listener
    /// (which may write to this cache) must not change the outcome of the call that
    /// produced its events, e.g. insert the key between our miss and our re-check.
    #[allow(clippy::too_many_arguments)]
    fn get_with_impl(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        init: &Bound<'_, PyAny>,
        ttl_ns: u64,
        tti_ns: u64,
        events: &mut Vec<Event>,
        mut hit_cell: Option<&mut Option<Val>>,
    ) -> PyResult<Py<PyAny>> {
        let mut counted = false;
        loop {
            // 1. A recorded lookup (counted in the statistics the first time only, as the
            // pure backend's, whose retries only look for a waiter again).
            let hit = self.read_cell_uncounted(py, key, h);
            self.collect_events(events);
            let hit = hit?;
            if !counted {
                self.stats.read(hit.is_some());
                counted = true;
            }
            if let Some((v, cell)) = hit {
                if let Some(out) = hit_cell.take() {
                    *out = Some(cell);
                }
                return Ok(v);
            }
            // 2. Coalesce on the waiter map.
            if let Some(w) = self.waiters.find(py, key, h.py_hash)? {
                if !w.is_pending() {
                    // Finished but not unregistered yet (or its owner failed to
                    // unregister): drop it and look again.
                    self.waiters.unregister(py, key, h.py_hash, &w)?;
                    continue;
                }
                if w.is_owned_by_current_thread() {
                    return Err(PyRuntimeError::new_err(
                        "get_with: the initializer for this key called get_with for the same key",
                    ));
                }
                match w.wait(py)? {
                    Outcome::Value(v) => return Ok(v),
                    Outcome::Error(e) => return Err(PyErr::from_value(e.into_bound(py))),
                    Outcome::Retry => {
                        self.waiters.unregister(py, key, h.py_hash, &w)?;
                        continue;
                    }
                }
            }
            // 3. Become the owner.
            let w = self.waiters.register(py, key, h.py_hash)?;
            let _guard = OwnerGuard(Arc::clone(&w));
            let result = self.own(py, key, h, init, ttl_ns, tti_ns, events);
            w.publish(py, &result);
            let unregistered = self.waiters.unregister(py, key, h.py_hash, &w);
            return match (result, unregistered) {
                (Ok(v), Ok(())) => Ok(v),
                (Ok(_), Err(e)) | (Err(e), _) => Err(e),
            };
        }
    }

    /// The removal path of every removing call (`remove`, `pop`, `del`, `remove_many`,
    /// `remove_if`), ending with `finish`: the removed value, or None.
    ///
    /// `only`: remove the entry only if its latest write stored this value cell (for
    /// `remove_if`, whose predicate saw it), expired or not, as the pure backend does.
    fn remove_impl(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        only: Option<&Val>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let at = self.locate(py, key, h)?;
        let probe = at.probe(key_hash(h.py_hash));
        let weighted = self.has_weigher;
        // SAFETY: a token in `at` was just borrowed from the interner, no Python ran since.
        let removed = unsafe {
            self.gated(py, at.token(), None, |c| {
                if weighted {
                    // No write of this key may still be queued when its entry leaves the
                    // map: moka 0.12.16 would skip it and keep `weighted_size` off by the
                    // weight it changed (see `write_order`). The pure backend does the same.
                    c.run_pending_tasks();
                    self.written.store(0, Ordering::Relaxed);
                }
                if let Some(val) = only {
                    // Nothing else reaches moka meanwhile: the GIL, or the gate, is held.
                    let peek = Peek::new(probe);
                    c.contains_key(&peek);
                    if !peek.matched(val) {
                        return None;
                    }
                }
                c.remove(&probe)
            })
        };
        let out = removed.as_ref().and_then(|v| v.obj.get(py));
        let f = self.finish(py);
        if let Some(v) = removed {
            // The entry has left the cache: release moka's reference now rather than
            // when the epoch collector frees moka's copy.
            drop(v.obj.take(py));
        }
        f?;
        Ok(out)
    }

    /// The live entry of `key` as `get` would find it, without recording a read or
    /// touching it (see `Peek`).
    fn peek_cell(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Option<Val>> {
        let h = hashed(py, key)?;
        let at = self.locate(py, key, h)?;
        let peek = Peek::new(at.probe(key_hash(h.py_hash)));
        Ok(if self.cache.contains_key(&peek) {
            peek.value()
        } else {
            None
        })
    }

    /// The live entries, from moka's iterator (which records no read), as
    /// `(key, value, cell)`; values already taken by a concurrent removal are skipped.
    fn snapshot(&self, py: Python<'_>) -> Vec<(Py<PyAny>, Py<PyAny>, Val)> {
        self.cache
            .iter()
            .filter_map(|(k, v)| {
                let value = v.obj.get(py)?;
                Some((k.object(py), value, v))
            })
            .collect()
    }

    /// `set` of each pair of `items` (see `pairs`), each a whole call (its events
    /// delivered before the next), stopping at the first error.
    fn set_pairs(
        &self,
        py: Python<'_>,
        what: &str,
        items: &Bound<'_, PyAny>,
        ttl_ns: u64,
        tti_ns: u64,
    ) -> PyResult<()> {
        let set = |k: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>| -> PyResult<()> {
            let h = hashed(py, k)?;
            let r = self.insert(py, k, h, v, ttl_ns, tti_ns);
            let f = self.finish(py);
            r.and(f)
        };
        if let Ok(dict) = items.cast_exact::<PyDict>() {
            for (k, v) in dict.items().iter().map(|kv| {
                let kv = kv.cast_into::<PyTuple>().expect("dict items are pairs");
                (kv.get_item(0).expect("pair"), kv.get_item(1).expect("pair"))
            }) {
                set(&k, &v)?;
            }
            return Ok(());
        }
        if items.hasattr(pyo3::intern!(py, "keys"))? {
            for k in items.call_method0(pyo3::intern!(py, "keys"))?.try_iter()? {
                let k = k?;
                let v = items.get_item(&k)?;
                set(&k, &v)?;
            }
            return Ok(());
        }
        let Ok(pairs) = items.try_iter() else {
            return Err(PyTypeError::new_err(format!(
                "{what} expects a mapping or an iterable of (key, value) pairs, not {}",
                args::type_name(items)
            )));
        };
        for (index, pair) in pairs.enumerate() {
            let pair = pair?;
            let (k, v) = unpack_pair(py, what, index, &pair)?;
            set(&k, &v)?;
        }
        Ok(())
    }

    /// Move this cache's pending listener events (of the moka call just made) to
    /// `events`. Must follow the moka call with no Python code in between.
    #[inline(always)]
    fn collect_events(&self, events: &mut Vec<Event>) {
        if self.has_listener {
            events.extend(events::take(self.cache_id));
        }
    }

    /// The owner's part of `get_with`: re-check without recording, run the
    /// initializer (GIL held, no lock held), insert. Events produced by the insert are
    /// moved to `events` right after moka returns.
    #[allow(clippy::too_many_arguments)]
    fn own(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        h: Hashed,
        init: &Bound<'_, PyAny>,
        ttl_ns: u64,
        tti_ns: u64,
        events: &mut Vec<Event>,
    ) -> PyResult<Py<PyAny>> {
        if self.contains(py, key, h)? {
            // Another thread inserted it after our miss.
            let hit = self.read_uncounted(py, key, h);
            self.collect_events(events);
            if let Some(v) = hit? {
                return Ok(v);
            }
        }
        let started = std::time::Instant::now();
        let value = init.call0();
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.load(ns, value.is_err());
        let value = value?;
        let r = self.insert(py, key, h, &value, ttl_ns, tti_ns);
        self.collect_events(events);
        r?;
        Ok(value.unbind())
    }
}

#[pymethods]
impl Moka {
    #[new]
    #[pyo3(
        signature = (capacity, ttl=None, tti=None, eviction_listener=None, policy=Arg::missing(), weigher=None),
        text_signature = "(capacity, ttl=None, tti=None, eviction_listener=None, policy='tiny_lfu', weigher=None)"
    )]
    fn new(
        py: Python<'_>,
        capacity: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
        eviction_listener: Option<&Bound<'_, PyAny>>,
        policy: Arg<'_>,
        weigher: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let cap = args::capacity(capacity)?;
        let ttl_d = args::seconds(ttl, "ttl")?;
        let tti_d = args::seconds(tti, "tti")?;
        let listener = args::callable_or_none(eviction_listener, "eviction_listener")?;
        let policy = args::policy(&policy)?;
        let weigher = args::callable_or_none(weigher, "weigher")?;

        let cache_id = events::new_cache_id();
        let mut builder = moka::sync::Cache::builder()
            .eviction_policy(match policy {
                Policy::TinyLfu => EvictionPolicy::tiny_lfu(),
                Policy::Lru => EvictionPolicy::lru(),
            })
            .expire_after(PerEntryExpiry {
                track_reads: tti_d.is_some(),
                track_writes: ttl_d.is_some() || tti_d.is_some(),
            });
        if let Some(c) = cap {
            builder = builder.max_capacity(c);
        }
        if let Some(d) = ttl_d {
            builder = builder.time_to_live(d);
        }
        if let Some(d) = tti_d {
            builder = builder.time_to_idle(d);
        }
        // Always a listener: moka reports removals only to one, and the statistics
        // count them (API.md section 7). It changes moka's behaviour (key locks, the
        // leftover-work flag, the 100 ms cycle limit): the pure backend models a moka
        // with a listener. A weigher changes the sketch sizing: only when the user
        // gave one.
        let stats = Arc::new(Stats::default());
        builder = builder.eviction_listener(events::listener_for(
            cache_id,
            Arc::clone(&stats),
            listener.is_some(),
        ));
        if weigher.is_some() {
            builder = builder.weigher(|_k: &Key, v: &Val| v.weight);
        }
        let cache = builder.build_with_hasher(PassThrough);

        Ok(Moka {
            cache,
            interner: Interner::new(py),
            waiters: Waiters::new(py),
            write_order: WriteOrder::new(weigher.is_some()),
            has_listener: listener.is_some(),
            has_weigher: weigher.is_some(),
            listener: GilCell::new(listener),
            weigher: GilCell::new(weigher),
            cache_id,
            capacity: cap,
            ttl: args::as_float(ttl)?,
            tti: args::as_float(tti)?,
            ttl_ns: args::nanos(ttl_d),
            tti_ns: args::nanos(tti_d),
            policy,
            stats,
            gc_values: AtomicBool::new(false),
            values_shadowed: AtomicBool::new(false),
            value_inserts_detached: AtomicUsize::new(0),
            slack: cap.filter(|&c| c > 0).map(|c| (c / 8).min(64)),
            written: AtomicU64::new(0),
            refresh_writes: parking_lot::Mutex::new(()),
            _release_on_drop: ReleaseOnDrop,
        })
    }

    #[doc = moka_doc!(set)]
    #[pyo3(signature = (key, value, ttl=None, tti=None))]
    fn set(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let ttl_ns = args::nanos(args::seconds(ttl, "ttl")?);
        let tti_ns = args::nanos(args::seconds(tti, "tti")?);
        let h = hashed(py, key)?;
        let r = self.insert(py, key, h, value, ttl_ns, tti_ns);
        let f = self.finish(py);
        r.and(f)
    }

    #[doc = moka_doc!(get)]
    #[pyo3(signature = (key, default=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let h = hashed(py, key)?;
        let found = self.read(py, key, h);
        let f = self.finish(py);
        let found = found?;
        f?;
        Ok(match found {
            Some(v) => v,
            None => default.unwrap_or_else(|| py.None()),
        })
    }

    #[doc = moka_doc!(get_with)]
    #[pyo3(signature = (key, initializer, ttl=None, tti=None, refresh_after=None))]
    fn get_with(
        slf: &Bound<'_, Self>,
        key: &Bound<'_, PyAny>,
        initializer: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
        refresh_after: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let Some(r) = refresh_after else {
            return this.get_with_checked(py, key, initializer, ttl, tti, None);
        };
        let ns = refresh::refresh_after_ns(py, r, ttl, this.ttl)?;
        let mut hit = None;
        let v = this.get_with_checked(py, key, initializer, ttl, tti, Some(&mut hit))?;
        if let Some(cell) = hit {
            refresh::after_hit(slf.as_any(), key, &cell, ns, initializer, ttl, tti)?;
        }
        Ok(v)
    }

    #[doc = moka_doc!(aget_with)]
    #[pyo3(signature = (key, initializer, ttl=None, tti=None, refresh_after=None))]
    fn aget_with<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        initializer: &Bound<'py, PyAny>,
        ttl: Option<&Bound<'py, PyAny>>,
        tti: Option<&Bound<'py, PyAny>>,
        refresh_after: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // The coalescing is asyncio code, in moka_py_rust._aload (as in the pure backend);
        // the arguments are checked here, when the coroutine is made, as get_with checks them.
        static LOAD: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        if !initializer.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "initializer must be callable, not {}",
                args::type_name(initializer)
            )));
        }
        args::seconds(ttl, "ttl")?;
        args::seconds(tti, "tti")?;
        let py = slf.py();
        let refresh_ns = match refresh_after {
            Some(r) => Some(refresh::refresh_after_ns(py, r, ttl, slf.get().ttl)?),
            None => None,
        };
        let load = LOAD.import(py, "moka_py_rust._aload", "aget_with")?;
        load.call1((slf, key, initializer, ttl, tti, refresh_ns))
    }

    /// Refresh-ahead's view of `key`'s live entry: `(stamp, age_ns)`, the write it
    /// holds and the nanoseconds since that write, or None. Records no read.
    #[pyo3(name = "_write_stamp", signature = (key, /))]
    fn write_stamp(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
    ) -> PyResult<Option<(WriteStamp, u64)>> {
        let found = self.peek_cell(py, key)?;
        Ok(found.map(|val| {
            let age = val.age_ns();
            (WriteStamp::unclaimed(val), age)
        }))
    }

    /// Refresh-ahead's write: `set(key, value, ttl, tti)` only if the entry is live and
    /// still holds the write `stamp` names (atomically). Whether it wrote.
    #[pyo3(name = "_replace_if", signature = (key, stamp, value, ttl, tti, /))]
    fn replace_if(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        stamp: &Bound<'_, WriteStamp>,
        value: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let ttl_ns = args::nanos(args::seconds(ttl, "ttl")?);
        let tti_ns = args::nanos(args::seconds(tti, "tti")?);
        let h = hashed(py, key)?;
        let r = self.insert_if(py, key, h, value, ttl_ns, tti_ns, &stamp.get().val);
        let f = self.finish(py);
        let wrote = r?;
        f?;
        Ok(wrote)
    }
    /// An initializer of `aget_with` ran for `ns` nanoseconds (and raised, if `failed`).
    #[pyo3(name = "_record_load", signature = (ns, failed, /))]
    fn record_load(&self, ns: u64, failed: bool) {
        self.stats.load(ns, failed);
    }

    #[doc = moka_doc!(remove)]
    #[pyo3(signature = (key, default=None))]
    fn remove(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let h = hashed(py, key)?;
        let out = self.remove_impl(py, key, h, None)?;
        Ok(out.unwrap_or_else(|| default.unwrap_or_else(|| py.None())))
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let h = hashed(py, key)?;
        let r = self.contains(py, key, h);
        let f = self.finish(py);
        let r = r?;
        f?;
        Ok(r)
    }

    #[doc = moka_doc!(clear)]
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let _gate = self.write_order.lock();
            let _refreshes = self.refresh_writes.lock();
            self.cache.invalidate_all();
            self.cache.run_pending_tasks();
            self.written.store(0, Ordering::Relaxed);
            // With a listener (always, see `new`), moka stops a housekeeping cycle after
            // 100 ms. Our listener callback is instant, but a very large cache can still
            // take that long to scan: run more cycles while they make progress.
            let mut left = self.cache.entry_count();
            while left > 0 {
                self.cache.run_pending_tasks();
                let now = self.cache.entry_count();
                if now >= left {
                    break; // no progress: entries inserted since by other threads
                }
                left = now;
            }
            release::settle_epoch(SETTLE_ROUNDS);
        });
        self.finish(py)
    }

    #[doc = moka_doc!(count)]
    fn count(&self) -> u64 {
        self.cache.entry_count()
    }

    #[doc = moka_doc!(weighted_size)]
    fn weighted_size(&self) -> u64 {
        self.cache.weighted_size()
    }

    #[doc = moka_doc!(run_pending_tasks)]
    fn run_pending_tasks(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let _gate = self.write_order.lock();
            let _refreshes = self.refresh_writes.lock();
            self.cache.run_pending_tasks();
            self.written.store(0, Ordering::Relaxed);
            release::settle_epoch(SETTLE_ROUNDS);
        });
        self.finish(py)
    }

    #[doc = moka_doc!(capacity)]
    #[getter]
    fn capacity(&self) -> Option<u64> {
        self.capacity
    }

    #[doc = moka_doc!(ttl)]
    #[getter]
    fn ttl(&self) -> Option<f64> {
        self.ttl
    }

    #[doc = moka_doc!(tti)]
    #[getter]
    fn tti(&self) -> Option<f64> {
        self.tti
    }

    #[doc = moka_doc!(policy)]
    #[getter]
    fn policy(&self) -> &'static str {
        self.policy.name()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr_f = |v: Option<f64>| -> PyResult<String> {
            match v {
                Some(f) => Ok(pyo3::types::PyFloat::new(py, f).repr()?.to_string()),
                None => Ok("None".to_owned()),
            }
        };
        Ok(format!(
            "Moka(capacity={}, ttl={}, tti={}, policy='{}', backend='rust')",
            self.capacity
                .map_or_else(|| "None".to_owned(), |c| c.to_string()),
            repr_f(self.ttl)?,
            repr_f(self.tti)?,
            self.policy.name(),
        ))
    }

    // -- looking into the cache, and working in bulk (API.md section 7) --

    // A slot: Python shows no docstring of its own for it.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let n = self.cache.iter().count();
        self.finish(py)?;
        Ok(n)
    }

    // A slot: Python shows no docstring of its own for it.
    fn __bool__(&self, py: Python<'_>) -> PyResult<bool> {
        let any = self.cache.iter().next().is_some();
        self.finish(py)?;
        Ok(any)
    }

    // A slot: Python shows no docstring of its own for it.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.keys(py)?.try_iter()
    }

    #[doc = moka_doc!(keys)]
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let live = self.snapshot(py);
        let list = PyList::new(py, live.into_iter().map(|(k, _, _)| k));
        self.finish(py)?;
        list
    }

    #[doc = moka_doc!(values)]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let live = self.snapshot(py);
        let list = PyList::new(py, live.into_iter().map(|(_, v, _)| v));
        self.finish(py)?;
        list
    }

    #[doc = moka_doc!(items)]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let live = self.snapshot(py);
        let list = PyList::new(py, live.into_iter().map(|(k, v, _)| (k, v)));
        self.finish(py)?;
        list
    }

    // A slot: Python shows no docstring of its own for it.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let h = hashed(py, key)?;
        let found = self.read(py, key, h);
        let f = self.finish(py);
        let found = found?;
        f?;
        found.ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    // A slot: Python shows no docstring of its own for it.
    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let h = hashed(py, key)?;
        let r = self.insert(py, key, h, value, args::NO_DURATION, args::NO_DURATION);
        let f = self.finish(py);
        r.and(f)
    }

    // A slot: Python shows no docstring of its own for it.
    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = hashed(py, key)?;
        match self.remove_impl(py, key, h, None)? {
            Some(_) => Ok(()),
            None => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    #[doc = moka_doc!(pop)]
    #[pyo3(signature = (key, default=Arg::missing()))]
    fn pop(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default: Arg<'_>) -> PyResult<Py<PyAny>> {
        let h = hashed(py, key)?;
        match (self.remove_impl(py, key, h, None)?, default.0) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d.unbind()),
            (None, None) => Err(PyKeyError::new_err(key.clone().unbind())),
        }
    }

    #[doc = moka_doc!(setdefault)]
    #[pyo3(signature = (key, default=None))]
    fn setdefault(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let none = py.None().into_bound(py);
        let default = default.unwrap_or(&none);
        let h = hashed(py, key)?;
        let found = self.read(py, key, h);
        let f = self.finish(py);
        let found = found?;
        f?;
        if let Some(v) = found {
            return Ok(v);
        }
        let r = self.insert(py, key, h, default, args::NO_DURATION, args::NO_DURATION);
        let f = self.finish(py);
        r.and(f)?;
        Ok(default.clone().unbind())
    }

    #[doc = moka_doc!(update)]
    #[pyo3(signature = (other=Arg::missing(), /, **kwargs), text_signature = "($self, other=(), /, **kwargs)")]
    fn update(
        &self,
        py: Python<'_>,
        other: Arg<'_>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if let Some(other) = &other.0 {
            self.set_pairs(py, "update", other, args::NO_DURATION, args::NO_DURATION)?;
        }
        if let Some(kwargs) = kwargs {
            self.set_pairs(
                py,
                "update",
                kwargs.as_any(),
                args::NO_DURATION,
                args::NO_DURATION,
            )?;
        }
        Ok(())
    }

    #[doc = moka_doc!(peek)]
    #[pyo3(signature = (key, default=None))]
    fn peek(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let found = self.peek_cell(py, key);
        let f = self.finish(py);
        let found = found?.and_then(|v| v.obj.get(py));
        f?;
        Ok(found.unwrap_or_else(|| default.unwrap_or_else(|| py.None())))
    }

    #[doc = moka_doc!(expires_in)]
    #[pyo3(signature = (key, default=None))]
    fn expires_in(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let found = self.peek_cell(py, key);
        let f = self.finish(py);
        let found = found?;
        f?;
        if let Some(v) = found {
            let at = v.expires_at(self.ttl_ns, self.tti_ns);
            if at == NO_DEADLINE {
                return Ok(f64::INFINITY.into_pyobject(py)?.into_any().unbind());
            }
            let now = instant_nanos(std::time::Instant::now());
            if at > now {
                let left = (at - now) as f64 / 1e9;
                return Ok(left.into_pyobject(py)?.into_any().unbind());
            }
        }
        Ok(default.unwrap_or_else(|| py.None()))
    }

    #[doc = moka_doc!(get_many)]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let found = PyDict::new(py);
        for key in iterate("get_many", keys)? {
            let key = key?;
            let h = hashed(py, &key)?;
            let hit = self.read(py, &key, h);
            let f = self.finish(py);
            let hit = hit?;
            f?;
            if let Some(v) = hit {
                found.set_item(key, v)?;
            }
        }
        Ok(found)
    }

    #[doc = moka_doc!(set_many)]
    #[pyo3(signature = (items, ttl=None, tti=None))]
    fn set_many(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        ttl: Option<&Bound<'_, PyAny>>,
        tti: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let ttl_ns = args::nanos(args::seconds(ttl, "ttl")?);
        let tti_ns = args::nanos(args::seconds(tti, "tti")?);
        self.set_pairs(py, "set_many", items, ttl_ns, tti_ns)
    }

    #[doc = moka_doc!(remove_many)]
    fn remove_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let removed = PyDict::new(py);
        for key in iterate("remove_many", keys)? {
            let key = key?;
            let h = hashed(py, &key)?;
            if let Some(v) = self.remove_impl(py, &key, h, None)? {
                removed.set_item(key, v)?;
            }
        }
        Ok(removed)
    }

    #[doc = moka_doc!(remove_if)]
    fn remove_if(&self, py: Python<'_>, predicate: &Bound<'_, PyAny>) -> PyResult<usize> {
        if !predicate.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "predicate must be callable, not {}",
                args::type_name(predicate)
            )));
        }
        self.run_pending_tasks(py)?;
        let live = self.snapshot(py);
        let mut removed = 0;
        for (k, v, cell) in live {
            let k = k.into_bound(py);
            if !predicate.call1((&k, v))?.is_truthy()? {
                continue;
            }
            let h = hashed(py, &k)?;
            if self.remove_impl(py, &k, h, Some(&cell))?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    #[doc = moka_doc!(stats)]
    fn stats(&self) -> CacheStats {
        self.stats.snapshot()
    }

    #[doc = moka_doc!(reset_stats)]
    fn reset_stats(&self) {
        self.stats.reset();
    }

    #[doc = moka_doc!(__class_getitem__)]
    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, item: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = cls.py();
        let alias = py.import("types")?.getattr("GenericAlias")?;
        Ok(alias.call1((cls, item))?.unbind())
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err("cannot pickle 'Moka' object"))
    }

    #[pyo3(signature = (_protocol=None))]
    fn __reduce_ex__(&self, _protocol: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        Err(PyTypeError::new_err("cannot pickle 'Moka' object"))
    }

    fn __copy__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err("cannot pickle 'Moka' object"))
    }

    #[pyo3(signature = (_memo=None))]
    fn __deepcopy__(&self, _memo: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        Err(PyTypeError::new_err("cannot pickle 'Moka' object"))
    }

    /// GC support: visit every Python object the cache holds. Must not block or call
    /// Python: it reads the dicts and walks moka's map (lock-free), de-duplicating
    /// with a per-traversal stamp so that nothing is visited twice even if another
    /// thread (without the GIL) moves entries meanwhile. Objects we miss are merely
    /// kept alive; visiting one twice would be a bug, hence the stamps.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // SAFETY: tp_traverse runs with the GIL held.
        let py = unsafe { Python::assume_attached() };
        let _no_refcount_changes = release::TraverseGuard::new();
        visit.call(self.listener.get(py))?;
        visit.call(self.weigher.get(py))?;
        visit.call(self.interner.dict())?;
        visit.call(self.waiters.dict())?;
        let mark = TRAVERSE_MARK.fetch_add(1, Ordering::Relaxed);
        let mut result: Result<(), PyTraverseError> = Ok(());
        if self.interner.gc_keys.load(Ordering::Relaxed) {
            // The key reference each token owns (the dict's own are visited by it).
            self.interner.for_each_token(|tok| {
                if tok.mark.swap(mark, Ordering::Relaxed) == mark {
                    return 0;
                }
                match visit_raw(&visit, tok.key.as_ptr()) {
                    Ok(()) => 0,
                    Err(e) => {
                        result = Err(e);
                        1 as c_int
                    }
                }
            });
            result?;
        }
        if self.gc_values.load(Ordering::Relaxed) {
            for (_k, v) in self.cache.iter() {
                if v.mark.swap(mark, Ordering::Relaxed) != mark {
                    visit_raw(&visit, v.obj.peek())?;
                }
            }
        }
        Ok(())
    }

    /// GC support: drop every reference the cache holds (no listener calls).
    fn __clear__(slf: &Bound<'_, Self>) {
        let py = slf.py();
        let this = slf.get();
        drop(this.listener.replace(py, None));
        drop(this.weigher.replace(py, None));
        py.detach(|| {
            let _gate = this.write_order.lock();
            this.cache.invalidate_all();
            this.cache.run_pending_tasks();
            release::settle_epoch(SETTLE_ROUNDS);
        });
        let discarded = events::take(this.cache_id);
        for ev in discarded.iter() {
            drop(ev.value.obj.take(py));
        }
        drop(discarded);
        this.interner.clear(py);
        this.waiters.clear(py);
        this.interner.reap(py);
        release::drain(py);
    }
}
