"""The incremental campaign index: batches of scored posts in, a campaign id (or none) per post out.

Each post is normalised and shingled (:mod:`.shingles`), signed with MinHash (:mod:`.signature`) and looked
up in a datasketch ``MinHashLSH`` of the posts in the window: only posts sharing an LSH band come back as
candidates (no all-pairs pass), and a candidate counts as a near-duplicate when the signatures' estimated
Jaccard similarity reaches ``threshold``. Matches link the post into a cluster (:mod:`.clusters`).

The window follows the newest posting time seen (the watermark): a post older than
``watermark - window_hours`` leaves the LSH index and its cluster, so two posts further apart than the
window are never linked, and memory is bounded by the posts in one window. A post arriving already older
than the window is reported ``late`` and not clustered. Posts without a time match posts of any time and
leave only by ``max_posts`` (oldest arrival first); the batch result says so.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from datasketch import MinHashLSH

from pantau.campaigns.clusters import ClusterBook, PostInfo
from pantau.campaigns.posts import CampaignPost, as_post
from pantau.campaigns.results import (
    CAMPAIGN,
    CLUSTER,
    LATE,
    SEEN,
    TOO_SHORT,
    UNIQUE,
    Assignment,
    BatchResult,
    Campaign,
    batch_notes,
)
from pantau.campaigns.shingles import default_normalise, shingles, words
from pantau.campaigns.signature import Signer, similarity
from pantau.config import CampaignSettings

# LSH bands chosen to miss fewer true pairs than they let false ones through: candidates are checked
# against the threshold afterwards, so a false candidate costs one comparison, a missed pair is lost.
LSH_WEIGHTS = (0.3, 0.7)

PostLike = CampaignPost | Mapping[str, Any] | tuple[Any, ...]


class CampaignIndex:
    """Near-duplicate campaigns across accounts within a time window, built batch by batch.

    ``normalise`` defaults to pantau.text's shared normaliser; save and load with
    :func:`pantau.campaigns.save_index` / :func:`pantau.campaigns.load_index`.
    """

    def __init__(
        self, settings: CampaignSettings | None = None, *, normalise: Callable[[str], str] | None = None
    ):
        self.settings = settings or CampaignSettings()
        self._normalise = normalise or default_normalise()
        self._signer = Signer(self.settings.num_perm)
        self._lsh = MinHashLSH(
            threshold=self.settings.threshold, num_perm=self.settings.num_perm, weights=LSH_WEIGHTS
        )
        self._book = ClusterBook(self.settings.min_accounts)
        self._posts: dict[int, PostInfo] = {}  # live posts by sequence number, in arrival order
        self._ids: dict[int, str] = {}  # sequence number -> post id
        self._seq_of: dict[str, int] = {}  # post id -> sequence number
        self._hashes: dict[int, np.ndarray] = {}
        self._expiry: list[tuple[float, int]] = []  # (posted_at, seq) heap of live timed posts
        self._next_seq = 0
        self.watermark: float | None = None  # newest posting time seen
        self.totals: dict[str, int] = {}  # counts over the index's life (posts, campaign, late, ...)
        self._batch: dict[int, tuple[str, str | None]] = {}  # this batch's posts -> outcome if they leave

    # -- public -----------------------------------------------------------------------------------------
    def add(self, posts: Iterable[PostLike]) -> BatchResult:
        """Index a batch of posts in order; returns each one's assignment and the campaigns it touched.

        Assignments are final for this batch (a post linked into a campaign later in the same batch says
        so); earlier batches' posts that join a campaign now are listed in the campaigns' ``post_ids``.
        """
        book = self._book
        book.reset_batch()
        self._batch = {}
        counts: dict[str, int] = {
            "posts": 0,
            "without_time": 0,
            "without_account": 0,
            "evicted": 0,
            "expired": 0,
        }
        outcome: list[tuple[str, str, int | None]] = []  # post id, status, seq (indexed posts)
        window = self.settings.window_hours * 3600.0
        for raw in posts:
            post = as_post(raw)
            counts["posts"] += 1
            if post.post_id in self._seq_of:
                outcome.append((post.post_id, SEEN, self._seq_of[post.post_id]))
                continue
            if post.account is None:
                counts["without_account"] += 1
            t = post.posted_at
            if t is None:
                counts["without_time"] += 1
            else:
                if self.watermark is not None and t < self.watermark - window:
                    outcome.append((post.post_id, LATE, None))
                    continue
                if self.watermark is None or t > self.watermark:
                    self.watermark = t
                    counts["expired"] += self._expire(self.watermark - window)
            tokens = words(self._normalise(post.text))
            if len(tokens) < self.settings.min_tokens:
                outcome.append((post.post_id, TOO_SHORT, None))
                continue
            seq = self._insert(post, tokens)
            self._batch[seq] = (UNIQUE, None)
            outcome.append((post.post_id, UNIQUE, seq))
            while len(self._posts) > self.settings.max_posts:
                self._drop(next(iter(self._posts)))
                counts["evicted"] += 1
        assignments = []
        for post_id, status, seq in outcome:
            campaign = None
            if seq is not None and seq not in self._posts and status != SEEN:
                status, campaign = self._batch[seq]  # left the window later in this batch
            elif seq is not None and seq in self._posts:
                info = self._posts[seq]
                campaign = book.campaign_of(info)
                if status != SEEN:
                    status = CAMPAIGN if campaign else CLUSTER if info.cluster is not None else UNIQUE
            counts[status] = counts.get(status, 0) + 1
            assignments.append(Assignment(post_id, status, campaign))
        for key, value in counts.items():
            self.totals[key] = self.totals.get(key, 0) + value
        touched = sorted(c for c in book.touched if book.campaigns[c].merged_into is None)
        return BatchResult(
            assignments=tuple(assignments),
            campaigns=tuple(self.campaign(c) for c in touched),
            merged=dict(book.merged),
            counts=counts,
            notes=batch_notes(counts),
        )

    def campaign(self, campaign_id: str) -> Campaign:
        """A campaign's summary now (an id that merged into another gives the one it joined)."""
        record = self._book.campaigns[self._book.resolve(campaign_id)]
        live = self._book.live_members(record.campaign_id)
        return Campaign(
            campaign_id=record.campaign_id,
            post_ids=tuple(self._ids[s] for s in sorted(live)),
            accounts=tuple(sorted(record.accounts)),
            posts_total=record.posts_total,
            posts_without_account=record.without_account,
            posts_without_time=record.without_time,
            first_seen=record.first_seen,
            last_seen=record.last_seen,
            basis=record.basis,
        )

    def campaigns(self) -> list[Campaign]:
        """Every campaign found so far (merged ids left out), oldest first."""
        return [self.campaign(c) for c, r in self._book.campaigns.items() if r.merged_into is None]

    def campaign_of(self, post_id: str) -> str | None:
        """The campaign of a post still in the index, else None."""
        seq = self._seq_of.get(post_id)
        return None if seq is None else self._book.campaign_of(self._posts[seq])

    def __len__(self) -> int:
        """Posts in the index (the current window)."""
        return len(self._posts)

    # -- internals --------------------------------------------------------------------------------------
    def _insert(self, post: CampaignPost, tokens: list[str]) -> int:
        hv = self._signer.sign(shingles(tokens, self.settings.shingle_unit, self.settings.shingle_size))
        seq = self._next_seq
        self._next_seq += 1
        lean = self._signer.lean(hv)
        threshold = self.settings.threshold
        partners = sorted(c for c in self._lsh.query(lean) if similarity(hv, self._hashes[c]) >= threshold)
        info = PostInfo(post.account, post.posted_at)
        self._restore(seq, post.post_id, info, hv, lean)
        self._book.join(seq, info, partners, self._posts)
        return seq

    def _restore(self, seq: int, post_id: str, info: PostInfo, hv: np.ndarray, lean: Any = None) -> None:
        """Add a signed post to the window's tables and the LSH index (no matching; load uses it too)."""
        self._posts[seq] = info
        self._ids[seq] = post_id
        self._seq_of[post_id] = seq
        self._hashes[seq] = hv
        self._lsh.insert(seq, lean if lean is not None else self._signer.lean(hv), check_duplication=False)
        if info.posted_at is not None:
            heapq.heappush(self._expiry, (info.posted_at, seq))

    def _expire(self, start: float) -> int:
        """Drop every post posted before ``start``; returns how many left."""
        gone = 0
        while self._expiry and self._expiry[0][0] < start:
            _, seq = heapq.heappop(self._expiry)
            if seq in self._posts:
                self._drop(seq)
                gone += 1
        return gone

    def _drop(self, seq: int) -> None:
        if seq in self._batch:  # keep what this batch's post became before it leaves
            info = self._posts[seq]
            campaign = self._book.campaign_of(info)
            self._batch[seq] = (
                CAMPAIGN if campaign else CLUSTER if info.cluster is not None else UNIQUE,
                campaign,
            )
        info = self._posts.pop(seq)
        self._lsh.remove(seq)
        del self._hashes[seq]
        del self._seq_of[self._ids.pop(seq)]
        self._book.remove(seq, info)
