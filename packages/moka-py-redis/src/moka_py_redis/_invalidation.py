"""The invalidation connection: one RESP2 socket that Redis tells about every write.

It runs ``CLIENT TRACKING ON REDIRECT <its own id> BCAST [PREFIX p ...]`` and then
``SUBSCRIBE __redis__:invalidate``, so the server sends it, as a pub/sub message, the name
of every key written (or expired, or evicted) that matches a prefix, and ``None`` for a
flush. It is always a synchronous redis-py connection, also behind an asyncio client:
it is only ever polled with a zero timeout and read when bytes are already there, so it
never blocks an event loop on the network, and one implementation serves both clients.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

#: What one message carries: the names of the keys written, or ``None`` for a flush.
Batch = Optional[list[bytes]]
Connection = Union[redis.Connection, redis.SSLConnection, redis.UnixDomainSocketConnection]
# redis-py leaves connect/send_command/disconnect untyped: the stream holds its connection as Any.
_Untyped = Any

CHANNEL = b"__redis__:invalidate"

# How to reach and log into the server: the only settings of the client's pool that the
# invalidation connection takes over (the rest, such as retries or response decoding, are
# the near cache's own business here, and differ between the sync and asyncio classes).
_REACH = frozenset({
    "host", "port", "path", "db", "username", "password", "credential_provider",
    "socket_timeout", "socket_connect_timeout", "socket_keepalive", "socket_keepalive_options",
    "socket_type", "client_name",
})  # fmt: skip


def connection_factory(pool: redis.ConnectionPool | redis.asyncio.ConnectionPool) -> Callable[[], Connection]:
    """A maker of synchronous RESP2 connections to the server that ``pool`` connects to."""
    cls = pool.connection_class
    kind: type[Connection]
    if issubclass(cls, (redis.UnixDomainSocketConnection, redis.asyncio.UnixDomainSocketConnection)):
        kind = redis.UnixDomainSocketConnection
    elif issubclass(cls, (redis.SSLConnection, redis.asyncio.SSLConnection)):
        kind = redis.SSLConnection
    elif issubclass(cls, (redis.Connection, redis.asyncio.Connection)):
        kind = redis.Connection
    else:
        raise TypeError(f"near_cache cannot open an invalidation connection like {cls.__name__}")
    given: Mapping[str, Any] = pool.connection_kwargs
    kwargs = {k: v for k, v in given.items() if k in _REACH or k.startswith("ssl_")}
    # No retry loop and no decoding: a lost invalidation connection must surface at once
    # (the local cache is dropped), and key names are compared as bytes.
    kwargs.update(protocol=2, decode_responses=False, retry=Retry(NoBackoff(), 0))

    def make() -> Connection:
        return kind(**kwargs)

    return make


class InvalidationStream:
    """The invalidation connection, connected on demand, read without blocking.

    Not thread-safe: the near cache calls it with its lock held.
    """

    def __init__(self, make: Callable[[], Connection], prefixes: Sequence[bytes]) -> None:
        self._make = make
        self._prefixes = list(prefixes)
        self._conn: _Untyped | None = None
        self._fd = -1
        # A poll object may not be used by two threads at once: one per thread, for the current fd.
        self._polls = threading.local()
        #: The server's id of the connection while connected (``CLIENT KILL ID`` takes it).
        self.client_id: int | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def connect(self) -> None:
        """Open the connection and start tracking; raises redis-py's ``ConnectionError`` when down."""
        conn: _Untyped = self._make()
        try:
            conn.connect()
            conn.send_command("CLIENT", "ID")
            own_id = conn.read_response()
            args: list[Any] = ["CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST"]
            for prefix in self._prefixes:
                args += ["PREFIX", prefix]
            conn.send_command(*args)
            conn.read_response()
            conn.send_command("SUBSCRIBE", CHANNEL)
            reply = conn.read_response()
            if not (isinstance(reply, list) and reply[:1] == [b"subscribe"]):
                raise redis.ConnectionError(f"unexpected reply to SUBSCRIBE {CHANNEL!r}: {reply!r}")
        except BaseException:
            conn.disconnect()
            raise
        sock = conn._sock  # redis-py keeps the socket here in every version >= 5
        if sock is None:
            raise redis.ConnectionError("the invalidation connection has no socket after connect")
        self._conn, self._fd, self.client_id = conn, sock.fileno(), int(own_id)

    def has_data(self) -> bool:
        """Whether bytes (or an EOF, or an error) wait on the socket, or it is closed: one ``poll(0)``."""
        polls = self._polls
        try:
            if polls.fd == self._fd:
                return bool(polls.poll.poll(0))
        except AttributeError:
            pass  # this thread's first look
        if self._fd < 0:
            return True  # closed: the caller takes the lock and looks
        polls.poll = select.poll()
        polls.poll.register(self._fd, select.POLLIN | select.POLLPRI)
        polls.fd = self._fd
        return bool(polls.poll.poll(0))

    def read_available(self) -> list[Batch]:
        """Every message already received, in order, without waiting for more.

        A message that arrived in part is read to its end (the rest is on its way).
        Raises redis-py's ``ConnectionError`` (or ``TimeoutError``) when the connection is lost.
        """
        conn = self._conn
        if conn is None:
            raise redis.ConnectionError("the invalidation connection is closed")
        batches: list[Batch] = []
        if not self.has_data():
            return batches  # no recv that would only say EAGAIN
        while conn.can_read(timeout=0):
            message = conn.read_response()
            if isinstance(message, list) and len(message) == 3 and message[:2] == [b"message", CHANNEL]:
                data = message[2]
                # A flush arrives as a null; RESP2 keys arrive as a list of bytes.
                batches.append(None if data is None else [bytes(k) for k in data])
        return batches

    def close(self) -> None:
        conn, self._conn, self.client_id = self._conn, None, None
        self._fd = -1
        if conn is not None:
            conn.disconnect()
