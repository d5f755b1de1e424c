"""The desk report for a day or a week (UTC): what was scored, flagged, reviewed and decided, how long a
decision took, which accounts and coordinated-posting campaigns came up most, and how often two
reviewers agreed.

Every figure says what it counts (see :class:`DeskReport`); what the store cannot know — accounts the
input did not carry, posts scored but never handed to the queue — is named in ``missing``, not hidden.
Rendering (page, PDF, CSV) lives in the web layer; this module only reads the store.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from pantau.labels import LABEL_KEYS
from pantau.queue.errors import Invalid
from pantau.queue.models import (
    Action,
    AuditEvent,
    CampaignRow,
    Decision,
    Item,
    Status,
    UndoneDecision,
    utcnow,
)
from pantau.queue.schemas import iso
from pantau.queue.stats import PERSON_DECIDED

PERIODS = ("day", "week")
TOP_ACCOUNTS = 10
TOP_CAMPAIGNS = 10


@dataclass(frozen=True)
class Period:
    """[start, end) in naive UTC; a week runs Monday to Monday (ISO)."""

    kind: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y-%m-%d} (UTC)"
        return f"{self.start:%Y-%m-%d} – {self.end - timedelta(days=1):%Y-%m-%d} (UTC, minggu ISO {self.start:%G-W%V})"

    def days(self) -> list[date]:
        return [(self.start + timedelta(days=i)).date() for i in range((self.end - self.start).days)]


def period_of(kind: str, day: date | str | None = None, *, now: datetime | None = None) -> Period:
    """The day, or the ISO week, that contains ``day`` (an ISO date; default: today, UTC)."""
    if kind not in PERIODS:
        raise Invalid(f"period must be one of {', '.join(PERIODS)}, got {kind!r}")
    if day is None or day == "":
        on = (now or utcnow()).date()
    elif isinstance(day, date):
        on = day
    else:
        try:
            on = date.fromisoformat(str(day).strip()[:10])
        except ValueError:
            raise Invalid(f"bukan tanggal ISO YYYY-MM-DD (not an ISO date): {str(day)[:40]!r}") from None
    if on.year < 2 or on.year > 9998:
        raise Invalid(f"tanggal di luar jangkauan (date out of range): {on.isoformat()}")
    if kind == "week":
        on -= timedelta(days=on.weekday())
    start = datetime(on.year, on.month, on.day)
    return Period(kind, start, start + timedelta(days=1 if kind == "day" else 7))


@dataclass(frozen=True)
class Agreement:
    items: int  # items whose second independent review fell in the period
    agreeing: int  # … where both reviewers set all four labels alike
    share: float | None
    per_label: dict[str, float | None]  # share agreeing on each label


@dataclass(frozen=True)
class TopCampaign:
    """A campaign among the period's flagged posts. Every count is of its posts that entered the queue
    in the period: ``posts``; ``accounts``: distinct accounts among them (``without_account``: posts with
    none); ``decided``: of those, decided so far; ``violations``: decided warn/takedown."""

    id: int
    key: str
    posts: int
    accounts: int
    without_account: int
    decided: int
    violations: int


@dataclass(frozen=True)
class DeskReport:
    """One period's figures. ``scored``: rows the scoring job handed to the queue (enqueue runs in the
    period, above and below the threshold); ``flagged``: posts that entered the queue (risk at or above
    the threshold, and complaints); ``reviewed``: independent reviews recorded (undone ones left out),
    on ``reviewed_items`` items; ``decided``: items whose final decision fell in the period, per
    action and per label of that decision; ``median_hours``: enqueue → final decision of those."""

    period: Period
    scored: int
    flagged: int
    reviewed: int
    reviewed_items: int
    decided: int
    by_action: dict[str, int]
    by_label: dict[str, int]
    median_hours: float | None
    per_day: list[tuple[str, int]]  # decisions (final) per day of the period
    top_accounts: list[tuple[str, int, int]]  # (account, flagged, decided warn/takedown)
    flagged_without_account: int
    agreement: Agreement
    missing: list[str] = field(default_factory=list)
    cases: list[tuple[int, str]] = field(default_factory=list)  # (item id, action): decided warn/takedown
    top_campaigns: list[TopCampaign] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["period"] = {
            "kind": self.period.kind,
            "start": iso(self.period.start),
            "end": iso(self.period.end),
        }
        out["top_accounts"] = [{"account": a, "flagged": f, "violations": v} for a, f, v in self.top_accounts]
        out["per_day"] = [{"day": d, "decided": n} for d, n in self.per_day]
        return out


def desk_report(engine: Engine, period: Period) -> DeskReport:
    """The desk's figures for ``period``."""
    start, end = period.start, period.end
    with engine.connect() as conn:
        scored = 0
        for (detail,) in conn.execute(
            select(AuditEvent.detail).where(
                AuditEvent.event == "enqueue", AuditEvent.at >= start, AuditEvent.at < end
            )
        ):
            scored += sum(int((detail or {}).get(k) or 0) for k in ("inserted", "updated", "skipped"))
        flagged_rows = conn.execute(
            select(Item.id, Item.author).where(Item.enqueued_at >= start, Item.enqueued_at < end)
        ).all()
        reviews = conn.execute(
            select(Decision.item_id).where(
                Decision.kind == "review",
                Decision.created_at >= start,
                Decision.created_at < end,
                Decision.id.not_in(select(UndoneDecision.decision_id)),
            )
        ).all()
        decided_rows = conn.execute(
            select(
                Item.id,
                Item.author,
                Item.enqueued_at,
                Item.decided_at,
                Decision.action,
                *(getattr(Decision, k) for k in LABEL_KEYS),
            )
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(Item.status == Status.DECIDED, Item.decided_at >= start, Item.decided_at < end)
        ).all()
        accounts = conn.execute(
            select(Item.author, func.count())
            .where(
                Item.enqueued_at >= start, Item.enqueued_at < end, Item.author.is_not(None), Item.author != ""
            )
            .group_by(Item.author)
            .order_by(func.count().desc(), Item.author)
            .limit(TOP_ACCOUNTS)
        ).all()
        violations: dict[str, int] = {}
        names = [a for a, _ in accounts]
        if names:
            violations = dict(
                conn.execute(
                    select(Item.author, func.count())
                    .join(Decision, Decision.id == Item.final_decision_id)
                    .where(
                        Item.author.in_(names),
                        Item.status == Status.DECIDED,
                        Decision.action.in_([Action.WARN, Action.TAKEDOWN]),
                    )
                    .group_by(Item.author)
                ).all()
            )
        top_campaigns = _top_campaigns(conn, start, end)
        pair_rows = conn.execute(
            select(Decision.item_id, Decision.created_at, *(getattr(Decision, k) for k in LABEL_KEYS))
            .where(Decision.kind == "review", Decision.action != "escalate", *PERSON_DECIDED)
            .where(
                Decision.item_id.in_(
                    select(Decision.item_id).where(
                        Decision.kind == "review", Decision.created_at >= start, Decision.created_at < end
                    )
                )
            )
            .order_by(Decision.item_id, Decision.id)
        ).all()
    kept_reviews = reviews
    by_action = Counter({a.value: 0 for a in Action if a != Action.ESCALATE})
    by_label = dict.fromkeys(LABEL_KEYS, 0)
    hours: list[float] = []
    per_day = {d.isoformat(): 0 for d in period.days()}
    for r in decided_rows:
        by_action[r.action] += 1
        for k in LABEL_KEYS:
            by_label[k] += int(bool(getattr(r, k)))
        hours.append((r.decided_at - r.enqueued_at).total_seconds() / 3600.0)
        per_day[r.decided_at.date().isoformat()] = per_day.get(r.decided_at.date().isoformat(), 0) + 1
    missing: list[str] = []
    without_account = sum(1 for r in flagged_rows if not r.author)
    if flagged_rows and without_account == len(flagged_rows):
        missing.append("account")
    if scored == 0 and flagged_rows:
        missing.append("scored")  # items came in (complaints, an older queue) without an enqueue run
    return DeskReport(
        period=period,
        scored=scored,
        flagged=len(flagged_rows),
        reviewed=len(kept_reviews),
        reviewed_items=len({r.item_id for r in kept_reviews}),
        decided=len(decided_rows),
        by_action=dict(by_action),
        by_label=by_label,
        median_hours=statistics.median(hours) if hours else None,
        per_day=sorted(per_day.items()),
        top_accounts=[(a, n, int(violations.get(a, 0))) for a, n in accounts],
        flagged_without_account=without_account,
        agreement=_agreement(pair_rows, start, end),
        missing=missing,
        cases=[(r.id, r.action) for r in decided_rows if r.action in (Action.WARN, Action.TAKEDOWN)],
        top_campaigns=top_campaigns,
    )


