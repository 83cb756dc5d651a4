//! Argument validation, with the exact types and messages shared with the pure
//! backend (docs/internals/moka-algorithms.md, "Argument validation").

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use std::time::Duration;

/// moka's limit for ttl / tti: 1000 years of 365 days, inclusive.
pub const MAX_SECONDS: u64 = 1_000 * 365 * 24 * 3600;

/// `type(x).__name__`.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}

/// `isinstance(x, int) and not isinstance(x, bool)`
#[inline]
pub fn is_int(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type checks only.
    unsafe { ffi::PyLong_Check(obj.as_ptr()) != 0 && ffi::PyBool_Check(obj.as_ptr()) == 0 }
}

#[inline]
pub fn is_float(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check only.
    unsafe { ffi::PyFloat_Check(obj.as_ptr()) != 0 }
}

fn str_of(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.str()?.to_string())
}

fn repr_of(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.repr()?.to_string())
}

/// An argument whose absence must be told apart from an explicit `None`.
pub struct Arg<'py>(pub Option<Bound<'py, PyAny>>);

impl Arg<'_> {
    pub const fn missing() -> Self {
        Arg(None)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Arg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Arg(Some(obj.to_owned())))
    }
}

/// `capacity`: a non-negative int up to 2**64 - 1, or None (unbounded).
pub fn capacity(obj: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(None);
    }
    if !is_int(obj) {
        return Err(PyTypeError::new_err(format!(
            "capacity must be an int or None, not {}",
            type_name(obj)
        )));
    }
    if obj.lt(0)? {
        return Err(PyValueError::new_err(format!(
            "capacity must be >= 0, got {}",
            str_of(obj)?
        )));
    }
    match obj.extract::<u64>() {
        Ok(v) => Ok(Some(v)),
        Err(_) => Err(PyValueError::new_err(format!(
            "capacity must be at most 2**64 - 1, got {}",
            str_of(obj)?
        ))),
    }
}

/// A duration in seconds (`ttl` / `tti`, cache-wide or per entry), or None.
///
/// int -> exactly `secs * 10**9` ns; float -> `round(secs * 1e9)` ns, rounding half
/// to even like Python's `round` (so both backends agree to the nanosecond).
#[inline(always)]
pub fn seconds(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Duration>> {
    // Inlined for the common `None` (per-entry arguments of every `set` / `get_with`).
    match obj {
        Some(o) if !o.is_none() => seconds_of(o, name),
        _ => Ok(None),
    }
}

fn seconds_of(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<Duration>> {
    let bad_value = || -> PyResult<PyErr> {
        Ok(PyValueError::new_err(format!(
            "{name} must be finite, > 0 and at most 1000 years ({MAX_SECONDS} seconds), got {}",
            repr_of(obj)?
        )))
    };
    if is_int(obj) {
        return match obj.extract::<i64>() {
            Ok(v) if v > 0 && v as u64 <= MAX_SECONDS => Ok(Some(Duration::from_secs(v as u64))),
            _ => Err(bad_value()?),
        };
    }
    if is_float(obj) {
        // SAFETY: `obj` is a float (or subclass).
        let v = unsafe { ffi::PyFloat_AsDouble(obj.as_ptr()) };
        if !(v.is_finite() && v > 0.0 && v <= MAX_SECONDS as f64) {
            return Err(bad_value()?);
        }
        let ns = (v * 1e9).round_ties_even() as u128;
        return Ok(Some(duration_from_nanos(ns)));
    }
    Err(PyTypeError::new_err(format!(
        "{name} must be a number of seconds (int or float) or None, not {}",
        type_name(obj)
    )))
}

pub fn duration_from_nanos(ns: u128) -> Duration {
    const NS: u128 = 1_000_000_000;
    Duration::new((ns / NS) as u64, (ns % NS) as u32)
}

/// Per-entry durations are kept as u64 nanoseconds, `NO_DURATION` when not given;
/// given ones saturate at `u64::MAX - 1` ns (~584 years, beyond which moka's clock
/// saturates anyway).
pub const NO_DURATION: u64 = u64::MAX;

pub fn nanos(d: Option<Duration>) -> u64 {
    d.map_or(NO_DURATION, |d| {
        u64::try_from(d.as_nanos())
            .unwrap_or(u64::MAX)
            .min(u64::MAX - 1)
    })
}

/// `float(x)` of a duration argument, for the read-only properties.
pub fn as_float(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(o.extract::<f64>()?)),
        _ => Ok(None),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Policy {
    TinyLfu,
    Lru,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::TinyLfu => "tiny_lfu",
            Policy::Lru => "lru",
        }
    }
}

pub fn policy(arg: &Arg<'_>) -> PyResult<Policy> {
    let obj = match &arg.0 {
        None => return Ok(Policy::TinyLfu),
        Some(o) => o,
    };
    // SAFETY: type check only.
    if unsafe { ffi::PyUnicode_Check(obj.as_ptr()) } == 0 {
        return Err(PyTypeError::new_err(format!(
            "policy must be 'tiny_lfu' or 'lru', not {}",
            type_name(obj)
        )));
    }
    match obj.extract::<&str>() {
        Ok("tiny_lfu") => Ok(Policy::TinyLfu),
        Ok("lru") => Ok(Policy::Lru),
        _ => Err(PyValueError::new_err(format!(
            "policy must be 'tiny_lfu' or 'lru', got {}",
            repr_of(obj)?
        ))),
    }
}

/// `eviction_listener` / `weigher`: a callable or None.
pub fn callable_or_none(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Py<PyAny>>> {
    match obj {
        Some(o) if !o.is_none() => {
            if o.is_callable() {
                Ok(Some(o.clone().unbind()))
            } else {
                Err(PyTypeError::new_err(format!(
                    "{name} must be callable or None, not {}",
                    type_name(o)
                )))
            }
        }
        _ => Ok(None),
    }
}

/// Check the result of a weigher: an int >= 0, clamped to 2**32 - 1.
pub fn weight(r: &Bound<'_, PyAny>) -> PyResult<u32> {
    if !is_int(r) {
        return Err(PyTypeError::new_err(format!(
            "weigher must return an int, not {}",
            type_name(r)
        )));
    }
    match r.extract::<i64>() {
        Ok(v) if v < 0 => Err(PyValueError::new_err(format!(
            "weigher must return an int >= 0, got {}",
            str_of(r)?
        ))),
        Ok(v) => Ok(u32::try_from(v).unwrap_or(u32::MAX)),
        Err(_) => {
            if r.lt(0)? {
                Err(PyValueError::new_err(format!(
                    "weigher must return an int >= 0, got {}",
                    str_of(r)?
                )))
            } else {
                Ok(u32::MAX)
            }
        }
    }
}
