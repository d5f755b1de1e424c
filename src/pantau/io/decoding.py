"""Opening an input: gzip by its magic bytes (any case of ``.gz``), the encoding by its BOM, and the
errors a damaged compressed stream raises part-way (truncated gzip, bad CRC)."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import IO

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 4 * 1024 * 1024

# What reading a damaged stream raises part-way; the reader turns it into one reject for the rest.
STREAM_ERRORS: tuple[type[BaseException], ...] = (EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError)


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is gzip-compressed (by content, so ``.CSV.GZ`` and a missing suffix both work)."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_binary(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed when it is gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def detect_encoding(path: Path, preferred: str = "utf-8") -> str:
    """The codec to read ``path`` with: a BOM decides (UTF-8 or UTF-16), so does UTF-16 without one
    (NUL bytes in every other place); otherwise ``preferred``. Rows that do not decode are rejected
    one by one by the reader — a file is never switched to another encoding by a sniff."""
    try:
        with open_binary(path) as fh:
            head = fh.read(4)
    except STREAM_ERRORS:
        return preferred  # the reader reports the damage with the row it happened at
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return preferred


def stream_error_reason(exc: BaseException, row: int) -> str:
    """The reject reason for a stream that broke after ``row`` rows."""
    if isinstance(exc, EOFError):
        what = "truncated gzip"
    elif isinstance(exc, UnicodeDecodeError):
        what = "unreadable encoding"
    else:
        what = "corrupt gzip"
    return f"{what} after row {row}: {exc}; the rest of the file could not be read (re-copy or re-export it)"


def sniff_encoding(path: str | os.PathLike[str], preferred: str = "utf-8") -> str:
    """``preferred`` if the first 4 MiB decode with it, else ``latin-1`` (a hint for tools; the
    readers decode row by row and never use it)."""
    with open_binary(Path(path)) as fh:
        head = fh.read(_SNIFF_BYTES)
    try:
        head.decode(preferred) if len(head) < _SNIFF_BYTES else head[:-4].decode(preferred)
        return preferred
    except (UnicodeDecodeError, LookupError):
        return "latin-1"
