//! Value keys: keys that moka can compare by value, without the interner.
//!
//! Interning a key costs a dict entry, a capsule and a token (see `key`), about 150
//! bytes, and pointer chases on every call. Most caches are keyed by ints or strs,
//! and those need neither: moka can compare them itself, without running Python code.
//!
//! * **Int-valued keys** reach moka as their `i64` value. Two such keys are equal
//!   exactly when Python says so (`1 == 1.0 == True`). They are `int` within the `i64`
//!   range, `bool`, and subclasses of `int` that keep `int`'s `__eq__` and `__hash__`;
//!   and `float` (and such subclasses of it) with an integral value in the `i64`
//!   range. Their `hash()` is the hash of the int value (Python guarantees it). An
//!   int-valued key is reported (to the listener) as a plain `int` with its value;
//!   which of several equal key objects an event carries is not part of the contract
//!   (conformance `test_equal_keys_are_one_key`).
//! * **Str keys** (exact `str` objects) reach moka as the object itself, and moka
//!   compares two of them as CPython's `str.__eq__` does: same length, same kind,
//!   same code units (`key::str_eq`). A `str` is immutable and never tracked by the
//!   garbage collector, so moka can hold and read it without the GIL and without
//!   `__traverse__`. Subclasses of `str` are interned: one may carry attributes that
//!   refer back to the cache, and the collector must see those.
//!
//! moka sees the same key hash as with the interner (the mixed `hash()`), and as the
//! pure backend: the decisions are unchanged.
//!
//! Every other key is interned. Some of those can still equal a value key:
//! `Decimal(1)`, `Fraction(1)`, a `str` subclass, a class with its own `__eq__`.
//! `may_equal_value` tells them apart from the common keys that cannot (`tuple`,
//! `bytes`, `frozenset`, `None`, non-integral floats, ints beyond `i64`);
//! `ints_with_hash` lists the only ints such a key could equal (those with the same
//! `hash()`), and `key::StrSearch` finds the str entries with its hash. How the cache
//! keeps one entry per key across the kinds is in `cache.rs` ("Value keys").

use pyo3::ffi;
use std::ptr::addr_of_mut;

/// How a key reaches moka.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// Int-valued: moka compares the value.
    Int(i64),
    /// An exact `str`: moka compares the text.
    Str,
    /// Interned; `may_equal_value` if some int-valued or str key might compare equal
    /// to it.
    Other { may_equal_value: bool },
}

/// `2**63` as a float: the first value above `i64`'s range.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Classify `key`.
///
/// # Safety
/// GIL held; `key` is a live object. Reads type slots and the value only: no Python
/// code runs and no exception can be set.
#[inline]
pub unsafe fn classify(key: *mut ffi::PyObject) -> KeyClass {
    let tp = ffi::Py_TYPE(key);
    let int_type = addr_of_mut!(ffi::PyLong_Type);
    // The exact int and str types first: the common keys, and `PyFloat_Check` of any
    // other type is a call (`PyType_IsSubtype`).
    if tp == int_type || (ffi::PyLong_Check(key) != 0 && same_equality(tp, int_type)) {
        return int_class(key);
    }
    if tp == addr_of_mut!(ffi::PyUnicode_Type) {
        // Always ready once `hash()` has run (CPython < 3.12 readies it there, and
        // `cache::hashed` classifies such a str again after hashing it); a string
        // that is not would be compared in Python, as an interned key.
        return if ffi::PyUnicode_IS_READY(key) != 0 {
            KeyClass::Str
        } else {
            KeyClass::Other {
                may_equal_value: true,
            }
        };
    }
    let float_type = addr_of_mut!(ffi::PyFloat_Type);
    if tp == float_type || (ffi::PyFloat_Check(key) != 0 && same_equality(tp, float_type)) {
        let f = ffi::PyFloat_AS_DOUBLE(key);
        // `fract()` of an infinity or NaN is NaN, so they are not integral.
        return if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
            KeyClass::Int(f as i64)
        } else {
            KeyClass::Other {
                may_equal_value: false,
            }
        };
    }
    let never_equal = tp == addr_of_mut!(ffi::PyTuple_Type)
        || tp == addr_of_mut!(ffi::PyBytes_Type)
        || tp == addr_of_mut!(ffi::PyFrozenSet_Type)
        || key == ffi::Py_None();
    KeyClass::Other {
        may_equal_value: !never_equal,
    }
}

/// The class of an int (or of a subclass that compares and hashes as int).
///
/// # Safety
/// GIL held; `key` is such an object.
#[inline]
unsafe fn int_class(key: *mut ffi::PyObject) -> KeyClass {
    let mut overflow = 0;
    // Cannot fail for an int (or subclass) object: it reads the digits.
    let v = ffi::PyLong_AsLongLongAndOverflow(key, &mut overflow);
    if overflow == 0 {
        KeyClass::Int(v)
    } else {
        // Equals no i64 int and no str (only floats and other big ints, which are
        // interned).
        KeyClass::Other {
            may_equal_value: false,
        }
    }
}

