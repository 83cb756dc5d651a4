"""The built documentation site, opened in headless Chromium: the pages render with their headings.

``nox -s docs`` builds the site (``mkdocs build --strict``) and then runs this file.  Each page is
served by a local ``http.server`` on a free loopback port and loaded by Chromium, which runs the
theme's scripts; the assertions read the DOM Chromium dumps, not the files on disk.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("MOKA_PY_SITE", ROOT / "site"))
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Page(HTMLParser):
    """The text of every heading of a dumped DOM, and the ids of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, list[str]] = {f"h{n}": [] for n in range(1, 7)}
        self.ids: set[str] = set()
        self.classes: set[str] = set()
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.classes.update((found.get("class") or "").split())
        if tag in self.headings:
            self._open.append((tag, []))

    def handle_data(self, data: str) -> None:
        for _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, parts = self._open.pop()
            # mkdocs' permalink anchors add a trailing pilcrow to each heading
            self.headings[tag].append("".join(parts).replace("\u00b6", "").strip())


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no Chromium found: install Debian's chromium package (.ci/run does)")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} holds no built site: run `nox -s docs` (mkdocs build) first")
    handler = functools.partial(_Quiet, directory=str(SITE))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free one
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def render(browser: str, url: str, tmp_path: Path) -> Page:
    """Load ``url`` in headless Chromium and parse the DOM it ends with."""
    result = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url,
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    page = Page()
    page.feed(result.stdout)
    page.close()
    return page


def test_home_page_renders(browser: str, server: str, tmp_path: Path) -> None:
    page = render(browser, f"{server}/", tmp_path)
    assert page.headings["h1"] == ["moka-py"]
    assert "md-nav" in page.classes  # the theme's navigation was laid out
    assert "Set-up" in page.headings["h2"]


def test_api_reference_renders(browser: str, server: str, tmp_path: Path) -> None:
    page = render(browser, f"{server}/reference/api/", tmp_path)
    assert page.headings["h1"] == ["API reference"]
    # the reference generated from the stubs and docstrings, not just the page's own text
    assert "moka_py.Moka" in page.headings["h3"]
    assert "moka_py.cached" in page.headings["h3"]
    for member in ("get", "set", "get_with", "remove", "run_pending_tasks"):
        assert f"moka_py._typing.Moka.{member}" in page.ids, member
    assert {"moka_py.backend", "moka_py.available_backends"} <= set(page.headings["h3"])
