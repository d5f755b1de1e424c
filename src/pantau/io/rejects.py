"""What a reader reports: its :class:`ReadSummary` and the rejects file (:class:`RejectsWriter`)."""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REJECT_COLUMNS = ("source", "row", "reason", "raw")


@dataclass
class ReadSummary:
    """What a reader saw: rows read (= kept + rejected, by reason), blank lines skipped (not posts), and
    the last row number it consumed (where a resumed reader continues)."""

    path: str
    format: str
    encoding: str = "utf-8"
    read: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    blank: int = 0
    last_row: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy for reports and manifests."""
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "read": self.read,
            "kept": self.kept,
            "rejected": self.rejected,
            "reasons": dict(self.reasons),
            "blank": self.blank,
            "last_row": self.last_row,
        }

    def __str__(self) -> str:
        reasons = ", ".join(f"{n} {r}" for r, n in self.reasons.most_common()) or "none"
        blank = f", {self.blank} blank lines skipped" if self.blank else ""
        return f"{self.path}: read {self.read}, kept {self.kept}, rejected {self.rejected} ({reasons}){blank}"


class RejectsWriter:
    """Appends rejected rows (source, row number, reason, raw content) to a CSV file, opened lazily."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.count = 0
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def write(self, source: str, row: int, reason: str, raw: str) -> None:
        """Record one rejected row."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists() or self.path.stat().st_size == 0
            # Kept open across write() calls; closed by close() / the context manager.
            self._fh = open(self.path, "a", encoding="utf-8", errors="backslashreplace", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            if new:
                self._writer.writerow(REJECT_COLUMNS)
        self._writer.writerow((source, row, reason, raw))
        self.count += 1

    def flush(self) -> None:
        """Push buffered rejects to disk (before a checkpoint)."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Close the file if one was opened."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RejectsWriter:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
