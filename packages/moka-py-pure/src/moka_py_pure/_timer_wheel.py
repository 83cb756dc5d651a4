"""moka's hierarchical timer wheel for per-entry expiration (``common/timer_wheel.rs``).

Five levels of buckets (64, 64, 32, 4 and 1 overflow bucket) with power-of-two spans.  Each bucket is
a deque that starts with a sentinel node: when a bucket is visited, it is first rotated so that the
sentinel is at the back, then nodes are popped from the front until the sentinel is reached, so a node
re-appended to the bucket during the visit is left for the next one.  ``advance`` stops at the first
level whose tick did not move, which is why a per-entry-expired entry is only removed by a cycle that
runs in a *later* level-0 tick (2**30 ns, about 1.07 s) than the previous advance.
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import bool, enumerate, isinstance, len, min, range, tuple  # noqa: UP029
from typing import TYPE_CHECKING

from ._deque import DeqNode, Deque

if TYPE_CHECKING:
    from ._entry import Entry

BUCKET_COUNTS = (64, 64, 32, 4, 1)
OVERFLOW_QUEUE_INDEX = len(BUCKET_COUNTS) - 1
NUM_LEVELS = OVERFLOW_QUEUE_INDEX - 1

# aligned_duration(d) = next_power_of_two(d in ns) for 1 s, 60 s, 1 h and 1 day; then 4 days-ish.
SPANS = (
    1 << 30,  # 1.07 s
    1 << 36,  # 1.14 min
    1 << 42,  # 1.22 h
    1 << 47,  # 1.63 d
    4 << 47,  # 6.5 d
    4 << 47,  # 6.5 d
)
SHIFT = tuple(s.bit_length() - 1 for s in SPANS[:5])  # (30, 36, 42, 47, 49)


class TimerNode(DeqNode["Entry"]):
    """A bucket node: ``elem`` is the entry, or None for a bucket's sentinel."""

    __slots__ = ("pos",)

    def __init__(self, elem: Entry | None, pos: tuple[int, int] | None) -> None:
        super().__init__(elem)  # type: ignore[arg-type]
        self.pos = pos


Bucket = Deque["Entry"]


class TimerWheel:
    """Buckets of entries keyed by their per-entry expiration time."""

    __slots__ = ("current", "origin", "wheels")

    def __init__(self, now: int) -> None:
        self.wheels: list[list[Bucket]] = []  # empty = disabled (enabled lazily)
        self.origin = now
        self.current = now

    @property
    def is_enabled(self) -> bool:
        return bool(self.wheels)

    def enable(self) -> None:
        assert not self.wheels
        wheels: list[list[Bucket]] = []
        for count in BUCKET_COUNTS:
            level: list[Bucket] = []
            for _ in range(count):
                deq: Bucket = Deque()
                deq.push_back(TimerNode(None, None))
                level.append(deq)
            wheels.append(level)
        self.wheels = wheels

    # -- positions ------

    def bucket_indices(self, time: int) -> tuple[int, int]:
        """The first level whose span (relative to the last advance) covers ``time``."""
        duration = time - self.current
        if duration < 0:
            duration = 0
        time_nanos = time - self.origin
        if time_nanos < 0:
            time_nanos = 0
        for level in range(NUM_LEVELS + 1):
            if duration < SPANS[level + 1]:
                return level, (time_nanos >> SHIFT[level]) & (BUCKET_COUNTS[level] - 1)
        return OVERFLOW_QUEUE_INDEX, 0

    # -- scheduling ------

    def schedule(self, entry: Entry) -> TimerNode | None:
        """Put an entry with an expiration time into its bucket; returns its node."""
        t = entry.exp
        if t is None:
            return None
        level, index = self.bucket_indices(t)
        node = TimerNode(entry, (level, index))
        self.wheels[level][index].push_back(node)
        return node

    def _unlink_timer(self, node: TimerNode) -> None:
        pos = node.pos
        if pos is not None:
            self.wheels[pos[0]][pos[1]].unlink(node)
            node.pos = None

    def _schedule_existing_node(self, node: TimerNode) -> bool:
        """Re-bucket a detached node; False (and the entry forgets it) if it has no time any more."""
        entry = node.elem
        assert entry is not None
        t = entry.exp
        if t is not None:
            level, index = self.bucket_indices(t)
            node.pos = (level, index)
            self.wheels[level][index].push_back(node)
            return True
        node.pos = None
        entry.tn = None
        return False

    def reschedule(self, node: TimerNode) -> bool:
        """Move a scheduled node to the tail of the bucket of its entry's current time."""
        self._unlink_timer(node)
        return self._schedule_existing_node(node)

    def deschedule(self, node: TimerNode) -> None:
        self._unlink_timer(node)

    # -- advancing ------

    def advance(self, now: int) -> list[Entry]:
        """Move the wheel to ``now``; returns the expired entries in moka's event order.

        Nodes whose entry has a later time are re-bucketed relative to ``now``; nodes whose entry has
        no time any more are dropped.  Expired and dropped entries forget their timer node.
        """
        previous = self.current
        self.current = now
        expired: list[Entry] = []
        origin = self.origin
        prev_nanos = previous - origin if previous > origin else 0
        cur_nanos = now - origin if now > origin else 0
        wheels = self.wheels
        for level in range(len(BUCKET_COUNTS)):
            shift = SHIFT[level]
            prev_ticks = prev_nanos >> shift
            cur_ticks = cur_nanos >> shift
            if cur_ticks <= prev_ticks:
                break  # higher levels are not examined either
            count = BUCKET_COUNTS[level]
            mask = count - 1
            start = prev_ticks & mask
            steps = min(cur_ticks - prev_ticks + 1, count)
            buckets = wheels[level]
            for k in range(start, start + steps):
                bucket = buckets[k & mask]
                # reset_timer_node_positions: rotate until the sentinel is at the back.
                while bucket.tail is not None and bucket.tail.elem is not None:
                    bucket.move_front_to_back()
                while True:
                    head = bucket.head
                    if head is None or head.elem is None:
                        break
                    node = bucket.pop_front()
                    assert isinstance(node, TimerNode)
                    node.pos = None
                    entry = node.elem
                    assert entry is not None
                    t = entry.exp
                    if t is None:
                        entry.tn = None
                    elif t <= now:
                        entry.tn = None
                        expired.append(entry)
                    else:
                        self._schedule_existing_node(node)
        return expired

    def scheduled(self) -> list[tuple[int, int, Entry]]:
        """(level, index, entry) of every scheduled node, in bucket order (for tests and debugging)."""
        out: list[tuple[int, int, Entry]] = []
        for level, buckets in enumerate(self.wheels):
            for index, bucket in enumerate(buckets):
                for e in bucket:
                    if e is not None:
                        out.append((level, index, e))
        return out
