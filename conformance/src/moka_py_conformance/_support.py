"""Small helpers shared by the conformance tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
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


def run_with_watchdog(target: Callable[[], object], timeout: float, what: str) -> None:
    """Run ``target`` in a daemon thread; fail if it does not finish within ``timeout`` seconds.

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
        raise AssertionError(f"{what} did not finish within {timeout} s: deadlock")
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
    """A fenced ```python block of a README file."""

    path: Path
    line: int
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


_FENCE = re.compile(r"^```(\w*)\s*$")


def python_blocks(path: Path) -> Iterator[CodeBlock]:
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
            yield CodeBlock(path, start + 1, "\n".join(lines[start:end]) + "\n")
        i = end + 1
