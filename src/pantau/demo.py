"""``make demo``: the main job on the embedded defaults, from a fresh clone, with progress and a summary.

It grows with the pipeline; each stage it runs is the same library function the CLI and DVC call.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console

from pantau.config import load_settings
from pantau.data.prepare import prepare


def main() -> int:
    """Run the demo stages and print a summary; returns the process exit code."""
    console = Console()
    settings = load_settings()
    started = time.perf_counter()
    console.rule("[bold]pantau demo")
    console.print("1/1 prepare: load the sample corpus, deduplicate, split")
    result = prepare(settings)
    rows = result.report["rows"]
    console.print(f"    read {rows['read']}, rejected {rows['rejected']}, kept {rows['kept']} → {result.report_path}")
    console.print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
