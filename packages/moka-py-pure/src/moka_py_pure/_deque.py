"""Doubly linked deques with O(1) push/unlink/move, mirroring moka's ``common/deque.rs``.

moka keeps one node per entry in its access-order deque (``probation``), one in its write-order deque,
and one in a timer-wheel bucket.  An entry is its own probation node (it is a :class:`Link`) and
holds direct references to its other nodes (``Entry.won``, ``Entry.tn``), so every operation is
O(1).  The exact pointer behaviour matters for exactness: e.g. ``move_to_back`` of the tail is a
no-op, and ``contains`` is moka's cheap test "has a predecessor or is the head".
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from typing import Any, Generic, TypeVar

T = TypeVar("T")
L = TypeVar("L", bound="Link")


class Link:
    """The links of a deque node.  :class:`~moka_py_pure._entry.Entry` is one directly: it is its own
    node in the probation (access-order) deque, which saves a node object per entry."""

    __slots__ = ("next", "prev")

    prev: Any
    next: Any


class DeqNode(Link, Generic[T]):
    """A node of a :class:`Deque`; ``elem`` is what it stands for."""

    __slots__ = ("elem",)

    def __init__(self, elem: T) -> None:
        self.prev: DeqNode[T] | None = None
        self.next: DeqNode[T] | None = None
        self.elem = elem


class Deque(Generic[T]):
    """An intrusive-style doubly linked list of :class:`DeqNode` (or other :class:`Link`) nodes.

    ``T`` is what a :class:`DeqNode`'s ``elem`` holds (iteration yields those); the probation deque
    links the entries themselves and is a ``Deque[Any]`` that is never iterated.
    """

    __slots__ = ("head", "len", "tail")

    head: Any  # the first node, or None
    tail: Any  # the last node, or None

    def __init__(self) -> None:
        self.head = None
        self.tail = None
        self.len = 0

    def contains(self, node: Link) -> bool:
        """moka's ``Deque::contains``: the node has a predecessor or is the head."""
        return node.prev is not None or self.head is node

    def push_back(self, node: L) -> L:
        node.next = None
        tail = self.tail
        node.prev = tail
        if tail is None:
            self.head = node
        else:
            tail.next = node
        self.tail = node
        self.len += 1
        return node

    def pop_front(self) -> Any:
        node = self.head
        if node is None:
            return None
        nxt = node.next
        self.head = nxt
        if nxt is None:
            self.tail = None
        else:
            nxt.prev = None
        self.len -= 1
        node.prev = None
        node.next = None
        return node

    def move_to_back(self, node: Link) -> None:
        """Move a member node to the back (no-op when it already is the tail)."""
        if self.tail is node:
            return
        prev = node.prev
        nxt = node.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is not None:  # always true: the node is not the tail
            nxt.prev = prev
            tail = self.tail
            node.prev = tail
            node.next = None
            if tail is not None:
                tail.next = node
            self.tail = node

    def move_front_to_back(self) -> None:
        node = self.head
        if node is not None:
            self.move_to_back(node)

    def unlink(self, node: Link) -> None:
        """Remove a member node from the deque."""
        prev = node.prev
        nxt = node.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
        node.prev = None
        node.next = None
        self.len -= 1

    def __iter__(self) -> Any:
        node = self.head
        while node is not None:
            yield node.elem
            node = node.next

    def __len__(self) -> int:
        return self.len
