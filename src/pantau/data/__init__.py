"""Corpus loaders, deduplication and splits: every corpus becomes one labelled frame."""

from pantau.data.dedup import dedup_key, similarity_groups
from pantau.data.sources import (
    FRAME_COLUMNS,
    CorpusError,
    load_csv,
    load_ibrohim,
    load_reviewed,
    load_sample,
    repair_ibrohim_text,
)
from pantau.data.split import assign_splits, deduplicate

__all__ = [
    "FRAME_COLUMNS",
    "CorpusError",
    "assign_splits",
    "dedup_key",
    "deduplicate",
    "load_csv",
    "load_ibrohim",
    "load_reviewed",
    "load_sample",
    "repair_ibrohim_text",
    "similarity_groups",
]
