"""Just enough RESP2 for the invalidation connection: commands out, replies and pub/sub messages in.

redis-py's parser costs about 10 us per message through its ``can_read``/``read_response`` (socket
timeouts set and reset, a general reply tree); every write to a tracked key sends every near cache
one message, so this connection reads its socket itself, and parses with this small reader.
"""

from __future__ import annotations

import re
from typing import Any, Union

#: A RESP2 value: simple string, error, integer, bulk string (or nil), array (or nil).
Value = Union[bytes, int, list[Any], "ReplyError", None]


class ReplyError(Exception):
    """An error reply (``-ERR ...``)."""


def command(*args: bytes | str | int) -> bytes:
    """One command as a RESP2 array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Incomplete(Exception):
    """The buffer ends inside a value: wait for more bytes."""


class Reader:
    """Bytes in, complete values out; a value that arrived in part stays buffered."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> bool:
        """Whether bytes of an incomplete value are buffered."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[Value]:
        """Add ``data``; return every value now complete, in order."""
        if not self._buffer:
            # The usual read: one whole invalidation of one key, and nothing else.
            one = _ONE_KEY.match(data)
            if one is not None and len(data) == one.end() + int(one[1]) + 2:
                return [[_MESSAGE, _CHANNEL, [data[one.end() : -2]]]]
        buffer = self._buffer
        buffer += data
        values: list[Value] = []
        pos = 0
        try:
            while pos < len(buffer):
                if buffer.startswith(_INVALIDATION, pos):
                    value, pos = _invalidation(buffer, pos + len(_INVALIDATION))
                else:
                    value, pos = _parse(buffer, pos)
                values.append(value)
        except Incomplete:
            pass
        del buffer[:pos]
        return values


# The head of every invalidation message: the one value this reader sees all the time.
_INVALIDATION = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_MESSAGE, _CHANNEL = b"message", b"__redis__:invalidate"
_ONE_KEY = re.compile(re.escape(_INVALIDATION) + rb"\*1\r\n\$(\d+)\r\n")


def _invalidation(buffer: bytearray, pos: int) -> tuple[Value, int]:
    """The rest of an invalidation message: the array of key names (or a nil, for a flush)."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    count = int(buffer[pos + 1 : end])
    pos = end + 2
    if count < 0:  # "*-1" or "$-1": a flush
        return [_MESSAGE, _CHANNEL, None], pos
    keys: list[bytes] = []
    for _ in range(count):
        end = buffer.find(b"\r\n", pos)
        if end < 0:
            raise Incomplete
        size = int(buffer[pos + 1 : end])
        start = end + 2
        if len(buffer) < start + size + 2:
            raise Incomplete
        keys.append(bytes(buffer[start : start + size]))
        pos = start + size + 2
    return [_MESSAGE, _CHANNEL, keys], pos


def _line(buffer: bytearray, pos: int) -> tuple[bytes, int]:
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    return bytes(buffer[pos:end]), end + 2


def _parse(buffer: bytearray, pos: int) -> tuple[Value, int]:
    line, pos = _line(buffer, pos)
    kind, rest = line[:1], line[1:]
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            raise Incomplete
        return bytes(buffer[pos : pos + size]), pos + size + 2
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None, pos
        items: list[Any] = []
        for _ in range(count):
            item, pos = _parse(buffer, pos)
            items.append(item)
        return items, pos
    if kind == b":":
        return int(rest), pos
    if kind == b"+":
        return rest, pos
    if kind == b"-":
        return ReplyError(rest.decode(errors="replace")), pos
    raise ValueError(f"not RESP2: {line[:40]!r}")
