"""Coordinated posting: near-duplicate posts pushed by many accounts within a time window ("buzzer" campaigns).

MinHash/LSH (datasketch) over pantau.text's normalised words, incremental batch by batch
(:class:`CampaignIndex`), with the window's state saved and loaded (:func:`save_index`, :func:`load_index`).
Thresholds come from ``params.yaml``'s ``campaigns:`` block (:class:`pantau.config.CampaignSettings`).
"""

from pantau.campaigns.index import CampaignIndex
from pantau.campaigns.posts import CampaignPost, as_post, to_epoch
from pantau.campaigns.results import (
    ACCOUNTS_UNKNOWN,
    STATUSES,
    TIMES_UNKNOWN,
    Assignment,
    BatchResult,
    Campaign,
)
from pantau.campaigns.shingles import shingles, words
from pantau.campaigns.signature import Signer, similarity
from pantau.campaigns.state import CampaignStateError, load_index, save_index

__all__ = [
    "ACCOUNTS_UNKNOWN",
    "STATUSES",
    "TIMES_UNKNOWN",
    "Assignment",
    "BatchResult",
    "Campaign",
    "CampaignIndex",
    "CampaignPost",
    "CampaignStateError",
    "Signer",
    "as_post",
    "load_index",
    "save_index",
    "shingles",
    "similarity",
    "to_epoch",
    "words",
]
