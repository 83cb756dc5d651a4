"""The pure backend's own ``cached``: ``moka_py``'s generic decorator with a faster sync hit path.

Everything but the plain sync wrapper (default key, not ``typed``, no ``wait_concurrent``) is the
generic implementation, through ``moka_py._cached.cached_with``.  The plain wrapper builds the same
keys as the generic one and inlines :meth:`Moka.get`'s lock-free hit path, so a hit costs no call into
the cache; every other case (a miss, an expired entry, a per-entry tti) goes through the cache's locked
read.  The key is hashed once per call: the hash found first is handed to the cache's internals.

This module imports ``moka_py``: it is only imported when ``moka_py`` asks for ``moka_py_pure.cached``
(the pure backend does not depend on the core package).
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import hash, isinstance, len, type  # noqa: UP029
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any

from moka_py._cached import _KWARGS_MARK, OWN_KEY_TYPES, HashedKey, cached_with
from moka_py._protocol import CacheProtocol

from ._cache import _CHECK_NONE, _CHECK_TTL, _MISSING, Moka, _deliver
from ._housekeeper import READ_LOG_FLUSH_POINT

__all__ = ["cached"]


def plain_wrapper(
    func: Callable[..., Any],
    cache: CacheProtocol[Hashable, Any],
) -> Callable[..., Any] | None:
    """The plain sync wrapper of ``func`` over a pure ``Moka`` (None for any other cache)."""
    if not isinstance(cache, Moka):
        return None
    c: Moka[Any, Any] = cache
    m = c._map
    clock = c._clock
    origin = c._origin
    rlog = c._rlog  # never replaced: housekeeping drains it in place
    record = c._record_read
    get_locked = c._get_locked
    insert = c._insert
    own_key_types = OWN_KEY_TYPES
    missing = _MISSING
    flush_point = READ_LOG_FLUSH_POINT
    kwargs_mark = _KWARGS_MARK
    hashed_key = HashedKey
    deliver = _deliver

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        k: Any
        if kwargs:
            k = hashed_key((*args, kwargs_mark, *chain.from_iterable(kwargs.items())))
        elif len(args) == 1 and type(args[0]) in own_key_types:
            k = args[0]
        else:
            k = args
        h = hash(k)
        e = m.get(h)
        if e is not None and ((s := e.key) is k or s == k) and e.ptti is None:
            # Moka.get's lock-free hit path, inlined (keep the two in step); a collision bucket
            # (whose key equals nothing) or another key of the same hash takes the locked read.
            now = clock() - origin
            check = c._check
            if ((x := e.exp) is None or x > now) and (
                check == _CHECK_NONE or (check == _CHECK_TTL and e.lm + c._ttl_ns > now)
            ):
                e.la = now
                value = e.value
                if len(rlog) < flush_point and now < c._trigger_at:
                    rlog.append(e)
                else:
                    record(e, now, value)
                return value
        value = get_locked(k, h, missing)
        if value is not missing:
            return value
        value = func(*args, **kwargs)
        events = insert(k, h, value, None, None)  # Moka.set, with the hash already known
        if events:
            deliver(c._listener, events)
        return value

    return wrapper


cached = cached_with(plain_wrapper)
