"""The local engine's progress bar (posts/s, ETA), drawn only when asked for."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def estimate_rows(path: Path) -> int | None:
    """A quick row count for the progress bar's ETA (lines for text formats, metadata for Parquet)."""
    try:
        name = path.name.lower()
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if name.endswith(".gz"):
            return None
        lines = 0
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                lines += block.count(b"\n")
        header = 0 if name.endswith((".jsonl", ".ndjson", ".json")) else 1
        return max(lines - header, 0)
    except OSError:
        return None


class Progress:
    """A rich progress bar when enabled; silent otherwise. ``done``: rows an earlier attempt read."""

    def __init__(self, paths: Sequence[Path], done: int, *, enabled: bool):
        self._bar: Any = None
        self._done = done
        if not enabled:
            return
        # Imported here: rich is only needed when a bar is drawn (jobs run with --quiet).
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        estimates = [estimate_rows(p) for p in paths]
        total = None if any(e is None for e in estimates) else sum(e or 0 for e in estimates)
        self._bar = RichProgress(
            TextColumn("[bold]scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} posts/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=False,
            console=Console(stderr=True),  # on stderr, which the CLI checked is a terminal; stdout stays clean
        )
        self._task = self._bar.add_task("score", total=total, completed=done, rate="-")
        self._start = time.monotonic()
        self._start_done = self._done = done
        self._bar.start()

    def update(self, done: int) -> None:
        """Show ``done`` rows read so far (scored + rejected: set at each commit) and this attempt's rate."""
        if self._bar is None:
            return
        self._done = done
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (done - self._start_done) / elapsed
        self._bar.update(self._task, completed=done, rate=f"{rate:,.0f}")

    def advance(self, posts: int) -> None:
        """``posts`` more scored: called after every batch, so the bar moves between commits too."""
        if self._bar is not None:
            self.update(self._done + posts)

    def stop(self) -> None:
        """Leave the bar as it is on screen."""
        if self._bar is not None:
            self._bar.stop()
