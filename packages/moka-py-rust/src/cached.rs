//! The native call path of `moka_py_rust.cached`: `CachedFunction`.
//!
//! The decorator itself (settings, validation, async and `wait_concurrent`
//! wrappers, custom `key=`) is moka-py's generic one; see
//! `python/moka_py_rust/_cached.py`. For the common case, a plain sync function
//! with the default key, that module wraps the function in this class instead of
//! a Python closure, so that a hit (build the key, `get`, count) runs without
//! executing any Python bytecode. It must be indistinguishable from the generic
//! wrapper: same keys (`moka_py._cached.make_key`, whose keyword marker object is
//! passed in), one recorded read per call (`cache_info()` reads the cache's
//! statistics, as the generic wrapper's does), same behaviour on a miss (`func(*args, **kwargs)`,
//! then `set(key, value)`; exceptions are not cached).

use crate::args::NO_DURATION;
use crate::cache::{hashed, Moka};
use pyo3::ffi;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::PyTraverseError;

extern "C" {
    // `types.MethodType(func, obj)` (cpython/classobject.h); pyo3-ffi does not bind it.
    fn PyMethod_New(func: *mut ffi::PyObject, obj: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

/// ``CachedFunction(func, cache, typed, kwargs_mark)``: ``func`` memoized in
/// ``cache`` (a ``Moka``), with ``functools.lru_cache``'s default keys.
///
/// Subclassed by ``moka_py_rust._cached``, which adds the instance ``__dict__``
/// (``functools.update_wrapper``'s attributes, ``cache``) and the introspection
/// methods (``cache_info`` and the others).
#[pyclass(
    frozen,
    subclass,
    module = "moka_py_rust._native",
    name = "CachedFunction"
)]
pub struct CachedFunction {
    func: Py<PyAny>,
    cache: Py<Moka>,
    typed: bool,
    /// `moka_py._cached._KWARGS_MARK`: separates positional from keyword arguments.
    kwargs_mark: Py<PyAny>,
}

impl CachedFunction {
    /// `moka_py._cached.make_key(args, kwargs, typed)`, in Rust.
    fn make_key<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = kwargs.filter(|k| !k.is_empty());
        if kwargs.is_none() && !self.typed {
            if args.len() == 1 {
                let a = args.get_item(0)?;
                // Exact int or str only (not bool, not subclasses), like lru_cache.
                // SAFETY: type checks on a live object.
                let own = unsafe {
                    ffi::PyLong_CheckExact(a.as_ptr()) != 0
                        || ffi::PyUnicode_CheckExact(a.as_ptr()) != 0
                };
                if own {
                    return Ok(a);
                }
            }
            return Ok(args.clone().into_any());
        }
        let mut parts: Vec<Bound<'py, PyAny>> = args.iter().collect();
        if let Some(kw) = kwargs {
            parts.push(self.kwargs_mark.bind(py).clone());
            for (k, v) in kw.iter() {
                parts.push(k);
                parts.push(v);
            }
        }
        if self.typed {
            for a in args.iter() {
                parts.push(a.get_type().into_any());
            }
            if let Some(kw) = kwargs {
                for v in kw.values().iter() {
                    parts.push(v.get_type().into_any());
                }
            }
        }
        Ok(PyTuple::new(py, parts)?.into_any())
    }
}

#[pymethods]
impl CachedFunction {
    #[new]
    fn new(func: Py<PyAny>, cache: Py<Moka>, typed: bool, kwargs_mark: Py<PyAny>) -> Self {
        CachedFunction {
            func,
            cache,
            typed,
            kwargs_mark,
        }
    }

    /// Return the cached result for these arguments, or call the function and
    /// cache its result.
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let key = self.make_key(py, args, kwargs)?;
        let cache = self.cache.get();
        let h = hashed(py, &key)?;
        let found = cache.read(py, &key, h);
        let f = cache.finish(py);
        let found = found?;
        f?;
        if let Some(v) = found {
            return Ok(v);
        }
        let value = self.func.bind(py).call(args, kwargs)?;
        let r = cache.insert(py, &key, h, &value, NO_DURATION, NO_DURATION);
        let f = cache.finish(py);
        r?;
        f?;
        Ok(value.unbind())
    }

    /// Bind to an instance like a function does (the instance becomes the first
    /// argument, hence part of the key).
    fn __get__(
        slf: &Bound<'_, Self>,
        obj: Option<&Bound<'_, PyAny>>,
        _owner: Option<&Bound<'_, PyType>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        match obj {
            Some(o) if !o.is_none() => {
                // SAFETY: GIL held; both pointers are live; PyMethod_New returns a
                // new reference or null with an exception set.
                unsafe {
                    let m = PyMethod_New(slf.as_ptr(), o.as_ptr());
                    Bound::from_owned_ptr_or_err(py, m).map(Bound::unbind)
                }
            }
            _ => Ok(slf.clone().into_any().unbind()),
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.func)?;
        visit.call(&self.cache)?;
        visit.call(&self.kwargs_mark)?;
        Ok(())
    }
}
