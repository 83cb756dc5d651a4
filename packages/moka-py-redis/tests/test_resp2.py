"""The invalidation connection's RESP2 reader, fed whole and byte by byte."""

from __future__ import annotations

import pytest
from moka_py_redis._resp2 import Reader, ReplyError, Value, command

CHANNEL = b"__redis__:invalidate"
HEAD = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
STREAM: list[tuple[bytes, Value]] = [
    (HEAD + b"*2\r\n$3\r\nabc\r\n$0\r\n\r\n", [b"message", b"__redis__:invalidate", [b"abc", b""]]),
    (HEAD + b"*-1\r\n", [b"message", b"__redis__:invalidate", None]),
    (HEAD + b"$-1\r\n", [b"message", b"__redis__:invalidate", None]),
    (
        b"*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n",
        [b"subscribe", b"__redis__:invalidate", 1],
    ),
    (b"+OK\r\n", b"OK"),
    (b":42\r\n", 42),
    (b"$5\r\na\r\nbc\r\n", b"a\r\nbc"),  # a bulk string holds any bytes
    (b"*1\r\n*-1\r\n", [None]),
]


def test_one_key_messages_alone_or_with_more() -> None:
    one = HEAD + b"*1\r\n$4\r\nk\r\n1\r\n"  # the key holds CRLF
    message = [b"message", CHANNEL, [b"k\r\n1"]]
    assert Reader().feed(one) == [message]
    assert Reader().feed(one + b"+OK\r\n") == [message, b"OK"]
    reader = Reader()
    assert reader.feed(one[:-1]) == []
    assert reader.feed(one[-1:] + one) == [message, message]


def test_whole_values_come_out_in_order() -> None:
    assert Reader().feed(b"".join(raw for raw, _ in STREAM)) == [value for _, value in STREAM]


@pytest.mark.parametrize(("raw", "value"), STREAM)
def test_a_value_split_anywhere_comes_out_once_complete(raw: bytes, value: Value) -> None:
    reader = Reader()
    out: list[Value] = []
    for i in range(len(raw)):
        out += reader.feed(raw[i : i + 1])
        assert reader.pending == (i < len(raw) - 1)
    assert out == [value]


def test_errors_and_commands() -> None:
    (error,) = Reader().feed(b"-ERR unknown subcommand\r\n")
    assert isinstance(error, ReplyError) and str(error) == "ERR unknown subcommand"
    assert command("CLIENT", "ID") == b"*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n"
    assert command(b"k\r\n", 7) == b"*2\r\n$3\r\nk\r\n\r\n$1\r\n7\r\n"
    with pytest.raises(ValueError, match="not RESP2"):
        Reader().feed(b"?what\r\n")
