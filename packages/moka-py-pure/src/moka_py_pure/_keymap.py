"""The cache's map, keyed by each key's ``hash()`` so that a stored key's code never runs again.

A ``dict`` keyed by the user's keys re-runs a stored key's ``__hash__`` (and ``__eq__`` on
collisions) whenever an entry is deleted, also from housekeeping or from another key's call, where
an exception from that code would surface from the wrong call (issue #6).  Like the Rust backend's
interner, this map remembers each key's hash: it maps ``hash(key)`` (an ``int``, whose hashing and
comparison run no Python code) to the :class:`~moka_py_pure._entry.Entry`, or, when hashes collide,
to a :class:`Bucket` of entries.  So:

* a lookup (of the key a call was given) compares it with the stored keys of equal hash like
  ``dict``: identity first, then the stored key's ``__eq__``; exceptions surface from that call;
* a removal is by the entry's identity and known hash, and runs no key code at all;
* housekeeping finds "the current entry for this entry's key" (moka's map lookup by a stored key)
  by identity, never by calling ``__eq__`` (see :func:`current`).

Buckets are immutable (a tuple subclass, replaced whole on change), so a lock-free reader that
took one sees a consistent snapshot, as if it had read just before or after the write.
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import bool, bytes, float, frozenset, int, len, object, str, tuple, type  # noqa: UP029
from typing import Any


class _NoKey:
    """A bucket's ``key``: equal to nothing, so the hot path's ``e.key == key`` test fails for it."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "<bucket>"


NO_KEY: Any = _NoKey()


class Bucket(tuple):  # type: ignore[type-arg]
    """Entries whose keys have the same ``hash()`` (at least two), in insertion order."""

    __slots__ = ()
    key = NO_KEY  # lets the hot path read ``x.key`` without first testing the type

    def __repr__(self) -> str:
        return f"Bucket{tuple(self)!r}"


# Builtin key types whose __eq__ runs no user code and cannot raise: housekeeping may compare them.
_PLAIN = frozenset({int, str, bytes, float, bool})


def probe(x: Any, key: Any) -> Any:
    """The entry for ``key`` in slot ``x`` (an entry whose key was not ``key``, or a bucket), or None.

    Called only with the key the running call was given, so its ``__eq__`` (and the stored keys')
    may run and raise here, as in ``dict``.
    """
    if type(x) is not Bucket:
        return None
    for e in x:
        k = e.key
        if k is key or k == key:
            return e
    return None


def find(m: dict[int, Any], h: int, key: Any) -> Any:
    """The entry stored for ``key`` (whose ``hash()`` is ``h``), or None."""
    x = m.get(h)
    if x is None:
        return None
    k = x.key
    if k is key or k == key:
        return x
    return probe(x, key)


def put(m: dict[int, Any], e: Any) -> None:
    """Store a new entry (the caller found no entry for its key)."""
    h = e.h
    x = m.get(h)
    if x is None:
        m[h] = e
    elif type(x) is Bucket:
        m[h] = Bucket((*x, e))
    else:
        m[h] = Bucket((x, e))


def unmap(m: dict[int, Any], e: Any) -> bool:
    """Remove this very entry (by identity, no key code runs) and retire it; False if not stored.

    Retiring is moka 0.12.16's ``EntryInfo::retire``, done with the map removal: housekeeping then
    skips the entry's queued upserts and reads (docs/internals/moka-algorithms.md, "Retired entries").
    Callers that delete ``m[h]`` themselves set ``e.retired`` beside the ``del``.
    """
    h = e.h
    x = m.get(h)
    if x is e:
        del m[h]
    elif type(x) is Bucket and e in x:  # `in` on a bucket of entries: Entry has no __eq__
        rest = [o for o in x if o is not e]
        m[h] = rest[0] if len(rest) == 1 else Bucket(rest)
    else:
        return False
    retire(e)
    return True


def retire(e: Any) -> None:
    """Mark an entry that has just left the map (``EntryInfo::retire``)."""
    e.retired = True


def current(m: dict[int, Any], info: Any) -> Any:
    """moka's map lookup by ``info``'s key from housekeeping: the stored entry for that key, or None.

    That is ``info`` itself while it is stored (always, for an entry housekeeping meets that has no
    pending write).  Otherwise an entry later stored for an equal key is found only if its key is
    the same object, or both keys are of a plain builtin type whose ``==`` runs no Python code:
    a user key's ``__eq__`` never runs here.
    """
    x = m.get(info.h)
    if x is info or x is None:
        return x
    key = info.key
    plain = type(key) in _PLAIN
    for e in x if type(x) is Bucket else (x,):
        if e is info:
            return e
    for e in x if type(x) is Bucket else (x,):
        k = e.key
        if k is key or (plain and type(k) in _PLAIN and k == key):
            return e
    return None
