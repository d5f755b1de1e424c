"""Accounts (issue 18 §1): who posted what, as the queue knows it.

An account is the ``author`` an input carried (``io.author_column``). A *confirmed violation* is a queue
item whose final decision (by a reviewer or a lead) is ``warn`` or ``takedown``: what a person decided,
never the model's flags.

The account boost: when a post is enqueued, its priority rises by ``queue.account_boost`` for each
confirmed violation of the same account decided before, at most ``queue.account_boost_max`` in all
(:func:`account_boosts`, applied by :func:`pantau.queue.enqueue.enqueue`). The item's shown risk stays the
model's; only its place in the queue moves, and the audit log's enqueue event counts the boosted items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from pantau.labels import LABEL_KEYS
from pantau.queue.models import Action, CampaignRow, Decision, Item, Status

VIOLATIONS = (Action.WARN, Action.TAKEDOWN)


def _confirmed() -> Any:
    return (Item.status == Status.DECIDED) & Decision.action.in_(VIOLATIONS)


def account_boosts(conn: Connection, authors: Iterable[str | None], per: float, cap: float) -> dict[str, float]:
    """Account → priority boost for its next posts: ``per`` × its confirmed violations, at most ``cap``."""
    names = sorted({a for a in authors if a})
    if not names or per <= 0 or cap <= 0:
        return {}
    out: dict[str, float] = {}
    for start in range(0, len(names), 500):
        rows = conn.execute(
            select(Item.author, func.count())
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(Item.author.in_(names[start : start + 500]), _confirmed())
            .group_by(Item.author)
        ).all()
        out.update({a: min(cap, per * n) for a, n in rows})
    return out


@dataclass(frozen=True)
class AccountPost:
    """One queue item of an account."""

    id: int
    post_id: str
    text: str
    url: str | None
    created_at: datetime | None
    enqueued_at: datetime
    risk: float
    flags: dict[str, bool]
    status: str
    action: str | None
    labels: dict[str, bool] | None  # the final decision's labels (what a person confirmed)
    decided_at: datetime | None
    campaign_id: int | None
    campaign_key: str | None


@dataclass(frozen=True)
class AccountView:
    """An account's posts in the queue and what reviewers decided on them."""

    account: str
    posts: tuple[AccountPost, ...]  # newest first
    confirmed: int
    labels_confirmed: dict[str, int]
    actions: dict[str, int]
    first_seen: datetime | None  # posting times; None when the input had none
    last_seen: datetime | None
    without_time: int  # posts with no posting time (first/last seen leave them out)
    per_month: tuple[tuple[str, int, int, int], ...]  # (YYYY-MM, posts, flagged labels, confirmed)

    @property
    def missing(self) -> tuple[str, ...]:
        """What the input lacked, in words."""
        if self.posts and self.without_time == len(self.posts):
            return (("posting times unknown (the input had no time column): first/last seen are "
                     "the times the posts entered the queue"),)
        if self.without_time:
            return (f"{self.without_time} post(s) without a posting time: left out of first/last seen",)
        return ()


def account_view(engine: Engine, account: str, *, limit: int = 500) -> AccountView:
    """The account page's data: its queue items (newest first, at most ``limit``) and their decisions."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Item.id, Item.post_id, Item.text, Item.url, Item.created_at, Item.enqueued_at, Item.risk,
                Item.flags, Item.status, Item.decided_at, Item.campaign_id, CampaignRow.key,
                Decision.action, *(getattr(Decision, k) for k in LABEL_KEYS),
            )
            .outerjoin(Decision, Decision.id == Item.final_decision_id)
            .outerjoin(CampaignRow, CampaignRow.id == Item.campaign_id)
            .where(Item.author == account)
            .order_by(func.coalesce(Item.created_at, Item.enqueued_at).desc(), Item.id.desc())
            .limit(limit)
        ).all()
    posts = []
    labels: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    months: dict[str, list[int]] = {}
    for r in rows:
        decided = r.status == Status.DECIDED and r.action is not None
        chosen = {k: bool(getattr(r, k)) for k in LABEL_KEYS} if decided else None
        if decided:
            actions[r.action] += 1
            if r.action in VIOLATIONS:
                labels.update(k for k, v in (chosen or {}).items() if v)
        posts.append(
            AccountPost(
                id=r.id, post_id=r.post_id, text=r.text, url=r.url, created_at=r.created_at,
                enqueued_at=r.enqueued_at, risk=r.risk, flags=dict(r.flags or {}), status=r.status,
                action=r.action if decided else None, labels=chosen, decided_at=r.decided_at,
                campaign_id=r.campaign_id, campaign_key=r.key,
            )
        )
        month = (r.created_at or r.enqueued_at).strftime("%Y-%m")
        m = months.setdefault(month, [0, 0, 0])
        m[0] += 1
        m[1] += sum(1 for v in (r.flags or {}).values() if v)
        m[2] += int(decided and r.action in VIOLATIONS)
    times = [p.created_at for p in posts if p.created_at is not None]
    if not times:  # no posting times at all: the queue's own times, said so on the page
        times = [p.enqueued_at for p in posts]
    return AccountView(
        account=account,
        posts=tuple(posts),
        confirmed=sum(actions[a] for a in VIOLATIONS),
        labels_confirmed={k: labels[k] for k in LABEL_KEYS},
        actions=dict(actions),
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        without_time=sum(1 for p in posts if p.created_at is None),
        per_month=tuple((m, *v) for m, v in sorted(months.items())),  # type: ignore[misc]
    )


@dataclass(frozen=True)
class AccountRank:
    """One row of the accounts ranking."""

    account: str
    confirmed: int
    takedowns: int
    decided: int
    last_decided_at: datetime | None


def top_accounts(
    engine: Engine, *, since: datetime | None = None, until: datetime | None = None, limit: int = 50
) -> tuple[list[AccountRank], int]:
    """Accounts by confirmed violations decided in ``[since, until)``, most first; and how many confirmed
    violations in that period have no account (the input had none) — shown, not dropped silently."""
    period = []
    if since is not None:
        period.append(Item.decided_at >= since)
    if until is not None:
        period.append(Item.decided_at < until)
    violation = _confirmed()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Item.author,
                func.count().label("confirmed"),
                func.count().filter(Decision.action == Action.TAKEDOWN).label("takedowns"),
                func.max(Item.decided_at).label("last"),
            )
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(violation, Item.author.is_not(None), *period)
            .group_by(Item.author)
            .order_by(func.count().desc(), Item.author)
            .limit(limit)
        ).all()
        decided = dict(
            conn.execute(
                select(Item.author, func.count())
                .where(Item.status == Status.DECIDED, Item.author.in_([r.author for r in rows]), *period)
                .group_by(Item.author)
            ).all()
        ) if rows else {}
        unknown = conn.execute(
            select(func.count())
            .select_from(Item)
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(violation, Item.author.is_(None), *period)
        ).scalar_one()
    return [
        AccountRank(r.author, r.confirmed, r.takedowns, decided.get(r.author, r.confirmed), r.last) for r in rows
    ], int(unknown)


__all__ = ["AccountPost", "AccountRank", "AccountView", "account_boosts", "account_view", "top_accounts"]
