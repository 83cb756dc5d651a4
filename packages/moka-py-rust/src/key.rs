//! Keys: the interner and moka's key type.
//!
//! moka calls `Eq` on keys from its lock-free map and from housekeeping, also between
//! keys whose hashes differ, possibly without the GIL and with moka locks held. A
//! Python `__eq__` must never run there. Value keys (see `value_key`) reach moka as
//! an `i64` value or a `str` object, which moka compares itself. For every other key, each
//! cache keeps an *interner*: a Python dict mapping every live key to a canonical
//! token. All Python comparisons happen in that dict (or, for a key that may equal a
//! value key, against the value entries; see `cache.rs`), with the GIL held, in the call that
//! looks the key up: an exception from `__eq__` propagates from that call, and dict
//! semantics hold exactly (identity first, then `__eq__`; NaN only by identity).
//! moka's key holds the token and compares tokens by address: pure Rust.
//!
//! The dict is used through the known-hash C API, so `__hash__` runs once per call.
//! Its values are capsules, each owning one `Arc<Token>`.
//!
//! # Token liveness
//!
//! `Token::live` counts the `Key` wrappers that exist for the token (moka owns them:
//! in its map, deques, write log, key-lock map, or in an event we have not delivered).
//!
//! * Increments happen only with the GIL held, when we build a `Key` for an insert,
//!   right after finding or creating the interner entry.
//! * Decrements happen in `Key::drop`, on any thread, with or without the GIL. The
//!   thread that brings the count to 0 queues the token on the cache's dead list.
//! * The interner entry is removed only with the GIL held (`Interner::reap`, run at
//!   the end of every public call), and only if the count is still 0 then.
//!
//! Invariant: while any `Key` for a token exists, the interner maps its key to that
//! token. A count can go from 0 back to 1 only under the GIL, and `reap` checks the
//! count under the GIL, so a revived token is simply skipped (it stays interned).
//! The one gap is Python code that runs *inside* a dict operation: `__eq__` of a
//! different key with the same `hash()` (a collision). Such code may release the GIL
//! and let another thread revive the token or intern an equal key in the middle of
//! our lookup-then-mutate sequence. `reap` re-checks around its deletion and restores
//! the entry when the token was revived meanwhile. What remains (two threads interning
//! equal colliding keys while an `__eq__` of a third key switches threads) can at
//! worst give two equal keys two tokens, i.e. two moka entries: memory-safe (each
//! token owns a strong reference to its key), both values still readable until
//! replaced or evicted and still reported to the listener.

use crate::release::{note_reclaimed, Owned};
use crate::value::{Val, ValueCell};
use equivalent::Equivalent;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::cell::RefCell;
use std::ffi::c_void;
use std::hash::{Hash, Hasher};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

extern "C" {
    // Exported by CPython (cpython/dictobject.h); pyo3-ffi skips these private APIs.
    fn _PyDict_GetItem_KnownHash(
        mp: *mut ffi::PyObject,
        key: *mut ffi::PyObject,
        hash: ffi::Py_hash_t,
    ) -> *mut ffi::PyObject;
    fn _PyDict_SetItem_KnownHash(
        mp: *mut ffi::PyObject,
        key: *mut ffi::PyObject,
        item: *mut ffi::PyObject,
        hash: ffi::Py_hash_t,
    ) -> c_int;
    fn _PyDict_DelItem_KnownHash(
        mp: *mut ffi::PyObject,
        key: *mut ffi::PyObject,
        hash: ffi::Py_hash_t,
    ) -> c_int;
}

/// `dict.get` with a precomputed hash: a borrowed reference, or null if absent.
/// An exception from a key's `__eq__` is returned as `Err`.
///
/// # Safety
/// GIL held; `dict` is a dict.
pub unsafe fn dict_get(
    py: Python<'_>,
    dict: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    hash: ffi::Py_hash_t,
) -> PyResult<*mut ffi::PyObject> {
    let v = _PyDict_GetItem_KnownHash(dict, key, hash);
    if v.is_null() && !ffi::PyErr_Occurred().is_null() {
        return Err(PyErr::fetch(py));
    }
    Ok(v)
}

