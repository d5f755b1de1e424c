"""Campaigns in the store (issue 18 §2): what a scoring run's campaign index found, linked to queue items,
read for the campaign page, and decided by a lead in one action.

A campaign's ``key`` is the run's token and the index's id (``3f2a9c1e-C000001``): each run folder keeps
one index, so the index's own ids repeat across folders and the token tells them apart.
:func:`record_campaigns` is idempotent (a resumed run that replays a chunk writes the same rows).
:func:`decide_campaign` records one lead decision (``kind='campaign'``) per open item through the same
function a lead's resolve and override use, all in one transaction: either every open item is decided or
none is, and each item's history and audit log still say who decided it, how, and as part of which campaign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import aliased

from pantau.queue.db import write_transaction
from pantau.queue.decisions import _require_lead, _was_reviewer, lead_decision_in
from pantau.queue.errors import Invalid, NotFound
from pantau.queue.models import Action, CampaignRow, Decision, DecisionKind, Item, Status, User, utcnow
from pantau.queue.schemas import DecisionIn

OPEN = (Status.PENDING, Status.CLAIMED, Status.ESCALATED)  # what a campaign decision decides


@dataclass(frozen=True)
class CampaignItem:
    """One queue item of a campaign, as the campaign page lists it."""

    id: int
    post_id: str
    text: str
    author: str | None
    url: str | None
    created_at: datetime | None
    risk: float
    status: str
    action: str | None  # the final decision's action, when decided
    decided_by: str | None
    decision_kind: str | None


@dataclass(frozen=True)
class CampaignView:
    """A campaign and its queue items (oldest post first)."""

    id: int
    key: str
    accounts: tuple[str, ...]
    posts_total: int
    posts_without_account: int
    posts_without_time: int
    first_seen: datetime | None
    last_seen: datetime | None
    basis: str
    items: tuple[CampaignItem, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """What the campaign's evidence lacks, in words (shown on its page)."""
        out = []
        if self.posts_without_account:
            out.append(f"{self.posts_without_account} post(s) without an account: counted by posts, accounts unknown")
        if self.posts_without_time:
            out.append(f"{self.posts_without_time} post(s) without a posting time: the time window was not applied")
        return tuple(out)


@dataclass(frozen=True)
class CampaignDecision:
    """What :func:`decide_campaign` did: the items it decided and the ones it left (with why)."""

    campaign_id: int
    decided: tuple[int, ...]
    left: tuple[tuple[int, str], ...]


