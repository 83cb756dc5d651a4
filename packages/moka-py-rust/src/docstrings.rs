//! The public docstrings of `Moka`, generated from packages/moka-py-core/src/moka_py/_typing.pyi
//! by tools/generate.py: do not edit.
//!
//! `#[doc = moka_doc!(name)]` is the docstring of the class (`Moka`) or of one of its
//! members; PyO3 turns it into the Python `__doc__`.

macro_rules! moka_doc {
    (Moka) => {
        r#"A thread-safe in-memory cache with size (TinyLFU or LRU), TTL and TTI eviction.

* ``capacity``: the maximum total weight of the entries (each weighs 1
  unless ``weigher`` is given); ``0`` stores nothing, ``None`` means no
  size bound.
* ``ttl`` / ``tti``: time to live (since the last write) and time to idle
  (since the last read or write), in seconds (int or float), or ``None``.
* ``eviction_listener(key, value, cause)``: told about every entry that
  leaves the cache, with cause ``"explicit"``, ``"size"``, ``"expired"``
  or ``"replaced"``; it is never called while the cache holds a lock, so
  it may use the cache.
* ``policy``: ``"tiny_lfu"`` (moka's default: a new entry is admitted only
  if it is used more often than the entries it would evict) or ``"lru"``.
* ``weigher(key, value) -> int``: the weight of an entry, called once per
  insert.

Bad arguments raise ``TypeError`` or ``ValueError``.  Admission, size
eviction and the removal of expired entries happen in housekeeping, which
runs every 64 recorded reads or writes, 300 ms after the previous run, or
on ``run_pending_tasks()``; until then ``count()`` and ``weighted_size()``
lag behind.  The size stays bounded meanwhile: when a call returns, the
entries held (readable or queued) weigh at most ``capacity + slack``, with
``slack = min(64, capacity // 8)``; a write that would exceed it runs
housekeeping before it returns.  An expired entry is never returned, even
before it is removed.  ``key in cache`` tells whether ``key`` is present and not
expired, without counting as a read."#
    };
    (capacity) => {
        r#"The maximum total weight, or ``None`` if unbounded."#
    };
    (ttl) => {
        r#"The cache-wide time to live in seconds, or ``None``."#
    };
    (tti) => {
        r#"The cache-wide time to idle in seconds, or ``None``."#
    };
    (policy) => {
        r#"The size-eviction policy: ``"tiny_lfu"`` or ``"lru"``."#
    };
    (set) => {
        r#"Store ``value`` under ``key``, replacing any previous value.

A per-entry ``ttl`` / ``tti`` (seconds) gives this entry its own
deadline; it can only shorten the cache-wide one."#
    };
    (get) => {
        r#"The value of ``key``, or ``default`` if it is absent or expired.

A recorded read: it counts for the size policy and, with a time to
idle, restarts the entry's idle time."#
    };
    (get_with) => {
        r#"The value of ``key``; on a miss, call ``initializer()``, store its result and return it.

Concurrent calls for the same key run the initializer once: the others
wait and get the same value, or the same exception (nothing is stored
then).  An initializer that calls ``get_with`` for its own key gets
``RuntimeError``.  ``ttl`` / ``tti`` apply to a stored value as in
``set``.

``refresh_after`` (seconds, a positive finite number below the ttl in
effect: ``ttl``, else the cache's) turns on refresh-ahead: a hit on an
entry written at least that long ago (on the cache's clock) returns the
value at once and starts one reload of the key on a library-owned daemon
worker thread, unless one is already in flight for that key and cache.
The reload calls ``initializer()`` once (counted in ``loads`` and
``load_time``) and then writes its result as ``set(key, value, ttl,
tti)`` would (the listener sees ``"replaced"``), but only if the entry
is still live and still holds the write the reload started from: a
``set``, ``remove``, ``clear``, eviction or expiry in between wins and
the result is dropped.  A reload that raises counts in
``load_failures`` and keeps the old value until it expires."#
    };
    (aget_with) => {
        r#"``get_with`` for asyncio: on a miss, await ``initializer()``, store the result, return it.

One load per key and event loop at a time: concurrent awaiters share it
and get the same value, or the same exception (nothing is stored then).
The load runs as a task on the running loop; cancelling an awaiter does
not cancel it, and when every awaiter has been cancelled it still runs
to the end and stores its result.  A load that awaits ``aget_with`` for
its own key (directly or from a task it started) gets ``RuntimeError``.
Arguments are checked when it is called, the key when it is awaited;
``ttl`` / ``tti`` apply to a stored value as in ``set``.

``refresh_after`` works as in ``get_with``, with the reload a task on
the running loop (kept referenced until it is done) that awaits
``initializer()``; a cancelled reload counts as a failed one."#
    };
    (remove) => {
        r#"Remove ``key`` and return its value, or ``default`` if it is absent.

An entry that has expired but is still stored is removed and returned
too.  The listener is told (cause ``"explicit"``, or ``"expired"``)."#
    };
    (clear) => {
        r#"Remove every entry, then run the pending housekeeping.

Each entry is reported to the eviction listener (cause ``"explicit"``,
or ``"expired"`` if it had expired).  When it returns, ``count()`` is 0
unless other threads have inserted meanwhile."#
    };
    (count) => {
        r#"The number of entries, as of the last housekeeping (see ``run_pending_tasks``)."#
    };
    (weighted_size) => {
        r#"The total weight of the entries, as of the last housekeeping."#
    };
    (run_pending_tasks) => {
        r#"Run the pending housekeeping now.

Apply the recorded reads and writes, admit or evict by size, remove the
expired entries, and report them to the eviction listener."#
    };
    (keys) => {
        r#"A snapshot of the live keys, in no promised order (not reads)."#
    };
    (values) => {
        r#"A snapshot of the live values, in no promised order (not reads)."#
    };
    (items) => {
        r#"A snapshot of the live ``(key, value)`` pairs, in no promised order (not reads)."#
    };
    (pop) => {
        r#"Remove ``key`` and return its value, else ``default``; ``KeyError`` if none is given."#
    };
    (setdefault) => {
        r#"The value of ``key`` (a recorded read); if absent, ``set(key, default)`` and return it.

Two calls, not one atomic step: use ``get_with`` for one value per key across threads."#
    };
    (update) => {
        r#"``set`` each pair of ``other`` (a mapping or an iterable of pairs), then of ``kwargs``."#
    };
    (peek) => {
        r#"The value of ``key`` without recording a read, or ``default``.

No time-to-idle renewal, no recency or frequency change, not counted in ``stats()``."#
    };
    (expires_in) => {
        r#"Seconds until ``key``'s entry expires (``math.inf`` if it never does), or ``default``
if it is absent or expired.  Not a read."#
    };
    (get_many) => {
        r#"``{key: value}`` of the given keys that are present; each key is a ``get``."#
    };
    (set_many) => {
        r#"``set`` every pair of ``items`` (a mapping or an iterable of pairs), in order.

An error stops it: the pairs before it are stored, the rest are not."#
    };
    (remove_many) => {
        r#"Remove each key (as ``remove``); return ``{key: value}`` of those that were present."#
    };
    (remove_if) => {
        r#"Remove every entry for which ``predicate(key, value)`` is true; return how many.

Runs the pending housekeeping first, then calls ``predicate`` with no lock held on a
snapshot of the live entries; an accepted entry is removed as by ``remove``, unless it
was written or removed meanwhile.  An exception from ``predicate`` stops the sweep."#
    };
    (stats) => {
        r#"A snapshot of the statistics since creation or ``reset_stats()`` (always counted)."#
    };
    (reset_stats) => {
        r#"Set every statistic to zero."#
    };
    (__class_getitem__) => {
        r#"``Moka[K, V]``: a generic alias, for type annotations."#
    };
}
pub(crate) use moka_doc;
