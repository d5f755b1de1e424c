"""Streaming readers for posts: CSV, TSV, JSONL and Parquet, validated row by row.

Files are read in chunks of ``chunk_rows`` rows, so a 10 GB file never sits in memory. Every input row
ends up either in a yielded chunk or in the rejects file with its row number and reason — nothing is
silently dropped. Decoding is per row: UTF-8 (or the configured ``encoding``; a UTF-8/UTF-16 BOM or
BOM-less UTF-16 is detected), and a row whose bytes do not decode is rejected on its own — a file is
never switched to another encoding by a sniff. A damaged gzip (truncated, bad CRC) keeps its readable
rows; the rest is one reject naming the file and the row it broke after. Text must be a string (Parquet
bytes are decoded as UTF-8); lists, objects, numbers and booleans are rejected, not scored as reprs.
Ids are unique per reader, or across a whole run when the caller passes one :class:`IdIndex`.

Blank lines are not posts: a line with nothing but whitespace (or delimiters), or a record whose every
field is empty, is skipped and counted in :attr:`ReadSummary.blank` — not read, not rejected. A row that
has content but no text (an id and an empty or whitespace-only text) is a post that cannot be scored:
rejected with the reason ``empty text``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import sys
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import pandas as pd

from pantau.io.decoding import STREAM_ERRORS, detect_encoding, open_binary, stream_error_reason
from pantau.io.ids import IdIndex
from pantau.io.rejects import ReadSummary, RejectsWriter

log = logging.getLogger(__name__)

FORMATS = ("csv", "tsv", "jsonl", "parquet")
_LOOKAHEAD = 100  # JSONL objects whose keys decide the columns (not the first object alone)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Record = tuple[int, dict[str, Any] | None, str]
T = TypeVar("T")


class InputError(ValueError):
    """The input cannot be read at all (missing file, unknown format, missing columns)."""


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format implied by a file name (``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.parquet``, optionally ``.gz``)."""
    name = Path(path).name.lower().removesuffix(".gz")
    for suffix, fmt in ((".csv", "csv"), (".tsv", "tsv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                        (".json", "jsonl"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise InputError(
        f"cannot tell the format of {path}: use a .csv, .tsv, .jsonl or .parquet file (optionally .gz)"
    )


def stable_id(text: str) -> str:
    """A stable id for a post without one: a hash of its text."""
    return "h" + hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def text_hash(text: str) -> str:
    """A hash of the exact text, stored with predictions so a changed post is noticed."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def shorten(items: Sequence[Any], *, limit: int = 300) -> str:
    """``items`` joined for a message, cut at ``limit`` characters (a 50 MB header is not echoed)."""
    text = ", ".join(map(str, items))
    return text if len(text) <= limit else f"{text[:limit]}… ({len(items)} columns)"


def _type_name(value: Any) -> str:
    return {list: "a list", dict: "an object", bool: "a boolean", tuple: "a list"}.get(
        type(value), f"a {type(value).__name__}"
    )


class PostReader:
    """Iterate over validated chunks of posts from one file.

    Each chunk is a DataFrame with ``id``, ``text``, ``row`` (1-based data row number in the file) and
    every other column of the file. Read :attr:`summary` after iterating. The columns named by
    ``author_column``, ``url_column`` and ``time_column`` arrive as ``author``, ``url`` and ``created_at``;
    :attr:`found_columns` says (after the header is read) which of the three the file has.

    Without an id column, ids are derived: ``row_id_prefix + row number`` when a prefix is given (for
    corpora, where duplicate texts must survive to be counted), else a hash of the text (for posts, where
    the same text twice is the same post). ``seen_ids`` shares duplicate detection between readers.

    Resuming: rows ``1 … skip_rows`` are skipped, except ``redo_rows`` (rows consumed earlier whose posts
    were never committed: a run stopped by SIGTERM in the middle of a chunk), which are read again.
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
        seen_ids: IdIndex | None = None,
        redo_rows: Collection[int] = (),
        author_column: str | None = "author",
        url_column: str | None = "url",
        time_column: str | None = "created_at",
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"input file {self.path} does not exist")
        if not self.path.is_file():
            raise InputError(f"input {self.path} is not a file")
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
        self.redo_rows = frozenset(redo_rows)
        self.row_id_prefix = row_id_prefix
        used = encoding if self.format == "parquet" else detect_encoding(self.path, encoding)
        self.summary = ReadSummary(str(self.path), self.format, used)
        self._seen = seen_ids if seen_ids is not None else IdIndex()
        self._derive_ids = False
        # Who posted, where and when: the file's columns read into these names (issue 18 §1).
        self.post_columns = {
            name: column
            for name, column in (("author", author_column), ("url", url_column), ("created_at", time_column))
            if column
        }
        self.found_columns: dict[str, bool] = {}  # author/url/created_at -> whether the file has it

    # -- validation ---------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise :class:`InputError` when the file cannot be scored at all (empty, no text column),
        reading only its header (or first objects); nothing is counted or rejected."""
        rejects, self.rejects = self.rejects, None
        try:
            if self.format == "parquet":
                self._parquet_file()
            else:
                next(self._records(), None)
        finally:
            self.rejects = rejects
            self.summary = ReadSummary(self.summary.path, self.summary.format, self.summary.encoding)

    def _check_columns(self, found: Sequence[str]) -> None:
        self.found_columns = {name: column in found for name, column in self.post_columns.items()}
        if not found:
            raise InputError(f"{self.path} is empty (no header row and no posts); remove it from the inputs")
        if self.text_column not in found:
            raise InputError(
                f"{self.path}: text column {self.text_column!r} not found; columns found: {shorten(found)}. "
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
        if isinstance(text, bytes | bytearray):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                self._reject(row, "unreadable encoding: text bytes are not valid UTF-8", raw)
                return None
        if text is None or (isinstance(text, float) and pd.isna(text)):
            text = ""
        if not isinstance(text, str):
            self._reject(row, f"wrong type: text is {_type_name(text)}, expected a string", raw)
            return None
        if _has_surrogate(text):
            self._reject(row, f"unreadable encoding: text is not valid {self.summary.encoding} "
                              "(re-encode the file, or set io.encoding if the whole file uses another)", raw)
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
            if isinstance(value, bytes | bytearray):
                value = bytes(value).decode("utf-8", "surrogateescape")
            if isinstance(value, bool | list | dict | tuple):
                self._reject(row, f"wrong type: id is {_type_name(value)}, expected a string or integer", raw)
                return None
            post_id = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
            if not post_id:
                self._reject(row, "empty id", raw)
                return None
            if _has_surrogate(post_id):
                self._reject(row, "unreadable encoding: id is not valid UTF-8", raw)
                return None
        if not self._seen.add(post_id):
            self._reject(row, f"duplicate id: {post_id} (seen earlier in this run)", raw)
            return None
        out = {k: v for k, v in record.items() if k not in (self.text_column, self.id_column)}
        for name, column in self.post_columns.items():
            if column != name and column in out:
                out[name] = out.pop(column)
        out.update(id=post_id, text=text, row=row)
        return out

    # -- format readers -----------------------------------------------------------------------------

    def _text_stream(self) -> IO[str]:
        return io.TextIOWrapper(
            open_binary(self.path), encoding=self.summary.encoding, errors="surrogateescape", newline=""
        )

    def _records(self) -> Iterator[Record]:
        if self.format == "jsonl":
            return self._records_jsonl()
        return self._records_delimited("\t" if self.format == "tsv" else ",")

    def _records_delimited(self, delimiter: str) -> Iterator[Record]:
        with self._text_stream() as fh:
            # strict: an unclosed quote at the end of the file is an error, not a silent merge of rows.
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            if self.columns:
                header = self.columns
            else:
                try:
                    header = [h.strip().lstrip("\ufeff") for h in next(reader)]
                except StopIteration:
                    header = []
                except csv.Error as exc:
                    raise InputError(f"{self.path}: cannot read the header row: {exc}") from None
                except STREAM_ERRORS as exc:
                    raise InputError(f"{self.path}: {stream_error_reason(exc, 0)}") from None
            self._check_columns(header)
            n = len(header)
            row = 0
            line = reader.line_num  # the physical line the next row starts after
            for fields in _guarded(reader, csv.Error):
                if isinstance(fields, BaseException) and not isinstance(fields, csv.Error):
                    yield row + 1, None, stream_error_reason(fields, row)
                    break
                row += 1
                if isinstance(fields, csv.Error):
                    if "unexpected end of data" in str(fields):
                        yield row, None, (f"unterminated quote from row {row} (line {line + 1}): the rest of "
                                          "the file is inside one quoted field; close the quote and rerun")
                        break
                    yield row, None, f"malformed row: {fields}"
                    line = reader.line_num
                    continue
                line = reader.line_num
                if all(not f.strip() for f in fields):
                    yield row, {}, ""  # a blank line (or only delimiters): not a post
                    continue
                if len(fields) != n:
                    raw = delimiter.join(fields)
                    yield row, None, f"malformed row: expected {n} fields, got {len(fields)}\x00{raw}"
                    continue
                yield row, dict(zip(header, fields, strict=True)), ""

    def _records_jsonl(self) -> Iterator[Record]:
        ahead: list[Record] = []
        records = self._parse_jsonl()
        for item in records:
            ahead.append(item)
            if len(ahead) >= _LOOKAHEAD:
                break
        objects = [r for _, r, _ in ahead if r is not None]
        if not ahead:
            self._check_columns([])
        if objects:
            keys = list(dict.fromkeys(k for r in objects for k in r))
            self._check_columns(keys)
        yield from ahead
        yield from records

    def _parse_jsonl(self) -> Iterator[Record]:
        with self._text_stream() as fh:
            row = 0
            for line in _guarded(fh):
                if isinstance(line, BaseException):
                    yield row + 1, None, stream_error_reason(line, row)
                    break
                row += 1
                if row == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    yield row, {}, ""  # a blank line: not a post
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield row, None, f"malformed row: invalid JSON ({exc.msg} at column {exc.colno})\x00{line}"
                    continue
                if not isinstance(obj, dict):
                    yield row, None, f"malformed row: expected a JSON object, got {type(obj).__name__}\x00{line}"
                    continue
                yield row, obj, ""

    def _parquet_file(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{self.path} is not a readable Parquet file ({exc})") from None
        self._check_columns(pf.schema_arrow.names)
        return pf

    def _iter_parquet(self) -> Iterator[pd.DataFrame]:
        pf = self._parquet_file()
        row = 0
        for batch in pf.iter_batches(batch_size=self.chunk_rows):
            kept = []
            # Python values, not pandas: integer ids with nulls stay integers, bytes stay bytes.
            for record in batch.to_pylist():
                row += 1
                out = self._take(row, record, "")
                if out is not None:
                    kept.append(out)
            yield self._finish(kept)

    # -- iteration ----------------------------------------------------------------------------------

    def _take(self, row: int, record: dict[str, Any] | None, problem: str) -> dict[str, Any] | None:
        """One row of the file: skipped (resumed past, blank), rejected, or returned as a valid post."""
        if row <= self.skip_rows and row not in self.redo_rows:
            return None
        self.summary.last_row = max(self.summary.last_row, row)
        if record is not None and _is_blank(record):
            self.summary.blank += 1
            return None
        self.summary.read += 1
        if record is None:
            reason, _, raw = problem.partition("\x00")
            self._reject(row, reason, raw)
            return None
        raw = json.dumps(record, ensure_ascii=False, default=repr) if self.rejects is not None else ""
        return self._validate(row, record, raw)

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
        kept: list[dict[str, Any]] = []
        for row, record, problem in self._records():
            out = self._take(row, record, problem)
            if out is not None:
                kept.append(out)
            if len(kept) >= self.chunk_rows:
                yield self._finish(kept)
                kept = []
        if kept or self.summary.kept == 0:
            yield self._finish(kept)


def _guarded(items: Iterator[T], recoverable: type[Exception] | None = None) -> Iterator[T | BaseException]:
    """``items``, with a ``recoverable`` error (a malformed CSV row) yielded in its item's place, and a
    broken stream (damaged gzip, undecodable UTF-16) yielded once as the last item."""
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except STREAM_ERRORS as exc:
            yield exc
            return
        except Exception as exc:
            if recoverable is None or not isinstance(exc, recoverable):
                raise
            yield exc
            continue
        yield item


def _is_blank(record: dict[str, Any]) -> bool:
    # A row with nothing in it: every field missing, null or whitespace (``{}`` for a blank line).
    return all(v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and pd.isna(v))
               for v in record.values())


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
