"""Type-checker test of ``cached`` and ``cachedmethod`` (run by ``nox -s typecheck``, not by pytest).

``mypy --strict`` and pyright (strict, ``pyrightconfig.json`` beside this file) must both accept
every line.  ``assert_type`` pins what they infer; each deliberate error carries both checkers'
ignore comments, and both report an ignore that is not needed (mypy's ``warn_unused_ignores``,
pyright's ``reportUnnecessaryTypeIgnoreComment``), so a call that stops being rejected fails too.
"""

from __future__ import annotations

from collections.abc import Coroutine
from functools import _CacheInfo  # pyright: ignore[reportPrivateUsage] - lru_cache's own type
from typing import Any

from moka_py import cached, cachedmethod
from typing_extensions import assert_type


@cached
def bare(x: int, label: str = "") -> str:
    return f"{label}{x}"


@cached(maxsize=16, ttl=5.0, wait_concurrent=True)
def configured(x: int, *, scale: float) -> float:
    return x * scale


@cached(typed=True)
async def fetch(url: str) -> bytes:
    return url.encode()


# Accepted calls keep the decorated function's parameter and result types.
assert_type(bare(1), str)
assert_type(bare(1, "n="), str)
assert_type(bare(x=1, label="n="), str)
assert_type(configured(2, scale=0.5), float)
assert_type(bare.cache_info(), _CacheInfo)
assert_type(bare.cache_info().hits, int)
assert_type(configured.cache_clear(), None)
assert_type(fetch.cache_parameters(), dict[str, Any])
assert_type(bare.__wrapped__(3), str)

# Rejected calls: wrong types, unknown keywords, missing arguments.
bare("1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
bare(1, 2)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
bare(1, colour="red")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
configured(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
configured(2, 0.5)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
bare.cache_info(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
cached(maxsize="big")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
cached(policy="fifo")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


class Repository:
    def __init__(self, name: str) -> None:
        self.name = name

    @cached
    def shared(self, n: int) -> str:
        return f"{self.name}{n}"

    @cachedmethod(maxsize=32)
    def lookup(self, key: str, *, default: int = 0) -> int:
        return len(key) + default

    @cachedmethod
    async def load(self, key: str) -> list[str]:
        return [key]


repo = Repository("r")

# cached on a method: bound like a function (the instance is part of the key).
assert_type(repo.shared(1), str)
assert_type(Repository.shared(repo, 1), str)
assert_type(repo.shared.cache_info(), _CacheInfo)
repo.shared("1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# cachedmethod: the bound method takes the arguments after self, and has its instance's cache.
assert_type(repo.lookup("k"), int)
assert_type(repo.lookup("k", default=1), int)
assert_type(Repository.lookup(repo, "k"), int)
assert_type(repo.lookup.cache_info(), _CacheInfo)
assert_type(repo.load.cache_clear(), None)
assert_type(repo.lookup.cache_parameters(), dict[str, Any])
repo.lookup(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
repo.lookup("k", 1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
repo.lookup("k", fallback=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def coroutines() -> None:
    """``async def`` functions and methods: awaiting gives the result type."""
    pending: Coroutine[Any, Any, bytes] = fetch("u")  # the wrapper returns the coroutine
    pending.close()
    assert_type(await fetch("u"), bytes)
    assert_type(await repo.load("k"), list[str])
    await fetch(b"u")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await repo.load()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