/// # Safety
/// GIL held; `dict` is a dict.
pub unsafe fn dict_set(
    py: Python<'_>,
    dict: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    item: *mut ffi::PyObject,
    hash: ffi::Py_hash_t,
) -> PyResult<()> {
    if _PyDict_SetItem_KnownHash(dict, key, item, hash) < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}

/// Delete `key` from `dict`; `Ok(false)` if the dict has no entry for it.
///
/// "No entry" includes a key that a lookup found a moment ago: with an inconsistent
/// `__eq__`, an entry can sit under an older key object that compared equal once and
/// no longer does. Callers leave such an entry be rather than report an error that no
/// key raised. An exception from a key's `__eq__` is returned as `Err`.
///
/// # Safety
/// GIL held; `dict` is a dict.
pub unsafe fn dict_discard(
    py: Python<'_>,
    dict: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    hash: ffi::Py_hash_t,
) -> PyResult<bool> {
    if _PyDict_DelItem_KnownHash(dict, key, hash) == 0 {
        return Ok(true);
    }
    let e = PyErr::fetch(py);
    if is_key_error_for(py, &e, key) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Whether `e` is the `KeyError(key)` that a dict raises for a missing `key` (not an
/// exception raised by some key's `__eq__`).
fn is_key_error_for(py: Python<'_>, e: &PyErr, key: *mut ffi::PyObject) -> bool {
    e.is_instance_of::<pyo3::exceptions::PyKeyError>(py)
        && e.value(py)
            .getattr("args")
            .ok()
            .and_then(|args| args.get_item(0).ok())
            .is_some_and(|arg| arg.as_ptr() == key)
}

/// A capsule owning one `Arc<T>` (no name; freed with the capsule).
///
/// # Safety
/// GIL held.
pub unsafe fn arc_capsule<T>(py: Python<'_>, arc: Arc<T>) -> PyResult<*mut ffi::PyObject> {
    unsafe extern "C" fn destroy<T>(cap: *mut ffi::PyObject) {
        let p = ffi::PyCapsule_GetPointer(cap, std::ptr::null());
        if !p.is_null() {
            drop(Arc::from_raw(p as *const T));
        }
    }
    let raw = Arc::into_raw(arc);
    let cap = ffi::PyCapsule_New(raw as *mut c_void, std::ptr::null(), Some(destroy::<T>));
    if cap.is_null() {
        drop(Arc::from_raw(raw));
        return Err(PyErr::fetch(py));
    }
    Ok(cap)
}

/// The `T` inside a capsule made by `arc_capsule::<T>` (borrowed from the capsule).
///
/// # Safety
/// `cap` is such a capsule and stays alive while the result is used.
#[inline]
pub unsafe fn capsule_ptr<T>(cap: *mut ffi::PyObject) -> *const T {
    ffi::PyCapsule_GetPointer(cap, std::ptr::null()) as *const T
}

/// Tokens whose live count dropped to 0, waiting for `Interner::reap`.
#[derive(Default)]
pub struct DeadTokens {
    queue: Mutex<Vec<Arc<Token>>>,
    dirty: AtomicBool,
}

impl DeadTokens {
    fn push(&self, tok: Arc<Token>) {
        // Leaf lock: held for the push only, never around Python or moka calls.
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tok);
        self.dirty.store(true, Ordering::Release);
    }
}

/// The canonical identity of one key (up to Python equality) in one cache.
pub struct Token {
    live: AtomicUsize,
    /// Whether the interner maps `key` to this token. Changed only with the GIL held.
    interned: AtomicBool,
    /// The canonical key object (the first equal key that was inserted).
    pub key: Owned,
    py_hash: ffi::Py_hash_t,
    dead: Weak<DeadTokens>,
    /// `__traverse__` de-duplication stamp.
    pub mark: AtomicU64,
}

/// moka's `K`: the precomputed key hash plus what moka compares. `Hash` and `Eq`
/// never call Python.
///
/// `val` points to the value written with this key. moka's map stores the key of the
/// latest write of an entry beside its value, and `contains_key` shows a probe that key
/// but no value, so a `Peek` finds the value through it without moka recording a
/// read (see `Peek`). Weak: the key of an entry's first write lives as long as the
/// entry, and must not keep replaced values alive.
pub struct Key {
    hash: u64,
    id: KeyId,
    val: Weak<ValueCell>,
}

/// The identity moka compares: an int-valued key's value or a `str` key (see
/// `value_key`), or the token of an interned key. Different kinds never compare
/// equal: a key is only interned when no equal value key is in the cache (see
/// `cache.rs`).
pub enum KeyId {
    Int(i64),
    Str(Owned),
    Tok(Arc<Token>),
}

impl Key {
    /// An interned key. Must be called with the GIL held (see "Token liveness").
    #[inline]
    pub fn interned(_py: Python<'_>, tok: Arc<Token>, hash: u64, val: Weak<ValueCell>) -> Key {
        tok.live.fetch_add(1, Ordering::AcqRel);
        Key {
            hash,
            id: KeyId::Tok(tok),
            val,
        }
    }

    /// An int-valued key.
    #[inline]
    pub fn int(value: i64, hash: u64, val: Weak<ValueCell>) -> Key {
        Key {
            hash,
            id: KeyId::Int(value),
            val,
        }
    }

    /// A `str` key (an exact, ready `str`, see `value_key`).
    #[inline]
    pub fn str(s: &Bound<'_, PyAny>, hash: u64, val: Weak<ValueCell>) -> Key {
        Key {
            hash,
            id: KeyId::Str(Owned::new(s)),
            val,
        }
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// A probe that matches this key (valid while this key lives).
    pub fn probe(&self) -> Probe {
        match &self.id {
            KeyId::Int(v) => Probe::int(self.hash, *v),
            // SAFETY: the key holds its str while the probe is used.
            KeyId::Str(s) => unsafe { Probe::str(self.hash, s.as_ptr()) },
            KeyId::Tok(t) => Probe::token(self.hash, Arc::as_ptr(t)),
        }
    }

    /// The key object to report: the stored `str`, the canonical interned key, or an
    /// `int`.
    pub fn object(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.id {
            KeyId::Int(v) => v
                .into_pyobject(py)
                .map_or_else(|e| match e {}, |o| o.into_any().unbind()),
            KeyId::Str(s) => s.clone_ref(py),
            KeyId::Tok(tok) => tok.key.clone_ref(py),
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        note_reclaimed();
        if let KeyId::Tok(tok) = &self.id {
            if tok.live.fetch_sub(1, Ordering::AcqRel) == 1 {
                if let Some(dead) = tok.dead.upgrade() {
                    dead.push(Arc::clone(tok));
                }
            }
        }
    }
}

impl Hash for Key {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Key {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.id, &other.id) {
            (KeyId::Int(a), KeyId::Int(b)) => a == b,
            // SAFETY: both keys own a reference to their str (see `str_eq`).
            (KeyId::Str(a), KeyId::Str(b)) => {
                self.hash == other.hash && unsafe { str_eq(a.as_ptr(), b.as_ptr()) }
            }
            (KeyId::Tok(a), KeyId::Tok(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Key {}

/// A borrowed lookup key for reads: the hash and an int value, a `str`'s address, or
/// a token's address (0 when the key is not interned, which equals no key). A token
/// address is only compared, never dereferenced; callers keep the token alive while
/// moka may compare (see `TokenPin`) so that the address cannot be reused meanwhile.
/// A `str` is read (see `str_eq`); callers hold a reference to it meanwhile.
#[derive(Clone, Copy)]
pub struct Probe {
    hash: u64,
    id: ProbeId,
}

#[derive(Clone, Copy)]
enum ProbeId {
    Int(i64),
    Str(usize),
    Tok(usize),
}

impl Probe {
    #[inline]
    pub fn int(hash: u64, value: i64) -> Probe {
        Probe {
            hash,
            id: ProbeId::Int(value),
        }
    }

    /// # Safety
    /// `s` is an exact, ready `str` that the caller keeps alive while the probe is used.
    #[inline]
    pub unsafe fn str(hash: u64, s: *mut ffi::PyObject) -> Probe {
        Probe {
            hash,
            id: ProbeId::Str(s as usize),
        }
    }

    #[inline]
    pub fn token(hash: u64, tok: *const Token) -> Probe {
        Probe {
            hash,
            id: ProbeId::Tok(tok as usize),
        }
    }
}

impl Hash for Probe {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// A probe that also notes the value of the entry it matched (see `Key::val`):
/// `contains_key(&peek)` then tells whether that entry is live, as `get` would, and
/// `value()` gives its value, with no read recorded and no timestamp touched.
pub struct Peek {
    probe: Probe,
    found: RefCell<Option<Weak<ValueCell>>>,
}

impl Peek {
    #[inline]
    pub fn new(probe: Probe) -> Peek {
        Peek {
            probe,
            found: RefCell::new(None),
        }
    }

    /// The value written with the matched key (of the last match: moka may probe
    /// again after a concurrent resize), if it is still stored.
    pub fn value(&self) -> Option<Val> {
        self.found.borrow().as_ref().and_then(Weak::upgrade)
    }

    /// Whether the matched key was written with `val` (by identity), alive or not.
    pub fn matched(&self, val: &Val) -> bool {
        self.found
            .borrow()
            .as_ref()
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(val)))
    }
}

impl Hash for Peek {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.probe.hash);
    }
}

impl Equivalent<Key> for Peek {
    fn equivalent(&self, key: &Key) -> bool {
        let eq = self.probe.equivalent(key);
        if eq {
            *self.found.borrow_mut() = Some(key.val.clone());
        }
        eq
    }
}

impl Equivalent<Key> for Probe {
    #[inline]
    fn equivalent(&self, key: &Key) -> bool {
        match (self.id, &key.id) {
            (ProbeId::Int(a), KeyId::Int(b)) => a == *b,
            // SAFETY: the caller keeps the probe's str alive (`Probe::str`), moka the key's.
            (ProbeId::Str(a), KeyId::Str(b)) => {
                self.hash == key.hash && unsafe { str_eq(a as *mut ffi::PyObject, b.as_ptr()) }
            }
            (ProbeId::Tok(a), KeyId::Tok(b)) => Arc::as_ptr(b) as usize == a,
            _ => false,
        }
    }
}

/// `str.__eq__` of two exact, ready `str` objects, without the GIL and without
/// Python: by PEP 393 a string's kind is the narrowest that holds its characters, so
/// equal strings have the same length, kind and code units (CPython compares them
/// the same way).
///
/// # Safety
/// Both are live, ready `str` objects. The fields read (length, kind, data) never
/// change after creation, and a reference held by a `Key` is never released in
/// place (`Owned`), so no other thread can free the object meanwhile.
#[inline]
pub unsafe fn str_eq(a: *mut ffi::PyObject, b: *mut ffi::PyObject) -> bool {
    if a == b {
        return true;
    }
    let len = ffi::PyUnicode_GET_LENGTH(a);
    if len != ffi::PyUnicode_GET_LENGTH(b) {
        return false;
    }
    let kind = ffi::PyUnicode_KIND(a);
    if kind != ffi::PyUnicode_KIND(b) {
        return false;
    }
    let n = len as usize * kind as usize;
    let da = std::slice::from_raw_parts(ffi::PyUnicode_DATA(a) as *const u8, n);
    let db = std::slice::from_raw_parts(ffi::PyUnicode_DATA(b) as *const u8, n);
    da == db
}

/// A probe that equals no key and collects the `str` keys with its hash: moka's map
/// must show it every key that a lookup with this hash could match, so after one
/// lookup (`contains_key`) `found` holds every `str` key in the map with the hash
/// (removed ones too: the caller re-checks). The addresses are valid until Python
/// code runs or the GIL is released (moka's references are only released through
/// `Owned`, see `release`).
pub struct StrSearch {
    hash: u64,
    found: RefCell<Vec<usize>>,
}

impl StrSearch {
    pub fn new(hash: u64) -> StrSearch {
        StrSearch {
            hash,
            found: RefCell::new(Vec::new()),
        }
    }

    /// The `str` keys seen, each once, as new references. GIL held, and no Python
    /// code run since the lookup.
    pub fn take<'py>(self, py: Python<'py>) -> Vec<Bound<'py, PyAny>> {
        let mut found = self.found.into_inner();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            // SAFETY: see the type docs.
            .map(|p| unsafe { Bound::from_borrowed_ptr(py, p as *mut ffi::PyObject) })
            .collect()
    }
}

impl Hash for StrSearch {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Equivalent<Key> for StrSearch {
    fn equivalent(&self, key: &Key) -> bool {
        if let KeyId::Str(s) = &key.id {
            if key.hash == self.hash {
                self.found.borrow_mut().push(s.as_ptr() as usize);
            }
        }
        false
    }
}

/// Keeps a token alive (one strong count) while the GIL is released, so that the
/// interner cannot free it and let its address be reused by another key's token.
pub struct TokenPin(#[allow(dead_code)] Option<Arc<Token>>);

impl TokenPin {
    /// # Safety
    /// `tok` is null or points to a live token (e.g. borrowed from the interner with
    /// the GIL held and no Python code run since).
    #[inline]
    pub unsafe fn new(tok: *const Token) -> TokenPin {
        if tok.is_null() {
            TokenPin(None)
        } else {
            Arc::increment_strong_count(tok);
            TokenPin(Some(Arc::from_raw(tok)))
        }
    }
}

/// A strong reference to a token borrowed from the interner.
///
/// # Safety
/// `tok` is non-null and was borrowed from the interner (`Interner::lookup`) with the
/// GIL held and no Python code run since.
#[inline]
pub unsafe fn token_arc(tok: *const Token) -> Arc<Token> {
    Arc::increment_strong_count(tok);
    Arc::from_raw(tok)
}

/// The per-cache key interner (see the module docs).
pub struct Interner {
    dict: Py<PyDict>,
    dead: Arc<DeadTokens>,
    /// Set once a key that the garbage collector tracks has been interned.
    pub gc_keys: AtomicBool,
}

impl Interner {
    pub fn new(py: Python<'_>) -> Interner {
        Interner {
            dict: PyDict::new(py).unbind(),
            dead: Arc::new(DeadTokens::default()),
            gc_keys: AtomicBool::new(false),
        }
    }

    pub fn dict(&self) -> &Py<PyDict> {
        &self.dict
    }

    /// The token of `key`, borrowed (valid while the GIL is held and no Python code
    /// runs), or null if `key` is not interned. Runs `__eq__` of colliding keys.
    #[inline]
    pub fn lookup(
        &self,
        py: Python<'_>,
        key: *mut ffi::PyObject,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<*const Token> {
        // SAFETY: GIL held; our dict holds only capsules made by `arc_capsule::<Token>`.
        unsafe {
            let cap = dict_get(py, self.dict.as_ptr(), key, py_hash)?;
            if cap.is_null() {
                Ok(std::ptr::null())
            } else {
                Ok(capsule_ptr::<Token>(cap))
            }
        }
    }

    /// The token of `key` (a strong reference), or None if `key` is not interned.
    #[inline]
    pub fn find(
        &self,
        py: Python<'_>,
        key: *mut ffi::PyObject,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<Option<Arc<Token>>> {
        let found = self.lookup(py, key, py_hash)?;
        // SAFETY: borrowed from the interner just now, no Python code run since.
        Ok((!found.is_null()).then(|| unsafe { token_arc(found) }))
    }

    /// The token of `key`, interning it (as the canonical key) if needed.
    pub fn intern(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        py_hash: ffi::Py_hash_t,
    ) -> PyResult<Arc<Token>> {
        if let Some(tok) = self.find(py, key.as_ptr(), py_hash)? {
            return Ok(tok);
        }
        let tok = Arc::new(Token {
            live: AtomicUsize::new(0),
            interned: AtomicBool::new(false),
            key: Owned::new(key),
            py_hash,
            dead: Arc::downgrade(&self.dead),
            mark: AtomicU64::new(0),
        });
        self.put(py, &tok)?;
        // SAFETY: plain type-flag test.
        if unsafe { ffi::PyObject_IS_GC(key.as_ptr()) } != 0 {
            self.gc_keys.store(true, Ordering::Relaxed);
        }
        Ok(tok)
    }

    /// Map the token's key to the token.
    fn put(&self, py: Python<'_>, tok: &Arc<Token>) -> PyResult<()> {
        // SAFETY: GIL held.
        unsafe {
            let cap = arc_capsule(py, Arc::clone(tok))?;
            let r = dict_set(py, self.dict.as_ptr(), tok.key.as_ptr(), cap, tok.py_hash);
            // The dict holds its own reference; on failure this frees the capsule.
            ffi::Py_DECREF(cap);
            r?;
        }
        tok.interned.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Remove the entries of dead tokens. GIL held, no moka lock held.
    #[inline]
    pub fn reap(&self, py: Python<'_>) {
        if self.dead.dirty.load(Ordering::Acquire) {
            self.reap_slow(py);
        }
    }

    #[cold]
    fn reap_slow(&self, py: Python<'_>) {
        if !self.dead.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let batch = std::mem::take(&mut *self.dead.queue.lock().unwrap_or_else(|e| e.into_inner()));
        for tok in batch {
            if tok.live.load(Ordering::Acquire) != 0 || !tok.interned.load(Ordering::Relaxed) {
                continue;
            }
            if let Err(e) = self.unintern(py, &tok) {
                // Only an `__eq__` of a colliding key can fail here. The entry stays
                // (it is retried when the token dies again); report, do not raise from
                // an unrelated call.
                e.write_unraisable(py, Some(self.dict.bind(py).as_any()));
            }
        }
    }

    fn unintern(&self, py: Python<'_>, tok: &Arc<Token>) -> PyResult<()> {
        let key = tok.key.as_ptr();
        let current = self.lookup(py, key, tok.py_hash)?;
        if current != Arc::as_ptr(tok) {
            // The slot is gone or belongs to another token: not ours any more.
            tok.interned.store(false, Ordering::Relaxed);
            return Ok(());
        }
        if tok.live.load(Ordering::Acquire) != 0 {
            return Ok(()); // revived while the lookup ran Python code
        }
        // SAFETY: GIL held.
        if !unsafe { dict_discard(py, self.dict.as_ptr(), key, tok.py_hash)? } {
            // Found by the lookup, missed by the deletion (an inconsistent `__eq__`):
            // the entry stays, like one whose `__eq__` raised, and is retried when the
            // token dies again.
            return Ok(());
        }
        tok.interned.store(false, Ordering::Relaxed);
        if tok.live.load(Ordering::Acquire) != 0 && self.lookup(py, key, tok.py_hash)?.is_null() {
            // Revived while the deletion ran Python code: restore the invariant.
            self.put(py, tok)?;
        }
        Ok(())
    }

    /// Call `f` once per interned token (for `__traverse__`; reads only, no Python).
    pub fn for_each_token(&self, mut f: impl FnMut(&Token) -> c_int) -> c_int {
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: called with the GIL held (tp_traverse); PyDict_Next only reads.
        unsafe {
            while ffi::PyDict_Next(self.dict.as_ptr(), &mut pos, &mut k, &mut v) != 0 {
                let tok = capsule_ptr::<Token>(v);
                if !tok.is_null() {
                    let r = f(&*tok);
                    if r != 0 {
                        return r;
                    }
                }
            }
        }
        0
    }

    /// Forget every interned key (for `__clear__`). GIL held.
    pub fn clear(&self, py: Python<'_>) {
        self.dict.bind(py).clear();
    }
}
