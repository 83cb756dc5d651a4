"""What the local cache holds for one Redis key, and a byte weigher for it.

A string key's entry is the reply of ``GET`` as the client returned it (``bytes``, or ``str``
with ``decode_responses=True``, or ``None`` for a key that does not exist). A hash key's entry
is a :class:`CachedHash`: the fields read so far, and the whole ``HGETALL`` reply once it was read.
Both kinds share one entry per key because a Redis key has one type, and an invalidation names
the key: removing that one entry forgets everything read from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CachedHash:
    """The part of a Redis hash that this process has read.

    ``fields`` maps each field name (as bytes) to its value, ``None`` for a field known to be
    absent; ``reply`` is the ``HGETALL`` reply when the whole hash was read (then every field
    missing from ``fields`` is absent). Never changed after it is built: a new read builds a new one.
    """

    __slots__ = ("fields", "reply")

    def __init__(self, fields: Mapping[bytes, Any], reply: Mapping[Any, Any] | None) -> None:
        self.fields = fields
        self.reply = reply

    @property
    def complete(self) -> bool:
        """Whether the whole hash is known (it was read by ``HGETALL``)."""
        return self.reply is not None

    def with_fields(self, more: Mapping[bytes, Any]) -> CachedHash:
        """This hash with ``more`` fields known (a complete hash stays complete)."""
        return CachedHash({**self.fields, **more}, self.reply)

    def __repr__(self) -> str:
        return f"CachedHash({len(self.fields)} fields, complete={self.complete})"


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (bytes, str)) else len(str(value)) if value is not None else 0


def value_bytes(key: bytes, value: Any) -> int:
    """A weigher for ``near_cache(..., weigher=value_bytes)``: bytes of the key and what it holds.

    A string entry weighs ``len(key) + len(value)``; a hash weighs the key plus each field name and
    value it holds. Use it with ``capacity`` in bytes to bound the local cache by size, not count.
    (``len`` of a ``str`` counts characters, close enough for a bound.)
    """
    if isinstance(value, CachedHash):
        return len(key) + sum(len(f) + _size(v) for f, v in value.fields.items())
    return len(key) + _size(value)
