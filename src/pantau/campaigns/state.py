"""Save a campaign index to one file and load it again, so a nightly job continues where it stopped.

The file is a NumPy ``.npz`` (no pickle): the live posts' signatures as a ``uint32`` matrix, their
sequence numbers, clusters and times as arrays, and everything else (settings, post ids, accounts, clusters'
campaigns, campaign records, counters) as one JSON document. The LSH index is rebuilt from the signatures
on load. It is written through a temporary file and a rename, so a crash never leaves half a state.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pantau.campaigns.clusters import CampaignRecord, Cluster, PostInfo
from pantau.campaigns.index import CampaignIndex
from pantau.campaigns.signature import HASH, SCHEME
from pantau.config import CampaignSettings
from pantau.text import PREPROCESSING_VERSION

FORMAT = "pantau.campaigns/1"
TEXT_VERSION = PREPROCESSING_VERSION["transformer"]  # the normaliser the default index shingles after
# settings a saved index's signatures depend on: changing one makes old and new posts incomparable
SIGNATURE_FIELDS = ("num_perm", "shingle_unit", "shingle_size", "min_tokens")


class CampaignStateError(ValueError):
    """A saved campaign index cannot be loaded (wrong format, or settings its signatures do not fit)."""


def save_index(index: CampaignIndex, path: str | os.PathLike[str]) -> Path:
    """Write the index's whole state to ``path`` (``.npz``) atomically; returns the path."""
    book = index._book
    seqs = list(index._posts)
    infos = [index._posts[s] for s in seqs]
    meta = {
        "format": FORMAT,
        "text_version": TEXT_VERSION,
        "scheme": SCHEME,
        "hash": HASH,
        "seed": index._signer.seed,
        "settings": dataclasses.asdict(index.settings),
        "next_seq": index._next_seq,
        "watermark": index.watermark,
        "totals": index.totals,
        "post_ids": [index._ids[s] for s in seqs],
        "accounts": [i.account for i in infos],
        "next_cluster": book.next_cluster,
        "next_campaign": book.next_campaign,
        "cluster_campaigns": {str(c.cluster_id): c.campaign for c in book.clusters.values()},
        "campaigns": [
            {**dataclasses.asdict(r), "accounts": sorted(r.accounts)} for r in book.campaigns.values()
        ],
    }
    num_perm = index.settings.num_perm
    hashes = np.array([index._hashes[s] for s in seqs], dtype=np.uint32).reshape(len(seqs), num_perm)
    arrays = {
        "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        "seq": np.array(seqs, dtype=np.int64),
        "cluster": np.array([-1 if i.cluster is None else i.cluster for i in infos], dtype=np.int64),
        "posted_at": np.array(
            [np.nan if i.posted_at is None else i.posted_at for i in infos], dtype=np.float64
        ),
        "hashes": hashes,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, target)
    return target


def load_index(
    path: str | os.PathLike[str],
    settings: CampaignSettings | None = None,
    *,
    normalise: Callable[[str], str] | None = None,
) -> CampaignIndex:
    """Load a saved index. ``settings`` (default: the saved ones) may change the threshold, window,
    ``min_accounts`` and ``max_posts``; a different signature setting (num_perm, shingles, min_tokens) or
    text normaliser version raises :class:`CampaignStateError`."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("meta", "seq", "cluster", "posted_at", "hashes")}
    except (OSError, ValueError, KeyError) as exc:
        raise CampaignStateError(f"{path}: not a saved campaign index ({exc})") from None
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    if meta.get("format") != FORMAT:
        raise CampaignStateError(f"{path}: format {meta.get('format')!r}, expected {FORMAT}")
    saved = CampaignSettings(**meta["settings"])
    settings = settings or saved
    changed = [f for f in SIGNATURE_FIELDS if getattr(settings, f) != getattr(saved, f)]
    if changed:
        raise CampaignStateError(
            f"{path}: saved with different {', '.join(f'{f}={getattr(saved, f)!r}' for f in changed)}; "
            "start a new index for the new settings"
        )
    signed = (meta["text_version"], meta["scheme"], meta.get("hash"))
    if signed != (TEXT_VERSION, SCHEME, HASH):
        raise CampaignStateError(
            f"{path}: signed with text/MinHash/hash {' / '.join(map(str, signed))}, "
            f"this version uses {TEXT_VERSION} / {SCHEME} / {HASH}; start a new index"
        )
    index = CampaignIndex(settings, normalise=normalise)
    book = index._book
    book.next_cluster = meta["next_cluster"]
    book.next_campaign = meta["next_campaign"]
    for raw in meta["campaigns"]:
        record = CampaignRecord(**{**raw, "accounts": set(raw["accounts"])})
        book.campaigns[record.campaign_id] = record
    for cid, campaign in meta["cluster_campaigns"].items():
        book.clusters[int(cid)] = Cluster(int(cid), campaign=campaign)
        if campaign is not None:
            book.live_cluster[campaign] = int(cid)
    for i, seq in enumerate(arrays["seq"].tolist()):
        t = float(arrays["posted_at"][i])
        cluster = int(arrays["cluster"][i])
        info = PostInfo(meta["accounts"][i], None if np.isnan(t) else t, None if cluster < 0 else cluster)
        index._restore(seq, meta["post_ids"][i], info, arrays["hashes"][i].copy())
        if info.cluster is not None:
            c = book.clusters[info.cluster]
            c.members.add(seq)
            if info.account is None:
                c.without_account += 1
            else:
                c.accounts[info.account] += 1
            if info.posted_at is None:
                c.without_time += 1
    heapq.heapify(index._expiry)
    index._next_seq = meta["next_seq"]
    index.watermark = meta["watermark"]
    index.totals = dict(meta["totals"])
    return index
