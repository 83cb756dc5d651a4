"""Small helpers shared by the conformance tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Event = tuple[Any, Any, str]


class EventLog:
    """An eviction listener that records ``(key, value, cause)`` in delivery order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, key: Any, value: Any, cause: str) -> None:
        with self._lock:
            self.events.append((key, value, cause))

    def take(self) -> list[Event]:
        """Return the events recorded so far and forget them."""
        with self._lock:
            events, self.events = self.events, []
        return events


class Deadlock(BaseException):
    """A call into the cache did not return. Not an ``Exception``: hypothesis stops at once instead
    of shrinking, since every shrink attempt would wait for the watchdog again."""


def run_with_watchdog(
    target: Callable[[], object], timeout: float, what: str, error: type[BaseException] = AssertionError
) -> None:
    """Run ``target`` in a daemon thread; raise ``error`` if it does not finish within ``timeout``
    seconds (``Deadlock`` inside a hypothesis test).

    A deadlocked cache would hang the test run forever; a daemon thread lets the
    test fail instead and the interpreter still exit.
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"watchdog:{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise error(f"{what} did not finish within {timeout} s: deadlock")
    if errors:
        raise errors[0]


def run_threads(target: Callable[[], Any], count: int = 8) -> list[tuple[str, Any]]:
    """Start ``count`` threads on ``target`` behind a barrier, under a watchdog.

    Returns, per thread, ``("ok", result)`` or ``("raised", exception)``.
    """
    barrier = threading.Barrier(count)
    results: list[tuple[str, Any]] = [("not run", None)] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = ("ok", target())
        except Exception as exc:
            results[index] = ("raised", exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]

    def start_and_join() -> None:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run_with_watchdog(start_and_join, 60, f"{count} threads")
    return results


@dataclass(frozen=True)
class CodeBlock:
    """A fenced ```python block of a Markdown file."""

    path: Path
    line: int
    code: str
    label: str  # how the test id names the file: its name, or its path below the folder given
    exact: bool = False  # shows moka's own decisions: runs only on backends that claim ``exact``
    requires: str | None = None  # a module the block needs beyond moka_py (see REQUIRES_MARK)

    @property
    def id(self) -> str:
        return f"{self.label}:{self.line}"

    def run(self) -> None:
        """Run the block as a script of its own: a fresh ``__main__`` namespace, nothing shared."""
        code = compile(self.code, f"{self.path}:{self.line}", "exec")
        # "__main__" so that `if __name__ == "__main__":` bodies run too.
        exec(code, {"__name__": "__main__", "__file__": str(self.path)})


_FENCE = re.compile(r"^```(\w*)\s*$")
# On the line right above a fence: the block shows moka's decisions (which entry TinyLFU admits, when
# housekeeping runs), true of backends with ``exact = True`` only. Invisible in rendered Markdown.
EXACT_MARK = "<!-- conformance: exact -->"
# On the line right above a fence: the block needs another distribution (``<!-- conformance: requires
# moka_py_redis -->``), whose own tests run it; elsewhere it is skipped, saying so.
REQUIRES_MARK = re.compile(r"^<!-- conformance: requires ([\w.]+) -->$")


def python_blocks(path: Path, label: str | None = None) -> Iterator[CodeBlock]:
    """Yield every fenced block tagged ``python`` in a Markdown file, with its first line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, language = i + 1, match.group(1)
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if language == "python":
            above = lines[i - 1].strip() if i > 0 else ""
            exact = above == EXACT_MARK
            needs = REQUIRES_MARK.match(above)
            code = "\n".join(lines[start:end]) + "\n"
            yield CodeBlock(path, start + 1, code, label or path.name, exact, needs and needs.group(1))
        i = end + 1


def markdown_blocks(sources: Iterable[Path]) -> list[CodeBlock]:
    """The ```python blocks of Markdown sources: files, and folders searched for ``*.md`` at any depth.

    A folder's files are labelled by their path below it (``guides/expiry.md``), a file by its name.
    """
    blocks: list[CodeBlock] = []
    for source in sources:
        if source.is_dir():
            for path in sorted(source.rglob("*.md")):
                blocks.extend(python_blocks(path, path.relative_to(source).as_posix()))
        else:
            blocks.extend(python_blocks(source))
    return blocks
