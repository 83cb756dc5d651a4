"""moka-py-rust's PEP 517 build backend: maturin's hooks, without the automatic Rust download.

When ``cargo`` is not on PATH, maturin's hooks download a whole Rust toolchain (hundreds of MB,
through ``puccinialin``) unless ``MATURIN_NO_INSTALL_RUST`` is set. Each hook here stops first in
that case, with a message saying what to install, or how to install moka-py without this backend.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from typing import Any, TypeVar

import maturin

Hook = TypeVar("Hook", bound=Callable[..., Any])

NO_CARGO = """
moka-py-rust is compiled from its Rust source and needs Rust's cargo (1.83 or newer), which is not
on PATH. Install Rust (https://rustup.rs, or your system's packages) and run the command again, or
install moka-py with its pure-Python backend only; from a clone of the repository:

    python3 -m pip install ./packages/moka-py-core ./packages/moka-py-pure
"""


def _needs_cargo(hook: Hook) -> Hook:
    @functools.wraps(hook)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if shutil.which("cargo") is None:
            raise SystemExit(NO_CARGO)
        return hook(*args, **kwargs)

    return checked  # type: ignore[return-value]


get_requires_for_build_wheel = _needs_cargo(maturin.get_requires_for_build_wheel)
get_requires_for_build_sdist = _needs_cargo(maturin.get_requires_for_build_sdist)
get_requires_for_build_editable = _needs_cargo(maturin.get_requires_for_build_editable)
prepare_metadata_for_build_wheel = _needs_cargo(maturin.prepare_metadata_for_build_wheel)
prepare_metadata_for_build_editable = _needs_cargo(maturin.prepare_metadata_for_build_editable)
build_wheel = _needs_cargo(maturin.build_wheel)
build_sdist = _needs_cargo(maturin.build_sdist)
build_editable = _needs_cargo(maturin.build_editable)