def record_campaigns(
    engine: Engine,
    campaigns: Sequence[Mapping[str, Any]],
    merged: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Insert or update campaigns (dicts: ``key``, ``post_ids``, ``accounts``, ``posts_total``,
    ``posts_without_account``, ``posts_without_time``, ``first_seen``, ``last_seen``, ``basis``) and link
    the queue items of their posts; items of a campaign ``merged`` into another follow it. Posts that are
    not in the queue (below the risk threshold) are simply not linked. Returns key → campaign row id."""
    now = now or utcnow()
    ids: dict[str, int] = {}
    with write_transaction(engine) as conn:
        for c in campaigns:
            values = {
                "accounts": sorted(c.get("accounts") or ()),
                "posts_total": int(c.get("posts_total") or 0),
                "posts_without_account": int(c.get("posts_without_account") or 0),
                "posts_without_time": int(c.get("posts_without_time") or 0),
                "first_seen": c.get("first_seen"),
                "last_seen": c.get("last_seen"),
                "basis": str(c.get("basis") or "accounts"),
                "updated_at": now,
            }
            key = str(c["key"])
            if len(key) > 64:
                raise Invalid(f"campaign key {key[:70]!r}… is longer than 64 characters")
            row_id = conn.execute(select(CampaignRow.id).where(CampaignRow.key == key)).scalar()
            if row_id is None:
                row_id = conn.execute(
                    CampaignRow.__table__.insert().values(key=key, created_at=now, **values).returning(CampaignRow.id)
                ).scalar_one()
            else:
                conn.execute(update(CampaignRow).where(CampaignRow.id == row_id).values(**values))
            ids[key] = row_id
            post_ids = [str(p) for p in c.get("post_ids") or ()]
            for start in range(0, len(post_ids), 500):
                conn.execute(
                    update(Item).where(Item.post_id.in_(post_ids[start : start + 500])).values(campaign_id=row_id)
                )
        for old, new in (merged or {}).items():
            old_id = conn.execute(select(CampaignRow.id).where(CampaignRow.key == old)).scalar()
            new_id = ids.get(new) or conn.execute(select(CampaignRow.id).where(CampaignRow.key == new)).scalar()
            if old_id is not None and new_id is not None:
                conn.execute(update(Item).where(Item.campaign_id == old_id).values(campaign_id=new_id))
    return ids


def get_campaign(engine: Engine, campaign_id: int) -> CampaignView:
    """A campaign with its queue items; :class:`NotFound` when there is none."""
    final = aliased(Decision)
    with engine.connect() as conn:
        row = conn.execute(select(CampaignRow).where(CampaignRow.id == campaign_id)).first()
        if row is None:
            raise NotFound(f"campaign {campaign_id} does not exist")
        items = conn.execute(
            select(
                Item.id, Item.post_id, Item.text, Item.author, Item.url, Item.created_at, Item.risk, Item.status,
                final.action, final.kind, User.username,
            )
            .outerjoin(final, final.id == Item.final_decision_id)
            .outerjoin(User, User.id == final.reviewer_id)
            .where(Item.campaign_id == campaign_id)
            .order_by(Item.created_at.is_(None), Item.created_at, Item.id)
        ).all()
    return CampaignView(
        id=row.id,
        key=row.key,
        accounts=tuple(row.accounts or ()),
        posts_total=row.posts_total,
        posts_without_account=row.posts_without_account,
        posts_without_time=row.posts_without_time,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        basis=row.basis,
        items=tuple(
            CampaignItem(
                id=r.id, post_id=r.post_id, text=r.text, author=r.author, url=r.url, created_at=r.created_at,
                risk=r.risk, status=r.status, action=r.action if r.status == Status.DECIDED else None,
                decided_by=r.username if r.status == Status.DECIDED else None,
                decision_kind=r.kind if r.status == Status.DECIDED else None,
            )
            for r in items
        ),
    )


def shared_text(view: CampaignView) -> str:
    """The text most of the campaign's queued posts share (the most common one; the first post's when
    all differ) — what the campaign page and the campaign case file show as its message."""
    counts = Counter(i.text for i in view.items)
    return counts.most_common(1)[0][0] if counts else ""


def campaign_of_item(engine: Engine, item_id: int) -> tuple[int, str] | None:
    """(campaign id, key) of an item's campaign, or None (for the item page's link)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(CampaignRow.id, CampaignRow.key).join(Item, Item.campaign_id == CampaignRow.id).where(Item.id == item_id)
        ).first()
    return None if row is None else (row.id, row.key)


def decide_campaign(
    engine: Engine, lead_id: int, campaign_id: int, decision: DecisionIn, *, now: datetime | None = None
) -> CampaignDecision:
    """A lead decides every open (pending, claimed or escalated) item of a campaign in one transaction.

    Each item gets its own decision (``kind='campaign'``) and audit event (``campaign``, with the campaign's
    id and key), recorded by :func:`pantau.queue.decisions.lead_decision_in`. Decided items keep their
    decision (a lead overrides one on its own page); items this lead reviewed are left to another lead,
    as in a resolve. A decision of a whole campaign needs ``confirmed``."""
    if decision.action == Action.ESCALATE:
        raise Invalid("a lead's decision is final: choose no_violation, warn or takedown")
    if not decision.confirmed:
        raise Invalid(
            "memutus seluruh kampanye perlu konfirmasi (deciding a whole campaign needs confirmed=true)"
        )
    now = now or utcnow()
    decided: list[int] = []
    left: list[tuple[int, str]] = []
    with write_transaction(engine) as conn:
        _require_lead(conn, lead_id)
        key = conn.execute(select(CampaignRow.key).where(CampaignRow.id == campaign_id)).scalar()
        if key is None:
            raise NotFound(f"campaign {campaign_id} does not exist")
        rows = conn.execute(
            select(Item.id, Item.status).where(Item.campaign_id == campaign_id).order_by(Item.id)
        ).all()
        detail = {"campaign_id": campaign_id, "campaign": key}
        for item_id, status in rows:
            if status not in OPEN:
                left.append((item_id, f"already {status}"))
            elif _was_reviewer(conn, item_id, lead_id):
                left.append((item_id, "you reviewed it: another lead decides it"))
            else:
                lead_decision_in(conn, lead_id, item_id, decision, DecisionKind.CAMPAIGN, OPEN, now, detail)
                decided.append(item_id)
    return CampaignDecision(campaign_id, tuple(decided), tuple(left))


__all__ = [
    "CampaignDecision",
    "CampaignItem",
    "CampaignView",
    "campaign_of_item",
    "decide_campaign",
    "get_campaign",
    "record_campaigns",
    "shared_text",
]
