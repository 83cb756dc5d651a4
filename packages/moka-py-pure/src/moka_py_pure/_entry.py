"""One cache entry: moka's ``EntryInfo`` + ``ValueEntry`` + probation ``DeqNode`` in one object.

In moka an update keeps the same ``EntryInfo`` (and deque nodes) and only swaps the ``ValueEntry``;
a remove-then-insert creates a new ``EntryInfo``.  Nothing in housekeeping ever needs an older
``ValueEntry``'s value (notifications always report the value currently in the map, or the old value
at the moment of a synchronous ``Replaced``), so one mutable object per ``EntryInfo`` is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._deque import DeqNode, Link
from ._hashing import mix_raw_hash

if TYPE_CHECKING:
    from ._timer_wheel import TimerNode

U16 = 0xFFFF


class Entry(Link):
    """A map entry and its policy bookkeeping; also its own node in the probation deque.

    It is in probation iff ``prev is not None`` or it is the head (moka's ``Deque::contains``).
    """

    __slots__ = (
        "admitted",
        "exp",  # per-entry expiration time (ns, low 12 bits clear) or None
        "gen",  # entry_gen (u16): bumped by update and remove
        "h",  # raw Python hash(key)
        "key",  # the key given to the insert that created this EntryInfo (moka's KeyHash key)
        "la",  # last_accessed (ns)
        "lm",  # last_modified (ns)
        "mkey",  # the key object currently held by the map (moka's cht replaces it on update)
        "pgen",  # policy_gen (u16): the generation housekeeping has applied
        "ptti",  # per-entry tti (ns) given to the write that stored the current value
        "pttl",  # per-entry ttl (ns) given to the write that stored the current value
        "retired",  # removed from the map (moka 0.12.16's EntryInfo::is_retired): never cleared
        "sk",  # sketch counter positions of fmix64(h mod 2**64), computed once the sketch is enabled
        "tn",  # timer-wheel node
        "value",
        "weight",  # policy_weight (u32), updated at once by an update, like moka
        "won",  # write-order node
    )

    def __init__(
        self,
        key: Any,
        h: int,
        value: Any,
        weight: int,
        now: int,
        pttl: int | None,
        ptti: int | None,
    ) -> None:
        self.key = key
        self.mkey = key
        self.h = h
        self.sk: tuple[int, int, int, int] | None = None
        self.value = value
        self.weight = weight
        self.admitted = False
        self.retired = False
        self.gen = 1  # EntryInfo::new: entry_gen 1, policy_gen 0, i.e. dirty until its Upsert is applied
        self.pgen = 0
        self.la = now
        self.lm = now
        self.exp: int | None = None
        self.pttl = pttl
        self.ptti = ptti
        self.prev: Entry | None = None  # probation links
        self.next: Entry | None = None
        self.won: DeqNode[Entry] | None = None
        self.tn: TimerNode | None = None

    @property
    def is_dirty(self) -> bool:
        """A write for this entry is still queued (``EntryInfo::is_dirty``)."""
        return self.gen != self.pgen

    def moka_hash(self) -> int:
        """The hash moka uses for this entry's key (``fmix64(hash(key) mod 2**64)``)."""
        return mix_raw_hash(self.h)

    def set_policy_gen(self, value: int) -> None:
        """``EntryInfo::set_policy_gen``: only moves forward, with moka's u16 wrap rule."""
        current = self.pgen
        if current >= value or ((value - current) & U16) > U16 // 2:
            return
        self.pgen = value

    def __repr__(self) -> str:
        return f"<Entry {self.key!r} gen={self.gen}/{self.pgen} w={self.weight} admitted={self.admitted}>"
