"""Shows what the teeth runs found: which test caught each mutant, and how long each run took."""

from __future__ import annotations

import pytest

_REPORT: list[str] = []


@pytest.fixture(scope="session")
def teeth_report() -> list[str]:
    """Lines for the "teeth" section of the terminal summary."""
    return _REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.write_sep("-", "teeth")
        for line in sorted(_REPORT):
            terminalreporter.write_line(line)
