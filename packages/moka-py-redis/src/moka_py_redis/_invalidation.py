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
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from moka_py_redis._resp2 import Reader, ReplyError, Value, command

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

    redis-py opens it (address, TLS, AUTH, SELECT, client name are the client's); from then on
    it reads and writes the socket itself (see ``_resp2``). Not thread-safe: the near cache
    calls it with its lock held, except ``has_data``.
    """

    def __init__(self, make: Callable[[], Connection], prefixes: Sequence[bytes]) -> None:
        self._make = make
        self._prefixes = list(prefixes)
        self._conn: _Untyped | None = None
        self._sock: socket.socket | None = None
        self._reader = Reader()
        self._backlog: list[Value] = []  # what arrived with the SUBSCRIBE reply
        self._timeout = 10.0
        self._lag_bytes = 1 << 16  # reading this much at once means the server may be holding some back
        #: How many times a backlog made us wait for the server's PONG (``_barrier``).
        self.barriers = 0
        self._fd = -1
        # A poll object may not be used by two threads at once: one per thread, for the current fd.
        self._polls = threading.local()
        #: The server's id of the connection while connected (``CLIENT KILL ID`` takes it).
        self.client_id: int | None = None

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        """Open the connection and start tracking; raises redis-py's ``ConnectionError`` when down."""
        conn: _Untyped = self._make()
        try:
            conn.connect()
            sock: socket.socket | None = conn._sock  # where redis-py keeps it, in every version >= 5
            if sock is None:
                raise redis.ConnectionError("the invalidation connection has no socket after connect")
            self._timeout = conn.socket_timeout or 10.0
            sock.settimeout(self._timeout)
            self._reader = Reader()
            own_id = self._ask(sock, command("CLIENT", "ID"))
            if not isinstance(own_id, int):
                raise redis.ConnectionError(f"unexpected reply to CLIENT ID: {own_id!r}")
            tracking: list[bytes | str | int] = ["CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST"]
            for prefix in self._prefixes:
                tracking += ["PREFIX", prefix]
            self._ask(sock, command(*tracking))
            subscribed = self._ask(sock, command("SUBSCRIBE", CHANNEL))
            if not (isinstance(subscribed, list) and subscribed[:2] == [b"subscribe", CHANNEL]):
                raise redis.ConnectionError(f"unexpected reply to SUBSCRIBE: {subscribed!r}")
            # A large receive buffer lets the server send a long backlog at once instead of
            # holding it back; a read of an eighth of it is taken as "may have been full".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            self._lag_bytes = max(4096, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 8)
            sock.setblocking(False)
        except BaseException:
            conn.disconnect()
            raise
        self._conn, self._sock, self._fd, self.client_id = conn, sock, sock.fileno(), own_id

    def _ask(self, sock: socket.socket, request: bytes) -> Value:
        """Send one command and wait for its reply (while connecting, the socket still blocks)."""
        try:
            sock.sendall(request)
            while True:
                data = sock.recv(65536)
                if not data:
                    raise redis.ConnectionError("the server closed the invalidation connection")
                values = self._reader.feed(data)
                if values:
                    break
        except OSError as exc:
            raise redis.ConnectionError(f"invalidation connection: {exc}") from exc
        reply, self._backlog = values[0], values[1:]
        if isinstance(reply, ReplyError):
            # Redis before 6 has no CLIENT TRACKING: say so rather than "unknown subcommand".
            raise redis.ResponseError(
                f"{reply} (near_cache needs Redis 6 or later: CLIENT TRACKING ... BCAST)"
            )
        return reply

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

    @property
    def backlogged(self) -> bool:
        """Whether messages that came with the SUBSCRIBE reply wait to be read."""
        return bool(self._backlog)

    def read_available(self) -> list[Batch]:
        """Every message already received, in order, without waiting for more (call it when
        ``has_data`` or ``backlogged``: with nothing there it costs a ``recv`` that says so).

        A message that arrived in part is read to its end (the rest is on its way).
        Raises redis-py's ``ConnectionError`` (or ``TimeoutError``) when the connection is lost.
        """
        sock = self._sock
        if sock is None:
            raise redis.ConnectionError("the invalidation connection is closed")
        values, self._backlog = self._backlog, []
        values += self._receive(sock)
        batches: list[Batch] = []
        for value in values:
            if isinstance(value, list) and len(value) == 3 and value[:2] == [b"message", CHANNEL]:
                keys = value[2]
                batches.append(None if keys is None else keys)  # nil: a flush; else the keys, as bytes
            elif isinstance(value, ReplyError):
                raise redis.ConnectionError(f"invalidation connection: {value}")
        return batches

    def _receive(self, sock: socket.socket) -> list[Value]:
        values: list[Value] = []
        received = 0
        while True:
            data = self._recv(sock)
            if data:
                received += len(data)
                values += self._reader.feed(data)
                if len(data) == 65536 or isinstance(sock, ssl.SSLSocket):
                    continue  # more may be waiting (TLS hands out one record at a time)
            if not self._reader.pending:
                break
            # The rest of a message that has begun is on its way: wait for it, not for more.
            self._wait(sock)
        if received >= self._lag_bytes:
            values += self._barrier(sock)
        return values

    def _recv(self, sock: socket.socket) -> bytes | None:
        """What the socket holds (``None``: nothing); redis-py's ``ConnectionError`` when it is lost."""
        try:
            data = sock.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError):
            return None
        except OSError as exc:
            raise redis.ConnectionError(f"invalidation connection: {exc}") from exc
        if not data:
            raise redis.ConnectionError("the server closed the invalidation connection")
        return data

    def _wait(self, sock: socket.socket) -> None:
        if not select.select([sock], [], [], self._timeout)[0]:
            raise redis.TimeoutError(f"the invalidation connection was silent for {self._timeout} s")

    def _barrier(self, sock: socket.socket) -> list[Value]:
        """Everything the server queued for this connection until now: a PING and its PONG.

        The server sends a write's invalidation before the write's reply only while this socket
        keeps up. When a read found a large backlog, the server may have had to hold messages
        back (a full receive window) while it acknowledged later writes; the PONG comes after
        all of them, so once it is here nothing acknowledged earlier is missing.
        """
        self.barriers += 1
        token = b"moka-py-redis %d" % self.barriers
        try:
            sock.sendall(command("PING", token))
        except BlockingIOError:
            sock.setblocking(True)  # a full send buffer on a 40-byte PING: wait it out
            sock.settimeout(self._timeout)
            sock.sendall(command("PING", token))
            sock.setblocking(False)
        except OSError as exc:
            raise redis.ConnectionError(f"invalidation connection: {exc}") from exc
        pong: Value = [b"pong", token]
        values: list[Value] = []
        while pong not in values:
            self._wait(sock)
            data = self._recv(sock)
            if data:
                values += self._reader.feed(data)
        values.remove(pong)  # what came after it is kept too
        return values

    def close(self) -> None:
        conn, self._conn, self._sock, self.client_id = self._conn, None, None, None
        self._fd = -1
        self._backlog = []
        if conn is not None:
            conn.disconnect()