def _top_campaigns(conn: Connection, start: datetime, end: datetime) -> list[TopCampaign]:
    """The campaigns with the most posts entering the queue in [start, end), most first."""
    rows = conn.execute(
        select(Item.campaign_id, Item.author, Item.status, Decision.action)
        .outerjoin(Decision, Decision.id == Item.final_decision_id)
        .where(Item.enqueued_at >= start, Item.enqueued_at < end, Item.campaign_id.is_not(None))
    ).all()
    posts: Counter[int] = Counter()
    authors: defaultdict[int, set[str]] = defaultdict(set)
    without: Counter[int] = Counter()
    decided: Counter[int] = Counter()
    violations: Counter[int] = Counter()
    for r in rows:
        posts[r.campaign_id] += 1
        if r.author:
            authors[r.campaign_id].add(r.author)
        else:
            without[r.campaign_id] += 1
        if r.status == Status.DECIDED:
            decided[r.campaign_id] += 1
            violations[r.campaign_id] += int(r.action in (Action.WARN, Action.TAKEDOWN))
    top = sorted(posts, key=lambda c: (-posts[c], c))[:TOP_CAMPAIGNS]
    if not top:
        return []
    keys = dict(conn.execute(select(CampaignRow.id, CampaignRow.key).where(CampaignRow.id.in_(top))).all())
    return [
        TopCampaign(c, keys.get(c, ""), posts[c], len(authors[c]), without[c], decided[c], violations[c])
        for c in top
    ]


