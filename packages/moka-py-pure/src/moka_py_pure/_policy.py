"""The eviction policy: applying log records, admission, expiry removal and overflow trim.

This is the part of moka's ``sync/base_cache.rs`` ``Inner`` that runs inside housekeeping
(``apply_reads``, ``apply_writes``, ``handle_upsert``, ``admit``, ``evict_expired_entries_using_*``,
``evict_lru_entries``, ...).  Each method names the moka function it mirrors.  Nothing here takes a
lock: the cache calls it with its one lock held.

Where moka looks an entry's key up in its map, this looks the entry up by identity and known hash
(:func:`~moka_py_pure._keymap.current`, :func:`~moka_py_pure._keymap.unmap`): no stored key's
``__hash__`` or ``__eq__`` runs in housekeeping.

moka's counters (``entry_count``, ``weighted_size``) are copied into a local ``EvictionCounters`` at
the start of a cycle and published at its end; here ``ec``/``ws`` are those working counters and the
cache publishes them when a cycle ends.
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import float, int, len, range, str, tuple, type  # noqa: UP029
from typing import Any, Callable, Union

from ._deque import DeqNode, Deque
from ._entry import Entry
from ._expiry import EXPIRED, EXPLICIT, REPLACED, SIZE, sat_add
from ._hashing import U64, fmix64
from ._keymap import current, unmap
from ._sketch import SATURATING_INCREMENT, U32, FrequencySketch, sketch_capacity
from ._timer_wheel import TimerWheel

# DEFAULT_EVICTION_BATCH_SIZE = WRITE_LOG_CH_SIZE = 64 * (4 + 2)
EVICTION_BATCH_SIZE = 384
MAX_CONSECUTIVE_RETRIES = 5
POSITIONS_MEMO_LIMIT = 1 << 16


def _entry_of_wo(node: DeqNode[Entry]) -> Entry:
    """The write-order deque holds nodes that point to entries."""
    return node.elem


def _entry_of_ao(node: Entry) -> Entry:
    """The probation deque links the entries themselves."""
    return node


Event = tuple[Any, Any, str]
# Write records: an upsert is (entry, entry_gen, old_weight, new_weight, key given to the insert);
# a remove is the entry itself: once unmapped nothing bumps its entry_gen again, so the generation
# the remove gave it is still ``e.gen`` when housekeeping applies the record (no tuple to build).
WriteOp = Union[tuple[Any, ...], Entry]


class Policy:
    """moka's policy-side state: deques, timer wheel, sketch, working counters."""

    __slots__ = (
        "clock",
        "ec",
        "events",
        "evicted_weight",
        "eviction_count",
        "evictions",
        "has_weigher",
        "map",
        "max_capacity",
        "more_entries_to_evict",
        "notify_enabled",
        "positions_memo",
        "probation",
        "read_hits",
        "read_misses",
        "sketch",
        "sketch_enabled",
        "timer_wheel",
        "tiny_lfu",
        "tti",
        "ttl",
        "va",
        "write_order",
        "write_order_enabled",
        "ws",
    )

    def __init__(
        self,
        map_: dict[int, Any],
        events: list[Event],
        notify_enabled: bool,
        max_capacity: int | None,
        tiny_lfu: bool,
        has_weigher: bool,
        ttl: int | None,
        tti: int | None,
        clock: Callable[[], int],
        now: int,
    ) -> None:
        self.map = map_
        self.events = events
        self.notify_enabled = notify_enabled
        self.max_capacity = max_capacity
        self.tiny_lfu = tiny_lfu
        self.has_weigher = has_weigher
        self.ttl = ttl
        self.tti = tti
        self.va: int | None = None
        # moka keeps a write-order deque only with a TTL (or invalidation closures, not offered here).
        self.write_order_enabled = ttl is not None
        self.probation: Deque[Any] = Deque()  # its nodes are the entries themselves
        self.write_order: Deque[Entry] = Deque()
        self.sketch = FrequencySketch()
        self.sketch_enabled = False
        self.timer_wheel = TimerWheel(now)
        self.ec = 0
        self.ws = 0
        self.eviction_count = 0
        self.more_entries_to_evict = False
        self.clock = clock  # cache time in ns (already relative to the cache's creation)
        # raw hash -> sketch counter positions, for Miss records (which carry no entry to cache them
        # on); computing them is 64-bit multiplications on Python ints.  Bounded; cleared when full.
        self.positions_memo: dict[int, tuple[int, int, int, int]] = {}
        # Statistics (``Moka.stats``): applied read records, and the events the listener is told.
        self.read_hits = 0
        self.read_misses = 0
        self.evictions: dict[str, int] = dict.fromkeys((EXPLICIT, SIZE, EXPIRED, REPLACED), 0)
        self.evicted_weight = 0

    # -- helpers ------

    def _notify(self, key: Any, e: Entry, cause: str) -> None:
        self.notify(key, e.value, cause, e.weight)

    def notify(self, key: Any, value: Any, cause: str, weight: int) -> None:
        """Count a removal in the statistics (always, listener or not) and queue its listener event
        (only when there is a listener)."""
        if self.notify_enabled:
            self.events.append((key, value, cause))
        self.evictions[cause] += 1
        if cause in (SIZE, EXPIRED):
            self.evicted_weight += weight

    def _sk(self, e: Entry) -> tuple[int, int, int, int]:
        """The entry's sketch counter positions (call only while the sketch is enabled)."""
        p = e.sk
        if p is None:
            # Not through the miss memo: the entry keeps its own, and memoising every entry's
            # positions only filled the memo (up to its limit) with keys that are rarely missed.
            p = e.sk = self.sketch.positions_of_raw_hash(e.h)
        return p

    def _candidate_frequency(self, e: Entry) -> int:
        """The sketch frequency of an admission candidate, computing its positions only if needed.

        A candidate is usually new: its positions are not on the entry yet.  A key that was just
        missed (get, then set) has them in the miss memo.  Otherwise one counter is read first:
        if it is 0, so is the frequency (the minimum of the four), and the candidate, which needs
        a strictly higher frequency than its victims, is rejected whatever they are; computing the
        other three positions (most of the cost) is left to a later need.
        """
        p = e.sk
        if p is None:
            p = self.positions_memo.get(e.h)
            if p is None:
                sketch = self.sketch
                h = fmix64(e.h & U64)  # mix_raw_hash, one call less
                if sketch.counters[sketch.first_position(h)] == 0:
                    return 0
                p = sketch.positions(h)
            e.sk = p
        return self.sketch.frequency_at(p)

    def _positions_of_raw_hash(self, raw: int) -> tuple[int, int, int, int]:
        """Positions for a Miss record's raw hash, memoised (bounded): misses repeat."""
        memo = self.positions_memo
        p = memo.get(raw)
        if p is None:
            p = self.sketch.positions_of_raw_hash(raw)
            if len(memo) >= POSITIONS_MEMO_LIMIT:
                memo.clear()
            memo[raw] = p
        return p

    def _move_to_back_ao(self, e: Entry) -> None:
        """``Deques::move_to_back_ao`` (also used as ``move_to_back_ao_in_deque`` for probation)."""
        if self.probation.contains(e):
            self.probation.move_to_back(e)

    def _move_to_back_wo(self, e: Entry) -> None:
        n = e.won
        if n is not None and self.write_order.contains(n):
            self.write_order.move_to_back(n)

    def _unlink_ao_wo(self, e: Entry) -> None:
        if self.probation.contains(e):
            self.probation.unlink(e)
        n = e.won
        e.won = None
        if n is not None and self.write_order.contains(n):
            self.write_order.unlink(n)

    # -- sketch ------

    def maybe_enable_sketch(self) -> None:
        """``should_enable_frequency_sketch`` + ``enable_frequency_sketch`` (TinyLFU only)."""
        cap = self.max_capacity
        if self.sketch_enabled or cap is None or cap == 0:
            return
        if self.ws < cap // 2:
            return
        if not self.has_weigher:
            c = cap
        else:
            # (entry_count as f64 * (weighted_size as f64 / max_cap as f64)) as u64
            f = float(self.ec) * (float(self.ws) / float(cap))
            c = int(f) if f < 18446744073709551616.0 else U64
        self.sketch.ensure_capacity(sketch_capacity(c))
        self.sketch_enabled = True

    # -- reads ------

    def apply_reads(self, records: list[Any]) -> None:
        """``Inner::apply_reads``: sketch increments, timer reschedules, LRU moves.

        This loop runs once per recorded read, so ``FrequencySketch.increment_at``,
        ``_positions_of_raw_hash`` and ``Deque.contains`` / ``Deque.move_to_back`` are inlined, with
        the sketch's counters and the probation deque's ends held in locals (written back at the
        end; nothing called from the loop touches them, except a sketch reset, after which they are
        reloaded).  Without a sketch to count into (LRU, or a TinyLFU cache under half full) a
        leaner loop runs: only the LRU moves.
        """
        deq = self.probation
        head = deq.head
        tail = deq.tail
        e: Any
        sketch = self.sketch
        misses = 0
        if not sketch.enabled:
            for r in records:
                t = type(r)
                if t is int:  # Miss(raw hash): nothing to count
                    misses += 1
                    continue
                if t is tuple:  # Hit with is_expiry_modified
                    e = r[0]
                    if e.retired:
                        continue  # removed since the read: no policy change (moka 0.12.16)
                    self.update_timer_wheel(e)
                else:
                    e = r
                    if e.retired:
                        continue
                prev = e.prev  # its own probation node; Deque.move_to_back inlined, as below
                if prev is None and head is not e:
                    continue
                nxt = e.next
                if nxt is None:
                    continue
                if prev is None:
                    head = nxt
                else:
                    prev.next = nxt
                nxt.prev = prev
                e.prev = tail
                e.next = None
                tail.next = e
                tail = e
            deq.head = head
            deq.tail = tail
            self.read_misses += misses
            self.read_hits += len(records) - misses
            return

        counters = sketch.counters
        size = sketch.size
        sample_size = sketch.sample_size
        memo = self.positions_memo
        positions = self._positions_of_raw_hash
        entry_positions = sketch.positions_of_raw_hash
        inc = SATURATING_INCREMENT
        for r in records:
            t = type(r)
            if t is int:  # Miss(raw hash)
                misses += 1
                e = None
                p = memo.get(r)
                if p is None:
                    p = positions(r)
            else:
                e = r[0] if t is tuple else r  # a tuple: a Hit with is_expiry_modified
                p = e.sk
                if p is None:
                    p = e.sk = entry_positions(e.h)
            # FrequencySketch.increment_at, inlined to save a call per read record on
            # housekeeping's hottest loop; keep it in step with _sketch.py.
            p0, p1, p2, p3 = p
            x0 = counters[p0]
            x1 = counters[p1]
            x2 = counters[p2]
            x3 = counters[p3]
            if x0 & x1 & x2 & x3 != 15:  # some counter is below 15 (they are 0..15)
                counters[p0] = inc[x0]
                counters[p1] = inc[x1]
                counters[p2] = inc[x2]
                counters[p3] = inc[x3]
                size += 1
                if size >= sample_size:
                    size &= U32  # moka's size is a wrapping u32
                    if size >= sample_size:
                        sketch.size = size
                        sketch.reset()
                        counters = sketch.counters
                        size = sketch.size
            if e is None:
                continue
            if e.retired:
                continue  # removed since the read: counted, but no policy change (moka 0.12.16)
            if t is tuple:
                self.update_timer_wheel(e)
            prev = e.prev  # the entry is its own probation node
            if prev is None and head is not e:
                continue  # not in probation: not admitted (yet), or already removed
            nxt = e.next
            if nxt is None:
                continue  # already the tail
            if prev is None:
                head = nxt
            else:
                prev.next = nxt
            nxt.prev = prev
            e.prev = tail
            e.next = None
            tail.next = e  # e is a member but not the tail, so there is a tail
            tail = e
        deq.head = head
        deq.tail = tail
        sketch.size = size
        self.read_misses += misses
        self.read_hits += len(records) - misses

    # -- writes ------

    def apply_writes(self, ops: list[WriteOp]) -> None:
        """``Inner::apply_writes``: upserts and removes in FIFO order.

        The common cases take inlined fast paths (a remove, an update of a resident entry, a new
        entry admitted without a test, each without timer or write-order node), with the weighted
        size and entry count kept in locals (stored back around every call that reads or writes
        them) and ``Deque`` operations inlined; everything else goes through ``handle_upsert`` /
        ``handle_remove``.
        """
        probation = self.probation
        ws = self.ws
        ec = self.ec
        cap = self.max_capacity
        tiny_lfu = self.tiny_lfu
        wo_enabled = self.write_order_enabled
        op: Any  # mypy does not narrow on `type(op) is tuple`
        e: Any
        for op in ops:
            if type(op) is not tuple:  # a remove record: the entry itself
                e = op
                if e.admitted and e.tn is None and e.won is None:
                    # Fast path of handle_remove for an admitted entry without timer or write-order
                    # node (the common case): counters, probation unlink (Deque.unlink inlined: the
                    # call would cost more than the unlink on this per-record path).
                    e.admitted = False
                    ec -= 1
                    ws -= e.weight
                    if ws < 0:
                        ws = 0  # moka: saturating_sub
                    prev = e.prev
                    if prev is not None or probation.head is e:  # Deque.contains
                        nxt = e.next
                        if prev is None:
                            probation.head = nxt
                        else:
                            prev.next = nxt
                        if nxt is None:
                            probation.tail = prev
                        else:
                            nxt.prev = prev
                        e.prev = None
                        e.next = None
                        probation.len -= 1
                else:
                    self.ws = ws
                    self.ec = ec
                    self.handle_remove(e)
                    ws = self.ws
                    ec = self.ec
                gen = e.gen
            else:  # an upsert record
                e = op[0]
                gen = op[1]
                w = op[3]
                if e.retired:
                    pass  # left the map since: only the policy generation moves on
                elif e.admitted and e.exp is None and e.tn is None and e.won is None:
                    # Fast path of handle_upsert for a resident update without timer or
                    # write-order node (the common case): weights, move to the MRU end.
                    ws -= op[2]
                    if ws < 0:
                        ws = 0  # moka: saturating_sub
                    ws += w
                    nxt = e.next
                    if nxt is not None:  # not the tail; a member, as an admitted entry
                        prev = e.prev
                        if prev is None:
                            probation.head = nxt
                        else:
                            prev.next = nxt
                        nxt.prev = prev
                        tail = probation.tail
                        e.prev = tail
                        e.next = None
                        tail.next = e
                        probation.tail = e
                elif (
                    not e.admitted
                    and e.exp is None
                    and e.tn is None
                    and not wo_enabled
                    and (cap is None or (w <= cap and (ws + w <= cap or not tiny_lfu)))
                ):
                    # Fast path of handle_upsert for a new entry that is admitted without a test:
                    # it fits, or the policy is LRU (which admits all; evict_lru_entries trims
                    # after).  handle_admit inlined, without timer or write-order node: counters,
                    # push to the MRU end.
                    ec += 1
                    ws += w
                    tail = probation.tail
                    e.prev = tail
                    e.next = None
                    if tail is None:
                        probation.head = e
                    else:
                        tail.next = e
                    probation.tail = e
                    probation.len += 1
                    e.admitted = True
                else:
                    self.ws = ws
                    self.ec = ec
                    self.handle_upsert(e, gen, op[2], w, op[4])  # sets the policy generation
                    ws = self.ws
                    ec = self.ec
                    continue
            # EntryInfo::set_policy_gen, inlined once for the remove and both upsert fast paths.
            current = e.pgen
            if current < gen and ((gen - current) & 0xFFFF) <= 0x7FFF:
                e.pgen = gen
        self.ws = ws
        self.ec = ec

    def handle_upsert(self, e: Entry, gen: int, old_weight: int, new_weight: int, key: Any) -> None:
        """``Inner::handle_upsert``."""
        if e.retired:
            # Removed from the map since this write was queued (moka 0.12.16, moka#590): admitting
            # it would leave a policy node no eviction reaches; only the generation moves on.
            e.set_policy_gen(gen)
            return
        if e.admitted:
            # An update of a resident entry: no admission test.
            ws = self.ws - old_weight
            self.ws = (ws if ws > 0 else 0) + new_weight
            if e.exp is not None or e.tn is not None:
                self.update_timer_wheel(e)  # (a no-op otherwise)
            deq = self.probation
            if deq.tail is not e and (e.prev is not None or deq.head is e):
                deq.move_to_back(e)
            n = e.won
            if n is not None:
                deq = self.write_order
                if deq.tail is not n and (n.prev is not None or deq.head is n):
                    deq.move_to_back(n)
            e.set_policy_gen(gen)
            return

        cap = self.max_capacity
        if cap is None or self.ws + new_weight <= cap:
            self.handle_admit(e, new_weight)
            e.set_policy_gen(gen)
            return

        m = self.map
        if new_weight > cap:
            # Too big to ever fit: reject without consulting the sketch.
            if e.gen == gen and unmap(m, e):
                self._notify(key, e, SIZE)
                self.eviction_count += 1
            e.set_policy_gen(gen)
            return

        # LRU admits everything (no victims); evict_lru_entries trims afterwards.
        victims = self.admit(e, new_weight) if self.tiny_lfu else []

        if victims is not None:
            for vic, vic_la in victims:
                cur = current(m, vic)
                if cur is not None and cur.la == vic_la:
                    unmap(m, cur)
                    self._notify(cur.mkey, cur, SIZE)
                    self.eviction_count += 1
                    self.handle_remove(cur)
                else:
                    # Could not remove it (its ValueEntry may have changed): skip it.  moka compares
                    # the front node's key and hash with the victim's; the entry's identity says that.
                    if self.probation.head is vic:
                        self.probation.move_front_to_back()
            self.handle_admit(e, new_weight)
            e.set_policy_gen(gen)
        else:
            if e.gen == gen and unmap(m, e):
                e.set_policy_gen(gen)
                self._notify(key, e, SIZE)
                self.eviction_count += 1

    def admit(self, candidate: Entry, cand_weight: int) -> list[tuple[Entry, int]] | None:
        """``Inner::admit``: the size-aware TinyLFU test; the victims, or None when rejected.

        Victims are aggregated from the probation LRU end while they weigh less than the candidate,
        their summed frequency does not exceed the candidate's, and there were at most 5 consecutive
        skips.  Dirty nodes (a later write is queued) and nodes whose key left the map are moved to
        the MRU end and count as a skip.  The candidate wins only with a strictly higher frequency.

        A candidate of frequency 0 (most new keys) loses whatever the victims are, but the scan still
        runs for its moves; it only skips what cannot change them: the victim list, and a victim's
        frequency once the victims weigh enough to end the scan anyway.
        """
        sketch = self.sketch
        enabled = sketch.enabled
        cand_freq = self._candidate_frequency(candidate) if enabled else 0
        vic_weight = 0
        vic_freq = 0
        retries = 0
        victims: list[tuple[Entry, int]] = []
        deq = self.probation
        m = self.map
        node = deq.head
        while vic_weight < cand_weight and vic_freq <= cand_freq and retries <= MAX_CONSECUTIVE_RETRIES:
            if node is None:
                break
            nxt = node.next  # taken before a possible move, like moka's next_node_ptr
            ve = node
            if ve.gen != ve.pgen or ve.retired:  # dirty, or removed from the map (moka 0.12.16)
                deq.move_to_back(node)
                retries += 1
                node = nxt
                continue
            cur = ve if m.get(ve.h) is ve else current(m, ve)  # the common case first
            if cur is not None:
                vic_weight += cur.weight
                if enabled and (cand_freq or vic_weight < cand_weight):
                    vic_freq += sketch.frequency_at(self._sk(ve))
                if cand_freq:
                    victims.append((ve, ve.la))
                retries = 0
            else:
                deq.move_to_back(node)
                retries += 1
            node = nxt

        if vic_weight >= cand_weight and cand_freq > vic_freq:
            return victims
        return None

    def handle_admit(self, e: Entry, weight: int) -> None:
        """``Inner::handle_admit``."""
        if e.retired:
            return  # moka 0.12.16 re-checks: a retired entry is never admitted
        self.ec += 1
        self.ws += weight
        self.update_timer_wheel(e)
        self.probation.push_back(e)
        if self.write_order_enabled:
            e.won = self.write_order.push_back(DeqNode(e))
        e.admitted = True

    def update_timer_wheel(self, e: Entry) -> None:
        """``Inner::update_timer_wheel`` (may enable the wheel)."""
        tw = self.timer_wheel
        t = e.exp
        if t is not None and not tw.wheels:
            tw.enable()
        tn = e.tn
        if t is None:
            if tn is not None:
                e.tn = None
                tw.deschedule(tn)
        elif tn is None:
            e.tn = tw.schedule(e)
        else:
            tw.reschedule(tn)

    def handle_remove(self, e: Entry) -> None:
        """``Inner::handle_remove`` (and ``handle_remove_with_deques``, same effect here)."""
        tn = e.tn
        e.tn = None
        if tn is not None:
            self.timer_wheel.deschedule(tn)
        self.handle_remove_without_timer_wheel(e)

    def handle_remove_without_timer_wheel(self, e: Entry) -> None:
        if e.admitted:
            e.admitted = False
            self.ec -= 1
            ws = self.ws - e.weight
            self.ws = ws if ws > 0 else 0
            self._unlink_ao_wo(e)
        else:
            e.won = None

    # -- expiration ------

    def evict_expired_entries_using_timers(self) -> None:
        """``Inner::evict_expired_entries_using_timers``: per-entry expiry."""
        now = self.clock()
        m = self.map
        for info in self.timer_wheel.advance(now):
            if info.gen != info.pgen:
                continue  # dirty: its queued write will reschedule it
            key = info.key
            cur = current(m, info)
            if cur is not None and cur.exp is not None and cur.exp <= now:
                unmap(m, cur)
                self._notify(key, cur, EXPIRED)
                self.eviction_count += 1
                self.handle_remove_without_timer_wheel(cur)

    def evict_expired_entries_using_deqs(self) -> None:
        """``Inner::evict_expired_entries_using_deqs``: TTL and TTI and ``invalidate_all``."""
        now = self.clock()
        if self.write_order_enabled:
            # ``Inner::remove_expired_wo``: TTL / ``invalidate_all`` from the write-order front.
            skip_wo = self._skip_updated_entry_wo
            self._remove_expired(now, self.write_order, _entry_of_wo, "lm", self.ttl, skip_wo)
        if self.tti is not None or self.va is not None:
            # ``Inner::remove_expired_ao`` on probation: TTI / ``invalidate_all`` from the LRU end.
            # The window and protected deques are always empty in moka 0.12: only probation matters.
            skip_ao = self._skip_updated_entry_ao
            self._remove_expired(now, self.probation, _entry_of_ao, "la", self.tti, skip_ao)

    def _remove_expired(
        self,
        now: int,
        deq: Deque[Any],
        entry_of: Callable[[Any], Entry],
        stamp: str,
        duration: int | None,
        skip_updated: Callable[[Entry], None],
    ) -> None:
        """The walk moka writes twice (``remove_expired_wo`` and ``remove_expired_ao``): from the front
        of ``deq``, remove the entries whose ``stamp`` (last modified or last accessed) is ``duration``
        old or older than ``invalidate_all``, up to a batch, stopping at the first live one."""
        va = self.va
        m = self.map
        more_to_evict = True
        for _ in range(EVICTION_BATCH_SIZE):
            node = deq.head
            if node is None:
                more_to_evict = False
                break
            info = entry_of(node)
            if info.gen != info.pgen:
                skip_updated(info)
                more_to_evict = False
                continue
            at = getattr(info, stamp)
            if duration is not None and sat_add(at, duration) <= now:
                cause = EXPIRED
            elif va is not None and at < va:
                cause = EXPLICIT
            else:
                more_to_evict = False
                break
            cur = current(m, info)
            if cur is not None:
                at = getattr(cur, stamp)
            if cur is not None and (
                (va is not None and at < va) or (duration is not None and sat_add(at, duration) <= now)
            ):
                unmap(m, cur)
                self._notify(info.key, cur, cause)
                self.eviction_count += 1
                self.handle_remove(cur)
            else:
                skip_updated(info)
                more_to_evict = False
        if more_to_evict:
            self.more_entries_to_evict = True

    def _skip_updated_entry_ao(self, info: Entry) -> None:
        """``Inner::skip_updated_entry_ao`` for probation."""
        cur = current(self.map, info)
        if cur is not None:
            self._move_to_back_ao(cur)
            if cur.gen != cur.pgen:
                self._move_to_back_wo(cur)
        else:
            self.probation.move_front_to_back()

    def _skip_updated_entry_wo(self, info: Entry) -> None:
        """``Inner::skip_updated_entry_wo``."""
        cur = current(self.map, info)
        if cur is not None:
            self._move_to_back_ao(cur)
            self._move_to_back_wo(cur)
        else:
            self.write_order.move_front_to_back()

    # -- size ------

    def weights_to_evict(self) -> int:
        cap = self.max_capacity
        if cap is None:
            return 0
        w = self.ws - cap
        return w if w > 0 else 0

    def evict_lru_entries(self, weights_to_evict: int) -> None:
        """``Inner::evict_lru_entries``: trim from the probation LRU end, at most 384 attempts.

        A dirty front node is skipped (moved to the MRU end) and the loop goes on; that clears the
        "more to evict" flag of this routine, as in moka.  The counters are kept in locals and
        stored back around the one call that reads or writes them (``handle_remove``).
        """
        m = self.map
        deq = self.probation
        notify = self.notify_enabled
        events = self.events
        ec = self.ec
        ws = self.ws
        evictions = self.eviction_count
        evicted = 0
        more_to_evict = True
        for _ in range(EVICTION_BATCH_SIZE):
            if evicted >= weights_to_evict:
                more_to_evict = False
                break
            info = deq.head
            if info is None:
                more_to_evict = False
                break
            if info.gen != info.pgen:
                self._skip_updated_entry_ao(info)
                more_to_evict = False
                continue
            h = info.h
            cur = m.get(h)
            if cur is info:  # the common case: still stored, alone under its hash (so moka's
                del m[h]  # last_accessed check compares the entry with itself)
                cur.retired = True
            else:  # a collision bucket, or no longer stored (rare)
                cur = current(m, info)
                if cur is None or cur.la != info.la:
                    self._skip_updated_entry_ao(info)
                    more_to_evict = False
                    continue
                unmap(m, cur)
            if notify:
                events.append((info.key, cur.value, SIZE))
            evictions += 1
            weight = cur.weight
            self.evictions[SIZE] += 1  # the statistics (see notify)
            self.evicted_weight += weight
            if cur is info and cur.admitted and cur.tn is None and cur.won is None:
                # handle_remove inlined for the common case (see apply_writes): the entry is
                # the probation head, with no timer or write-order node.
                cur.admitted = False
                ec -= 1
                ws -= weight
                if ws < 0:
                    ws = 0  # moka: saturating_sub
                nxt = cur.next
                deq.head = nxt
                if nxt is None:
                    deq.tail = None
                else:
                    nxt.prev = None
                cur.next = None
                deq.len -= 1
            else:
                self.ec = ec
                self.ws = ws
                self.handle_remove(cur)
                ec = self.ec
                ws = self.ws
            evicted += weight
        self.ec = ec
        self.ws = ws
        self.eviction_count = evictions
        if more_to_evict:
            self.more_entries_to_evict = True
