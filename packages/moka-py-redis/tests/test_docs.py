"""The near-cache guide's examples run against a real server (docs/guides/near-cache.md).

The project's docs tests skip these blocks (they are marked ``<!-- conformance: requires
moka_py_redis -->``); here each runs as a script of its own, with ``REDIS_URL`` naming the test
server, on the backend the session selected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from moka_py_conformance._support import CodeBlock, markdown_blocks
from redis_server import RedisServer

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "near-cache.md"
BLOCKS = markdown_blocks([GUIDE]) if GUIDE.exists() else []


def test_the_guide_has_examples_for_this_package() -> None:
    if not GUIDE.exists():
        pytest.skip(f"{GUIDE} is not here (an installed package without the repository)")
    assert BLOCKS, "the near-cache guide has no python examples"
    assert all(block.requires == "moka_py_redis" for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_guide_example_runs(
    block: CodeBlock, fresh: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{fresh.port}")
    block.run()
