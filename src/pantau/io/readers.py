"""Streaming readers and writers for posts: CSV, TSV, JSONL and Parquet, validated row by row.

Files are read in chunks of ``chunk_rows`` rows, so a 10 GB file never sits in memory. Every input row
ends up either in a yielded chunk or in the rejects file with its row number and reason — nothing is
silently dropped. Encoding: UTF-8 first; when the start of a file is not valid UTF-8 the whole file is
read as latin-1 (with a warning); undecodable bytes later in a UTF-8 file reject only their row.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

log = logging.getLogger(__name__)

FORMATS = ("csv", "tsv", "jsonl", "parquet")
_SNIFF_BYTES = 4 * 1024 * 1024
REJECT_COLUMNS = ("source", "row", "reason", "raw")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class InputError(ValueError):
    """The input cannot be read at all (missing file, unknown format, missing columns)."""


@dataclass
class ReadSummary:
    """What a reader saw: rows read, kept and rejected (by reason)."""

    path: str
    format: str
    encoding: str = "utf-8"
    read: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

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
        }

    def __str__(self) -> str:
        reasons = ", ".join(f"{n} {r}" for r, n in self.reasons.most_common()) or "none"
        return f"{self.path}: read {self.read}, kept {self.kept}, rejected {self.rejected} ({reasons})"


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


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format implied by a file name (``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.parquet``, optionally ``.gz``)."""
    name = Path(path).name.lower().removesuffix(".gz")
    for suffix, fmt in ((".csv", "csv"), (".tsv", "tsv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                        (".json", "jsonl"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise InputError(f"cannot tell the format of {path}: use a .csv, .tsv, .jsonl or .parquet file, or pass format=")


def stable_id(text: str) -> str:
    """A stable id for a post without one: a hash of its text."""
    return "h" + hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def text_hash(text: str) -> str:
    """A hash of the exact text, stored with predictions so a changed post is noticed."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def sniff_encoding(path: str | os.PathLike[str], preferred: str = "utf-8") -> str:
    """``preferred`` if the first 4 MiB decode with it, else ``latin-1``."""
    with _open_binary(Path(path)) as fh:
        head = fh.read(_SNIFF_BYTES)
    try:
        # A multibyte character cut at the sniff boundary is not an encoding error.
        head.decode(preferred) if len(head) < _SNIFF_BYTES else head[:-4].decode(preferred)
        return preferred
    except (UnicodeDecodeError, LookupError):
        return "latin-1"


class PostReader:
    """Iterate over validated chunks of posts from one file.

    Each chunk is a DataFrame with ``id``, ``text``, ``row`` (1-based data row number in the file) and
    every other column of the file as strings. Read :attr:`summary` after iterating.

    Without an id column, ids are derived: ``row_id_prefix + row number`` when a prefix is given (for
    corpora, where duplicate texts must survive to be counted), else a hash of the text (for posts, where
    the same text twice is the same post).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        text_column: str = "text",
        id_column: str | None = "id",
        chunk_rows: int = 50_000,
        max_chars: int = 20_000,
        encoding: str = "utf-8",
        format: str | None = None,
        columns: Sequence[str] | None = None,
        rejects: RejectsWriter | None = None,
        skip_rows: int = 0,
        row_id_prefix: str | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"input file {self.path} does not exist")
        if chunk_rows < 1 or max_chars < 1:
            raise ValueError("chunk_rows and max_chars must be positive")
        self.format = format or detect_format(self.path)
        if self.format not in FORMATS:
            raise InputError(f"unknown format {self.format!r}; use one of {', '.join(FORMATS)}")
        self.text_column = text_column
        self.id_column = id_column
        self.chunk_rows = chunk_rows
        self.max_chars = max_chars
        self.columns = list(columns) if columns else None
        self.rejects = rejects
        self.skip_rows = skip_rows
        self.row_id_prefix = row_id_prefix
        encoding_used = encoding if self.format == "parquet" else sniff_encoding(self.path, encoding)
        if encoding_used != encoding:
            log.warning("%s is not valid %s; reading it as latin-1 — check the text for mojibake", self.path, encoding)
        self.summary = ReadSummary(str(self.path), self.format, encoding_used)
        self._seen_ids: dict[str, int] = {}
        self._derive_ids = False

    # -- validation ---------------------------------------------------------------------------------

    def _check_columns(self, found: Sequence[str]) -> None:
        if self.text_column not in found:
            raise InputError(
                f"{self.path}: text column {self.text_column!r} not found; columns found: {', '.join(map(str, found))}. "
                "Set io.text_column in params.yaml or pass --text-column."
            )
        if self.id_column is None or self.id_column not in found:
            if self.id_column is not None and self.row_id_prefix is None:
                log.warning("%s has no id column %r; deriving stable ids from the text", self.path, self.id_column)
            self._derive_ids = True

    def _reject(self, row: int, reason: str, raw: str) -> None:
        self.summary.rejected += 1
        self.summary.reasons[reason.split(":")[0]] += 1
        if self.rejects is not None:
            self.rejects.write(str(self.path), row, reason, raw)

    def _validate(self, row: int, record: dict[str, Any], raw: str) -> dict[str, Any] | None:
        text = record.get(self.text_column)
        if text is None or (isinstance(text, float) and pd.isna(text)):
            text = ""
        if not isinstance(text, str):
            text = str(text)
        if _has_surrogate(text):
            self._reject(row, "unreadable encoding: invalid UTF-8 bytes in text", raw)
            return None
        if not text.strip():
            self._reject(row, "empty text", raw)
            return None
        if len(text) > self.max_chars:
            self._reject(row, f"text too long: {len(text)} characters > limit {self.max_chars} (io.max_chars)", raw)
            return None
        if self._derive_ids:
            post_id = f"{self.row_id_prefix}{row}" if self.row_id_prefix is not None else stable_id(text)
        else:
            value = record.get(self.id_column)  # type: ignore[arg-type]
            post_id = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
            if not post_id:
                self._reject(row, "empty id", raw)
                return None
        first = self._seen_ids.get(post_id)
        if first is not None:
            self._reject(row, f"duplicate id: {post_id} (first seen at row {first})", raw)
            return None
        self._seen_ids[post_id] = row
        out = {k: v for k, v in record.items() if k not in (self.text_column, self.id_column)}
        out.update(id=post_id, text=text, row=row)
        return out

    # -- format readers -----------------------------------------------------------------------------

    def _text_stream(self) -> IO[str]:
        return io.TextIOWrapper(
            _open_binary(self.path), encoding=self.summary.encoding, errors="surrogateescape", newline=""
        )

    def _records_delimited(self, delimiter: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        with self._text_stream() as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            if self.columns:
                header = self.columns
            else:
                try:
                    header = [h.strip().lstrip("\ufeff") for h in next(reader)]
                except StopIteration:
                    header = []
                except csv.Error as exc:
                    raise InputError(f"{self.path}: cannot read the header row: {exc}") from None
            self._check_columns(header)
            n = len(header)
            row = 0
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    yield row, None, f"malformed row: {exc}"
                    continue
                row += 1
                if not fields or fields == [""]:
                    yield row, None, "empty row"
                    continue
                if len(fields) != n:
                    raw = delimiter.join(fields)
                    yield row, None, f"malformed row: expected {n} fields, got {len(fields)}\x00{raw}"
                    continue
                yield row, dict(zip(header, fields, strict=True)), ""

    def _records_jsonl(self) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        checked = False
        with self._text_stream() as fh:
            for row, line in enumerate(fh, start=1):
                if not line.strip():
                    yield row, None, f"empty row\x00{line}"
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield row, None, f"malformed row: invalid JSON ({exc.msg} at column {exc.colno})\x00{line}"
                    continue
                if not isinstance(obj, dict):
                    yield row, None, f"malformed row: expected a JSON object, got {type(obj).__name__}\x00{line}"
                    continue
                if not checked:
                    self._check_columns(list(obj))
                    checked = True
                yield row, obj, ""

    def _iter_parquet(self) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        self._check_columns(pf.schema_arrow.names)
        row = 0
        for batch in pf.iter_batches(batch_size=self.chunk_rows):
            frame = batch.to_pandas()
            records = frame.to_dict("records")
            kept = []
            for record in records:
                row += 1
                if row <= self.skip_rows:
                    continue
                self.summary.read += 1
                out = self._validate(row, record, "")
                if out is not None:
                    kept.append(out)
            yield self._finish(kept)

    # -- iteration ----------------------------------------------------------------------------------

    def _finish(self, kept: list[dict[str, Any]]) -> pd.DataFrame:
        self.summary.kept += len(kept)
        frame = pd.DataFrame.from_records(kept)
        if frame.empty:
            frame = pd.DataFrame({"id": pd.Series(dtype=str), "text": pd.Series(dtype=str), "row": pd.Series(dtype=int)})
        front = ["id", "text", "row"]
        return frame[front + [c for c in frame.columns if c not in front]]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self.format == "parquet":
            yield from self._iter_parquet()
            return
        records = self._records_jsonl() if self.format == "jsonl" else self._records_delimited(
            "\t" if self.format == "tsv" else ","
        )
        kept: list[dict[str, Any]] = []
        for row, record, problem in records:
            if row <= self.skip_rows:
                continue
            self.summary.read += 1
            if record is None:
                reason, _, raw = problem.partition("\x00")
                self._reject(row, reason, raw)
            else:
                raw = json.dumps(record, ensure_ascii=False) if self.rejects is not None else ""
                out = self._validate(row, record, raw)
                if out is not None:
                    kept.append(out)
            if len(kept) >= self.chunk_rows:
                yield self._finish(kept)
                kept = []
        if kept or self.summary.kept == 0:
            yield self._finish(kept)


def _has_surrogate(text: str) -> bool:
    # Undecodable bytes surface as lone surrogates through errors="surrogateescape".
    return not text.isascii() and any("\udc80" <= ch <= "\udcff" for ch in text)


def read_posts(path: str | os.PathLike[str], **options: Any) -> PostReader:
    """Open ``path`` for streaming; iterate the result for validated chunks (see :class:`PostReader`)."""
    return PostReader(path, **options)


def read_all(path: str | os.PathLike[str], **options: Any) -> tuple[pd.DataFrame, ReadSummary]:
    """Read a (small) file whole through the same validation; returns the frame and the summary."""
    reader = PostReader(path, **options)
    frames = list(reader)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["id", "text", "row"])
    return frame, reader.summary
