//! Releasing Python references held by things that moka owns.
//!
//! moka drops keys and values in places we do not control: inside its locks during
//! housekeeping, on whatever thread next pins crossbeam-epoch (the concurrent map
//! frees removed buckets through epoch-based reclamation), with or without the GIL.
//! A `Py_DECREF` there could run arbitrary Python code (`__del__`, weakref callbacks)
//! while a moka lock is held, or touch the interpreter from a thread that is not
//! attached. So nothing moka owns ever decrefs directly: `Owned` and the value cell
//! push their pointer onto one process-wide queue, and every public call drains the
//! queue with the GIL held, after all moka calls have returned (`drain`).
//!
//! The queue is a leaf lock: it is held only to push or to swap the vector out, never
//! while waiting for the GIL or for a moka lock, and never while calling Python.

use pyo3::ffi;
use pyo3::prelude::*;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

struct SendPtr(NonNull<ffi::PyObject>);
// SAFETY: the pointer is only dereferenced (decref'd) by `drain`, with the GIL held.
unsafe impl Send for SendPtr {}

static PENDING: Mutex<Vec<SendPtr>> = Mutex::new(Vec::new());
static DIRTY: AtomicBool = AtomicBool::new(false);

/// Release a strong reference, or queue it for the next `drain`. Callable from any
/// thread, with or without the GIL, never calls Python.
///
/// When this thread holds the GIL and the object has other references, the
/// reference is dropped on the spot: decrementing a count that stays above zero runs
/// no code. Otherwise the pointer is queued.
pub fn defer_decref(ptr: NonNull<ffi::PyObject>) {
    // SAFETY: `PyGILState_Check` only reads thread-local state; with the GIL held the
    // refcount can be read and decremented (it stays > 0, so nothing is freed).
    unsafe {
        if direct_release_allowed()
            && ffi::PyGILState_Check() == 1
            && ffi::Py_REFCNT(ptr.as_ptr()) > 1
        {
            ffi::Py_DECREF(ptr.as_ptr());
            return;
        }
    }
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(SendPtr(ptr));
    // Set after the push: a concurrent drainer either takes the pointer now or sees
    // the flag on its next call (same ordering argument as pyo3's reference pool).
    DIRTY.store(true, Ordering::Release);
}

thread_local! {
    static IN_TRAVERSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[inline]
fn direct_release_allowed() -> bool {
    !IN_TRAVERSE.try_with(|t| t.get()).unwrap_or(true)
}

/// While alive, references dropped on this thread are always queued, never
/// decremented in place: the garbage collector's `tp_traverse` must not see
/// reference counts change under it (moka's iterator, used there, may drop the last
/// clone of an entry that another thread just removed).
pub struct TraverseGuard(bool);

impl TraverseGuard {
    pub fn new() -> Self {
        TraverseGuard(IN_TRAVERSE.try_with(|t| t.replace(true)).unwrap_or(true))
    }
}

impl Drop for TraverseGuard {
    fn drop(&mut self) {
        let _ = IN_TRAVERSE.try_with(|t| t.set(self.0));
    }
}

thread_local! {
    /// Counts what moka gave back to us on this thread (values and key wrappers
    /// dropped). Used by `settle_epoch` to see whether its own flushes still free
    /// anything: the destructors a flush runs run on the flushing thread. Per thread,
    /// so that every drop (several per insert) costs a plain increment, not an atomic
    /// read-modify-write on a process-wide counter.
    static RECLAIMED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Note that moka gave something back (a key wrapper or value was dropped).
#[inline]
pub fn note_reclaimed() {
    let _ = RECLAIMED.try_with(|n| n.set(n.get().wrapping_add(1)));
}

/// This thread's `RECLAIMED` count.
fn reclaimed() -> usize {
    RECLAIMED.try_with(|n| n.get()).unwrap_or(0)
}

/// Release every queued reference. Must be called with the GIL held and with no
/// moka lock held (the decrefs may run arbitrary Python code, which may re-enter any
/// cache; that is fine because nothing is locked here).
#[inline]
pub fn drain(py: Python<'_>) {
    if DIRTY.load(Ordering::Acquire) {
        drain_slow(py);
    }
}

thread_local! {
    /// Reused buffer for `drain_slow`, so that draining allocates nothing.
    static SCRATCH: std::cell::RefCell<Vec<SendPtr>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cold]
fn drain_slow(_py: Python<'_>) {
    if !DIRTY.swap(false, Ordering::AcqRel) {
        return;
    }
    let mut batch = SCRATCH
        .try_with(|s| {
            s.try_borrow_mut()
                .map(|mut s| std::mem::take(&mut *s))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    // Swap buffers: both keep their capacity.
    std::mem::swap(
        &mut batch,
        &mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()),
    );
    for p in batch.drain(..) {
        // SAFETY: GIL held; each pointer carries one strong reference we own. A decref
        // may run Python code that drains again: it uses its own (empty) buffers.
        unsafe { ffi::Py_DECREF(p.0.as_ptr()) };
    }
    let _ = SCRATCH.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.capacity() < batch.capacity() {
                *s = batch;
            }
        }
    });
}

