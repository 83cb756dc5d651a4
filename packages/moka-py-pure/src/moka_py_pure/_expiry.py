"""Time arithmetic, the validity test and moka's ``Expiry`` hook semantics.

All times are integer nanoseconds since the cache's creation (moka: ``Instant`` since its clock
origin).  moka adds durations with saturation at ``u64::MAX - 1`` and stores per-entry expiration
times with their low 12 bits cleared (``EntryInfo::set_expiration_time``).

The Expiry hooks are the ones defined once for both backends (docs/internals/moka-algorithms.md,
"Expiry hooks"):
* create / update -> ``min(ttl, tti)`` of those given to that write, else None;
* read -> for an entry written with a per-entry tti: ``min(tti, what is left of its per-entry ttl
  counted from its last write, saturating at 0)``; otherwise the current duration, unchanged.
"""

from __future__ import annotations

from ._entry import Entry

MAX_NANOS = 0xFFFF_FFFF_FFFF_FFFE  # u64::MAX - 1 (u64::MAX means "unset" in moka's AtomicInstant)
TIME_MASK = 0xFFFF_FFFF_FFFF_F000

EXPLICIT = "explicit"
SIZE = "size"
EXPIRED = "expired"
REPLACED = "replaced"


def sat_add(t: int, d: int) -> int:
    """``Instant::saturating_add``."""
    s = t + d
    return s if s < MAX_NANOS else MAX_NANOS


def to_expiration_time(t: int) -> int:
    """What ``EntryInfo::set_expiration_time`` stores: low 12 bits cleared, never the sentinel."""
    nanos = t & TIME_MASK
    if nanos == TIME_MASK:
        nanos = TIME_MASK - 0x1000
    return nanos


def per_entry_duration(pttl: int | None, ptti: int | None) -> int | None:
    """The create/update hook: ``min(ttl, tti)`` of those given, else None."""
    if pttl is None:
        return ptti
    if ptti is None:
        return pttl
    return pttl if pttl < ptti else ptti


def is_valid(e: Entry, now: int, ttl: int | None, tti: int | None, va: int | None) -> bool:
    """The test of ``do_get_with_hash`` / ``contains_key``: not expired, not invalidated."""
    x = e.exp
    if x is not None and x <= now:
        return False
    if ttl is not None and sat_add(e.lm, ttl) <= now:
        return False
    if tti is not None and sat_add(e.la, tti) <= now:
        return False
    return not (va is not None and (e.lm < va or e.la < va))


def expire_after_create(e: Entry, now: int) -> None:
    """``BaseCache::expire_after_create`` with the shared create hook."""
    d = per_entry_duration(e.pttl, e.ptti)
    e.exp = None if d is None else to_expiration_time(sat_add(now, d))


def deadline_of(e: Entry, ttl: int | None, tti: int | None) -> int | None:
    """When the entry expires: min(E, lm + ttl, la + tti) of those that exist, or None."""
    t = e.exp
    if ttl is not None:
        x = sat_add(e.lm, ttl)
        if t is None or x < t:
            t = x
    if tti is not None:
        x = sat_add(e.la, tti)
        if t is None or x < t:
            t = x
    return t


def _current_duration(e: Entry, now: int, ttl: int | None, tti: int | None) -> int | None:
    """moka's ``cur``: min(E, lm + ttl, la + tti) - now, saturating at 0; None if none exists."""
    t = deadline_of(e, ttl, tti)
    if t is None:
        return None
    return t - now if t > now else 0  # moka 0.12.15: saturating_duration_since


def _apply_hook_result(e: Entry, now: int, duration: int | None, current: int | None) -> bool:
    """The tail of ``expire_after_read_or_update``; returns ``is_expiry_modified``."""
    if duration != current:
        e.exp = None if duration is None else to_expiration_time(sat_add(now, duration))
        return True
    return False


def expire_after_update(e: Entry, now: int, ttl: int | None, tti: int | None) -> None:
    """``do_post_update_steps``' hooks; call after ``la``/``lm``/``pttl``/``ptti`` were set.

    moka 0.12.15 (moka#575): a write over an entry whose per-entry expiration time has passed
    (expired, not yet removed) is a create, so the create hook sets its deadline afresh.
    """
    deadline = e.exp
    if deadline is not None and deadline <= now:
        expire_after_create(e, now)
        return
    current = _current_duration(e, now, ttl, tti)
    _apply_hook_result(e, now, per_entry_duration(e.pttl, e.ptti), current)


def expire_after_read(e: Entry, now: int, ttl: int | None, tti: int | None) -> bool:
    """Read hook for an entry with a per-entry tti (others return ``cur`` and change nothing).

    ``now`` must already be ``max(now, last_modified)``; ``e.la`` is still the previous access.
    """
    ptti = e.ptti
    assert ptti is not None
    current = _current_duration(e, now, ttl, tti)
    duration = ptti
    pttl = e.pttl
    if pttl is not None:
        left = pttl - (now - e.lm)
        if left < 0:
            left = 0
        if left < duration:
            duration = left
    return _apply_hook_result(e, now, duration, current)


def upsert_cause(
    old_la: int, old_lm: int, now: int, ttl: int | None, tti: int | None, va: int | None
) -> str:
    """``Inner::notify_upsert``: the cause reported for the value an insert replaced."""
    cause = REPLACED
    if tti is not None and sat_add(old_la, tti) <= now:
        cause = EXPIRED
    if ttl is not None and sat_add(old_lm, ttl) <= now:
        cause = EXPIRED
    elif va is not None and old_lm < va:
        cause = EXPLICIT
    return cause


def invalidate_cause(la: int, lm: int, now: int, ttl: int | None, tti: int | None) -> str:
    """``Inner::notify_invalidate``: per-entry expiry and ``invalidate_all`` are not considered."""
    if tti is not None and sat_add(la, tti) <= now:
        return EXPIRED
    if ttl is not None and sat_add(lm, ttl) <= now:
        return EXPIRED
    return EXPLICIT