/// Whether `tp` compares and hashes as its base `base` does (no `__eq__` or
/// `__hash__` of its own).
#[inline]
unsafe fn same_equality(tp: *mut ffi::PyTypeObject, base: *mut ffi::PyTypeObject) -> bool {
    // Slots hold CPython's C function addresses; a subclass inherits the same value.
    (*tp).tp_richcompare.map(|f| f as usize) == (*base).tp_richcompare.map(|f| f as usize)
        && (*tp).tp_hash.map(|f| f as usize) == (*base).tp_hash.map(|f| f as usize)
}

/// CPython's modulus for numeric hashes, `2**61 - 1`.
const MODULUS: i128 = (1 << 61) - 1;

/// CPython's `hash()` of an int (`long_hash`): `|v| mod (2**61 - 1)` with the sign of
/// `v`, and -1 (reserved for errors) becomes -2.
#[inline]
pub fn int_hash(v: i64) -> isize {
    const M: u64 = MODULUS as u64;
    let a = v.unsigned_abs();
    // a = hi * 2**61 + lo, and 2**61 = 1 (mod M); hi <= 4, so one subtraction is enough.
    let mut r = (a & M) + (a >> 61);
    if r >= M {
        r -= M;
    }
    let h = if v < 0 { -(r as i64) } else { r as i64 };
    (if h == -1 { -2 } else { h }) as isize
}

/// `int_hash` spelled with CPython's definition, to check the fast one against.
#[cfg(test)]
fn int_hash_by_definition(v: i64) -> isize {
    let v = i128::from(v);
    let h = if v >= 0 {
        v % MODULUS
    } else {
        -((-v) % MODULUS)
    };
    (if h == -1 { -2 } else { h }) as isize
}

/// Every `i64` whose `hash()` is `h` (at most 10 values).
pub fn ints_with_hash(h: isize) -> Vec<i64> {
    let h = h as i128;
    let mut out = Vec::new();
    let mut series = |first: i128, step: i128| {
        let mut v = first;
        while let Ok(x) = i64::try_from(v) {
            out.push(x);
            v += step;
        }
    };
    // v >= 0 hashes to v mod MODULUS.
    if h >= 0 {
        series(h, MODULUS);
    }
    // v < 0 hashes to -(-v mod MODULUS), then -1 becomes -2.
    let raw: &[i128] = if h == -2 { &[-2, -1] } else { &[h] };
    for &r in raw.iter().filter(|&&r| r <= 0) {
        series(if r == 0 { -MODULUS } else { r }, -MODULUS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_hash_matches_cpython() {
        // Values from CPython 3.11's `hash()`.
        assert_eq!(int_hash(0), 0);
        assert_eq!(int_hash(1), 1);
        assert_eq!(int_hash(-1), -2);
        assert_eq!(int_hash(-2), -2);
        assert_eq!(int_hash((1 << 61) - 1), 0);
        assert_eq!(int_hash(1 << 61), 1);
        assert_eq!(int_hash(i64::MAX), 3);
        assert_eq!(int_hash(i64::MIN), -4);
    }

    #[test]
    fn int_hash_is_the_definition() {
        let m = (1i64 << 61) - 1;
        let mut samples = vec![
            0,
            1,
            -1,
            -2,
            m - 1,
            m,
            m + 1,
            -m,
            -m - 1,
            i64::MAX,
            i64::MIN,
        ];
        for k in 0..4 {
            for d in -3..=3 {
                samples.push((k * m).saturating_add(d));
                samples.push((-k * m).saturating_add(d));
            }
        }
        // A seeded spread over the whole range (splitmix64).
        let mut x = 0x1234_5678_9abc_def0_u64;
        for _ in 0..100_000 {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            samples.push((z ^ (z >> 31)) as i64);
        }
        for v in samples {
            assert_eq!(int_hash(v), int_hash_by_definition(v), "hash({v})");
        }
    }

    #[test]
    fn ints_with_hash_is_exactly_the_preimage() {
        let m = (1i64 << 61) - 1;
        let samples = [
            0,
            1,
            -1,
            -2,
            2,
            3,
            -4,
            m - 1,
            m,
            m + 1,
            -m,
            -m - 1,
            2 * m,
            3 * m + 7,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            1_000_000_007,
            -1_000_000_007,
        ];
        for v in samples {
            let h = int_hash(v);
            let all = ints_with_hash(h);
            assert!(all.len() <= 10);
            for c in &all {
                assert_eq!(int_hash(*c), h, "{c} in ints_with_hash({h})");
            }
            // Every int near v, or near v shifted by a multiple of the modulus, that
            // has the same hash is listed (the preimage is a few such series).
            for j in -9i128..=9 {
                for d in -4i128..=4 {
                    let Ok(c) = i64::try_from(i128::from(v) + j * i128::from(m) + d) else {
                        continue;
                    };
                    for c in [c, c.saturating_neg()] {
                        if int_hash(c) == h {
                            assert!(
                                all.contains(&c),
                                "{c} missing from ints_with_hash({h}) = {all:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
