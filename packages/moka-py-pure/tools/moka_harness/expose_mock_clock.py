"""Make moka 0.12.16's test-only mock clock usable from outside the crate, in a local copy.

Usage: python expose_mock_clock.py PATH_TO_COPY_OF_moka-0.12.16
Only visibility changes: `Clock`, `Clock::mock`, `Mock`, `Mock::increment`, `CacheBuilder::clock`
become public and lose their `#[cfg(test)]`; `dbg!` around the mocked `to_std_instant` is removed.
"""

import sys
from pathlib import Path


def patch(path: Path, *pairs: tuple) -> None:
    text = path.read_text()
    for old, new in pairs:
        if old not in text:
            raise SystemExit(f"{path}: expected text not found: {old!r}")
        text = text.replace(old, new)
    path.write_text(text)


root = Path(sys.argv[1]) / "src"
patch(
    root / "common/time/clock.rs",
    ("#[cfg(test)]\n", ""),
    ("pub(crate) struct Clock", "pub struct Clock"),
    ("pub(crate) fn mock()", "pub fn mock()"),
    ("pub(crate) struct Mock", "pub struct Mock"),
    ("pub(crate) fn increment", "pub fn increment"),
    ("dbg!(mock.origin + duration)", "mock.origin + duration"),
)
patch(root / "sync/builder.rs", ("#[cfg(test)]\n    pub(crate) fn clock(", "pub fn clock("))
patch(
    root / "common/time.rs",
    ("#[cfg(test)]\npub(crate) use clock::Mock;", "pub use clock::Mock;"),
    ("pub(crate) use clock::Clock;", "pub use clock::Clock;"),
)
patch(root / "common.rs", ("pub(crate) mod time;", "pub mod time;"))
patch(root / "lib.rs", ("pub(crate) mod common;", "pub mod common;"))
print("patched", root)