def _agreement(rows: list[Any], start: datetime, end: datetime) -> Agreement:
    """Items whose second independent review (escalations aside) fell in [start, end): how many had
    both reviewers set all four labels alike, and the share alike per label."""
    first_two: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        if len(first_two[r.item_id]) < 2:
            first_two[r.item_id].append(r)
    pairs = [(a, b) for a, b in (v for v in first_two.values() if len(v) == 2) if start <= b.created_at < end]
    agreeing = sum(1 for a, b in pairs if all(bool(getattr(a, k)) == bool(getattr(b, k)) for k in LABEL_KEYS))
    per_label = {
        k: (
            sum(1 for a, b in pairs if bool(getattr(a, k)) == bool(getattr(b, k))) / len(pairs)
            if pairs
            else None
        )
        for k in LABEL_KEYS
    }
    return Agreement(len(pairs), agreeing, agreeing / len(pairs) if pairs else None, per_label)


def report_csv(report: DeskReport) -> str:
    """The report as CSV rows ``section,key,value`` (one figure a row; empty value: not available)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["section", "key", "value"])
    p = report.period
    w.writerow(["period", p.kind, f"{iso(p.start)}/{iso(p.end)}"])
    for name in ("scored", "flagged", "reviewed", "reviewed_items", "decided"):
        w.writerow(["totals", name, getattr(report, name)])
    w.writerow(
        [
            "totals",
            "median_hours_to_decision",
            "" if report.median_hours is None else f"{report.median_hours:.2f}",
        ]
    )
    for k, n in report.by_action.items():
        w.writerow(["decided_by_action", k, n])
    for k, n in report.by_label.items():
        w.writerow(["decided_by_label", k, n])
    for d, n in report.per_day:
        w.writerow(["decided_per_day", d, n])
    for a, n, v in report.top_accounts:
        w.writerow(["top_accounts_flagged", _cell(a), n])
        w.writerow(["top_accounts_violations", _cell(a), v])
    w.writerow(["accounts", "flagged_without_account", report.flagged_without_account])
    for c in report.top_campaigns:
        w.writerow(["top_campaigns_key", c.id, _cell(c.key)])
        w.writerow(["top_campaigns_posts", c.id, c.posts])
        w.writerow(["top_campaigns_accounts", c.id, c.accounts])
        w.writerow(["top_campaigns_posts_without_account", c.id, c.without_account])
        w.writerow(["top_campaigns_decided", c.id, c.decided])
        w.writerow(["top_campaigns_violations", c.id, c.violations])
    ag = report.agreement
    w.writerow(["agreement", "double_reviewed_items", ag.items])
    w.writerow(["agreement", "agreeing_all_labels", ag.agreeing])
    w.writerow(["agreement", "share_agreeing", "" if ag.share is None else f"{ag.share:.3f}"])
    for k, v in ag.per_label.items():
        w.writerow(["agreement_per_label", k, "" if v is None else f"{v:.3f}"])
    for m in report.missing:
        w.writerow(["missing", m, "tidak tersedia / not available"])
    return out.getvalue()


def _cell(value: str) -> str:
    """An account name as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


__all__ = [
    "PERIODS",
    "Agreement",
    "DeskReport",
    "Period",
    "TopCampaign",
    "desk_report",
    "period_of",
    "report_csv",
]
