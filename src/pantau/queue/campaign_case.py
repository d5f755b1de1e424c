"""Campaign case files (issue 18 §4): a coordinated-posting campaign, as a lead hands it on, in one
JSON-ready dict.

A campaign case file is the campaign's summary (shared text, accounts, time span, what its evidence
lacks) and every one of its queued posts read exactly as a per-item case file reads it
(:func:`pantau.queue.casefile.item_evidence`: the post as captured with its SHA-256, the model's output
marked as such, each person's decision with the labels and Pasal 280 clauses *they* chose, and the audit
trail). Posts that are still open or were decided ``no_violation`` stay in it with their status, so the
file shows the whole campaign and never counts a post as a violation nobody confirmed.

Rendering (PDF) lives in the web layer; this module only reads the store.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import Engine

from pantau.queue.campaigns_store import CampaignView, get_campaign, shared_text
from pantau.queue.casefile import (
    CASE_ACTIONS,
    FORMAT_VERSION,
    NOT_AVAILABLE,
    NotACase,
    content_hash,
    item_evidence,
)
from pantau.queue.models import utcnow
from pantau.queue.schemas import iso

CASE_NOTE = (
    "Hanya pos yang diputus peringatan/turunkan oleh peninjau adalah pelanggaran; pos lain dicantumkan "
    "dengan statusnya (only posts a reviewer decided warn/takedown are violations; the others are listed "
    "with their status)"
)


def posts_digest(hashes: list[tuple[str, str]]) -> str:
    """SHA-256 over ``post_id:sha256`` lines in the file's order: one value that attests the whole set."""
    lines = "".join(f"{post_id}:{digest}\n" for post_id, digest in hashes)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _missing(view: CampaignView) -> list[str]:
    """What the campaign's evidence lacks, in words: the index's counts and the queued posts' own gaps."""
    out = list(view.missing)
    no_account = sum(1 for i in view.items if not i.author)
    no_time = sum(1 for i in view.items if i.created_at is None)
    if no_account:
        out.append(f"{no_account} pos di antrean tanpa akun (queued post(s) without an account)")
    if no_time:
        out.append(f"{no_time} pos di antrean tanpa waktu posting (queued post(s) without a posting time)")
    if not view.accounts:
        out.append("akun kampanye tidak diketahui (the campaign's accounts are unknown)")
    if view.first_seen is None:
        out.append("rentang waktu tidak diketahui (the campaign's time span is unknown)")
    return out


def campaign_case_file(engine: Engine, campaign_id: int) -> dict[str, Any]:
    """The case file of a campaign at least one of whose posts a person decided warn or takedown.

    Raises :class:`~pantau.queue.errors.NotFound` for no such campaign and :class:`NotACase` (409) for
    one with no such decision yet."""
    view = get_campaign(engine, campaign_id)
    violations = [i.id for i in view.items if i.action in CASE_ACTIONS]
    if not violations:
        raise NotACase(
            f"kampanye {campaign_id} belum punya pos yang diputus peringatan/turunkan "
            f"(campaign {campaign_id} has no post decided warn/takedown yet: {len(view.items)} queued post(s))"
        )
    posts = [item_evidence(engine, i.id) for i in view.items]
    counts = Counter(p["final_action"] or p["status"] for p in posts)
    times = [i.created_at for i in view.items if i.created_at is not None]
    queued_accounts = sorted({i.author for i in view.items if i.author})
    return {
        "format": "pantau.campaign_case_file",
        "format_version": FORMAT_VERSION,
        "generated_at": iso(utcnow()),
        "campaign": {
            "id": view.id,
            "key": view.key,
            "basis": view.basis,
            "shared_text": shared_text(view),
            "shared_text_sha256": content_hash(shared_text(view)),
            "posts_found": view.posts_total,
            "posts_in_queue": len(view.items),
            "posts_without_account": view.posts_without_account,
            "posts_without_time": view.posts_without_time,
        },
        "accounts": {
            "campaign": list(view.accounts),  # every account the index found, queued or not
            "in_queue": queued_accounts,
        },
        "time_span": {
            "first_seen": iso(view.first_seen) if view.first_seen is not None else None,
            "last_seen": iso(view.last_seen) if view.last_seen is not None else None,
            "first_queued_post": iso(min(times)) if times else None,
            "last_queued_post": iso(max(times)) if times else None,
        },
        "counts": dict(sorted(counts.items())),
        "violations": violations,
        "note": CASE_NOTE,
        "posts": posts,
        "posts_sha256": posts_digest([(p["post"]["post_id"], p["post"]["sha256"]) for p in posts]),
        "posts_sha256_of": "SHA-256 of the lines 'post_id:sha256' of the posts above, in this order, UTF-8",
        "missing": _missing(view),
        "not_available": NOT_AVAILABLE,
    }


__all__ = ["CASE_NOTE", "campaign_case_file", "posts_digest"]
