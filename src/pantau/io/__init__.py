"""Reading posts and writing outputs: validated streaming readers (:mod:`.readers`) and atomic writers
(:mod:`.atomic`). Import from here; the submodules are the implementation."""

from pantau.io.atomic import write_json_atomic, write_parquet_atomic
from pantau.io.readers import (
    FORMATS,
    REJECT_COLUMNS,
    InputError,
    PostReader,
    ReadSummary,
    RejectsWriter,
    detect_format,
    read_all,
    read_posts,
    sniff_encoding,
    stable_id,
    text_hash,
)

__all__ = [
    "FORMATS",
    "REJECT_COLUMNS",
    "InputError",
    "PostReader",
    "ReadSummary",
    "RejectsWriter",
    "detect_format",
    "read_all",
    "read_posts",
    "sniff_encoding",
    "stable_id",
    "text_hash",
    "write_json_atomic",
    "write_parquet_atomic",
]
