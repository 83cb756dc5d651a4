"""The pure backend's own ``cached``: ``moka_py``'s generic decorator with a faster sync hit path.

Everything but the plain sync wrapper (default key, not ``typed``, no ``wait_concurrent``) is the
generic implementation, through ``moka_py._cached.cached_with``.  The plain wrapper builds the same
keys as the generic one and inlines :meth:`Moka.get`'s lock-free hit path, so a hit costs no call into
the cache; every other case (a miss, an expired entry, a per-entry tti) goes through ``cache.get``.

This module imports ``moka_py``: it is only imported when ``moka_py`` asks for ``moka_py_pure.cached``
(the pure backend does not depend on the core package).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from moka_py._cached import OWN_KEY_TYPES, cached_with, make_key
from moka_py._protocol import CacheProtocol

from ._cache import _CHECK_NONE, _CHECK_TTL, _MISSING, Moka
from ._housekeeper import READ_LOG_FLUSH_POINT

__all__ = ["cached"]


def plain_wrapper(
    func: Callable[..., Any],
    cache: CacheProtocol[Hashable, Any],
    hit: Callable[[], object],
    miss: Callable[[], object],
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
    get = c.get
    set_ = c.set
    own_key_types = OWN_KEY_TYPES
    missing = _MISSING
    flush_point = READ_LOG_FLUSH_POINT

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            k = make_key(args, kwargs, False)
        elif len(args) == 1 and type(args[0]) in own_key_types:
            k = args[0]
        else:
            k = args
        e = m.get(hash(k))
        if e is not None and ((s := e.key) is k or s == k) and e.ptti is None:
            # Moka.get's lock-free hit path, inlined (keep the two in step); a collision bucket
            # (whose key equals nothing) or another key of the same hash goes through cache.get.
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
                hit()
                return value
        value = get(k, missing)
        if value is not missing:
            hit()
            return value
        miss()
        value = func(*args, **kwargs)
        set_(k, value)
        return value

    return wrapper


cached = cached_with(plain_wrapper)
