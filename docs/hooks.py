"""MkDocs hooks: put the benchmark charts of ``benches/results/`` into the site.

The charts are written by ``nox -s bench`` into ``benches/results/``, beside the tables they
illustrate; the docs link them as ``benches/results/NAME.png`` instead of keeping a second copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT / "benches" / "results"


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    """Add every chart of ``benches/results`` to the site as ``benches/results/NAME.png``."""
    for chart in sorted(CHARTS.glob("*.png")):
        files.append(
            File(
                f"benches/results/{chart.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
