"""Fixtures: a real redis-server per test module (no mocks: coherence is the server's doing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_server import RedisServer, in_ci, server_binary


def require_binary() -> str:
    """The server binary; a clear failure in CI (CI=true) without one, a skip elsewhere."""
    binary = server_binary()
    if binary is None:
        message = "redis-server is not on PATH (Debian: apt-get install redis-server)"
        if in_ci():
            pytest.fail(f"{message}; CI must install it (.ci/run does)", pytrace=False)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    srv = RedisServer(require_binary())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of the test's own, for tests that kill it."""
    srv = RedisServer(require_binary())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh(server: RedisServer) -> Iterator[RedisServer]:
    """The module's server, emptied before the test."""
    server.client().flushall()
    yield server
