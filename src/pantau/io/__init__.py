"""Reading posts and writing outputs: validated streaming readers (:mod:`.readers`) and atomic writers
(:mod:`.atomic`). Import from here; the submodules are the implementation."""

from pantau.io.atomic import write_json_atomic, write_parquet_atomic
from pantau.io.decoding import sniff_encoding
from pantau.io.ids import IdIndex
from pantau.io.readers import (
    FORMATS,
    InputError,
    PostReader,
    detect_format,
    read_all,
    read_posts,
    shorten,
    stable_id,
    text_hash,
)
from pantau.io.rejects import REJECT_COLUMNS, ReadSummary, RejectsWriter

__all__ = [
    "FORMATS",
    "REJECT_COLUMNS",
    "IdIndex",
    "InputError",
    "PostReader",
    "ReadSummary",
    "RejectsWriter",
    "detect_format",
    "read_all",
    "read_posts",
    "shorten",
    "sniff_encoding",
    "stable_id",
    "text_hash",
    "write_json_atomic",
    "write_parquet_atomic",
]