/// Run crossbeam-epoch's deferred destructors until they stop yielding anything.
///
/// moka removes entries from its concurrent map eagerly but frees the removed
/// buckets (which hold our key wrapper and value) only when the epoch has advanced
/// twice past the removal. Each `pin().flush()` moves this thread's garbage to the
/// global queue, tries to advance the epoch, and runs up to 8 expired bags. We keep
/// flushing until four flushes in a row reclaimed nothing (two advances are needed
/// before freshly retired garbage becomes collectable), bounded by `max_rounds`.
/// Other threads that stay pinned can delay this; that only delays the release.
///
/// Pure Rust, lock-free: may run with or without the GIL.
pub fn settle_epoch(max_rounds: usize) {
    let mut last = reclaimed();
    let mut idle = 0;
    for _ in 0..max_rounds {
        crossbeam_epoch::pin().flush();
        let now = reclaimed();
        if now == last {
            idle += 1;
            if idle >= 4 {
                break;
            }
        } else {
            last = now;
            idle = 0;
        }
    }
}

/// A strong reference that is never decref'd in place (see the module docs).
pub struct Owned(NonNull<ffi::PyObject>);

// SAFETY: the object is only touched with the GIL held (`clone_ref`), and the
// reference is released through `defer_decref`.
unsafe impl Send for Owned {}
unsafe impl Sync for Owned {}

impl Owned {
    /// Take a new strong reference to `obj`.
    pub fn new(obj: &Bound<'_, PyAny>) -> Self {
        Owned(NonNull::new(obj.clone().into_ptr()).expect("non-null object"))
    }

    #[inline]
    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }

    #[inline]
    pub fn clone_ref(&self, py: Python<'_>) -> Py<PyAny> {
        // SAFETY: GIL held (we have `py`); the pointer is a live object we own a ref to.
        unsafe { Bound::from_borrowed_ptr(py, self.0.as_ptr()).unbind() }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        defer_decref(self.0);
    }
}

/// A strong reference that can be taken out early (`take`), used for cached values:
/// when an entry has certainly left the cache (removed, evicted, expired, cleared),
/// the reference is handed to the caller or the listener and released at once,
/// instead of waiting for moka to drop its copy through the epoch collector.
pub struct TakeableRef(AtomicPtr<ffi::PyObject>);

impl TakeableRef {
    pub fn new(obj: &Bound<'_, PyAny>) -> Self {
        TakeableRef(AtomicPtr::new(obj.clone().into_ptr()))
    }

    /// A new reference to the object, or None if it was taken.
    ///
    /// `take` and `get` both run with the GIL held and call no Python code between
    /// the load and the incref, so the object cannot be released in between.
    #[inline]
    pub fn get(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: GIL held, see above.
        unsafe { Bound::from_borrowed_ptr_or_opt(py, p).map(Bound::unbind) }
    }

    /// Move the reference out (GIL held).
    #[inline]
    pub fn take(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let p = self.0.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: GIL held; we own the reference that was stored.
        unsafe { Bound::from_owned_ptr_or_opt(py, p).map(Bound::unbind) }
    }

    /// The raw pointer, for `__traverse__` only.
    #[inline]
    pub fn peek(&self) -> *mut ffi::PyObject {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for TakeableRef {
    fn drop(&mut self) {
        // `&mut self`: no other thread can see the cell any more, so a plain read
        // suffices (an atomic swap here cost a locked instruction per released value).
        let p = std::mem::replace(self.0.get_mut(), std::ptr::null_mut());
        if let Some(p) = NonNull::new(p) {
            defer_decref(p);
        }
    }
}
