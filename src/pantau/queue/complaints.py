"""The public complaint desk (posko aduan): reports from anyone, merged per post, queued as items.

A report names a post by its link and/or its pasted text, says what is wrong (one or more of the
four labels), and may leave a contact. What happens to it:

* **Rate limits** — each client (the SHA-256 of its address, never the address) may file
  ``per_client_per_hour`` reports in a fixed hour window, and everyone together ``total_per_hour``;
  the counters live in ``complaint_throttle`` (atomic upserts, so every worker sees them). Over the
  limit: :class:`RateLimited` with the seconds to wait.
* **Merging** — reports of one post become one :class:`~pantau.queue.models.Complaint`: the same
  normalised link (:func:`normalise_url`: scheme/host case, ``www.``/``m.``, ``twitter.com`` =
  ``x.com``, tracking parameters, fragment and trailing slash dropped) or the same normalised text
  (:func:`normalise_text`: NFKC, case-folded, whitespace collapsed). The complaint counts its reports
  and how often each label was named.
* **Linking** — when the first report's link matches an item batch scoring already queued (the same
  :func:`~pantau.queue.links.link_key` in the indexed ``items.url_key``, any source but ``complaint``),
  the complaint is attached to that item (``linked_at`` set) and no item of its own is made: one post,
  one review; the reporter's code then shows that item's state and its reviewers' decision, which they
  made on that very post. Nothing is written into the item's decisions; public reports only ever raise
  its priority (never below what batch scoring gave it), while it waits unclaimed. A complaint filed
  before batch scoring queued the post keeps its own item.
* **The queue** — otherwise the first report creates the post's item with ``source='complaint'``, scored by the
  caller's model when there is one (else ``model_version='unscored'``, probabilities 0, and the item
  says so). Its priority is :func:`complaint_priority`::

      max(model risk, priority_floor) + min(max_report_boost, per_report_boost × (reports − 1))

  aged like every item (``aging_per_hour``); a further report raises it while the item is pending.
  ``risk`` stays the model's own figure.
* **Tracking** — every report gets its own code (``secrets.token_urlsafe(16)``, 128 bits); only its
  SHA-256 is stored, so the lookup is by a hash of the code (no timing tells how much of a guess was
  right) and the code is compared with ``hmac.compare_digest``. :func:`status_by_code` says received /
  in review / decided and, once decided, the outcome (no violation / warning / takedown) — never who
  reviewed it, never the labels or scores.
* **Retention** — contacts are visible to leads only (:func:`list_complaints` with
  ``contacts=True``) and erased ``retention_days`` after the report by :func:`purge_contacts`
  (``pantau complaints purge``; the web app also runs it whenever a report is filed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from pantau.labels import LABEL_KEYS
from pantau.queue.audit import write_event
from pantau.queue.db import write_transaction
from pantau.queue.errors import Invalid, NotFound, QueueError
from pantau.queue.links import link_key, normalise_url
from pantau.queue.models import (
    Action,
    Complaint,
    ComplaintReport,
    ComplaintThrottleRow,
    Decision,
    Item,
    Prediction,
    Status,
    aged_priority,
    priority_key,
    utcnow,
)

__all__ = [
    "CODE_CHARS",
    "SOURCE",
    "UNSCORED",
    "ComplaintIn",
    "ComplaintPolicy",
    "ComplaintScore",
    "ComplaintStatus",
    "ComplaintView",
    "Filed",
    "PublicReports",
    "RateLimited",
    "ReportView",
    "complaint_priority",
    "existing_complaint",
    "file_complaint",
    "hash_client",
    "list_complaints",
    "looks_like_code",
    "needs_score",
    "normalise_text",
    "normalise_url",
    "public_reports",
    "purge_contacts",
    "status_by_code",
]

SOURCE = "complaint"  # items.source of every complaint
UNSCORED = "unscored"  # items.model_version when no model scored the complaint
UNSCORED_NAME = "tidak dinilai model (not scored: no model configured)"
CODE_CHARS = 22  # secrets.token_urlsafe(16)
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
WINDOW = timedelta(hours=1)
EVERYONE = "*"  # the throttle row that counts every client together
MAX_URL_CHARS = 2000
MAX_CONTACT_CHARS = 200


@dataclass(frozen=True)
class ComplaintPolicy:
    """The desk's rules (``complaints`` in params.yaml, plus the queue's double-review rule)."""

    priority_floor: float = 0.5
    per_report_boost: float = 0.05
    max_report_boost: float = 0.25
    per_client_per_hour: int = 10
    total_per_hour: int = 600
    max_text_chars: int = 5000
    max_details_chars: int = 1000
    retention_days: int = 90
    double_review_risk: float = 0.85
    aging_per_hour: float = 0.01

    @classmethod
    def from_settings(cls, complaints: Any, queue: Any) -> ComplaintPolicy:
        """From :class:`~pantau.config.ComplaintSettings` and :class:`~pantau.config.QueueSettings`."""
        return cls(
            priority_floor=complaints.priority_floor,
            per_report_boost=complaints.per_report_boost,
            max_report_boost=complaints.max_report_boost,
            per_client_per_hour=complaints.per_client_per_hour,
            total_per_hour=complaints.total_per_hour,
            max_text_chars=complaints.max_text_chars,
            max_details_chars=complaints.max_details_chars,
            retention_days=complaints.retention_days,
            double_review_risk=queue.double_review_risk,
            aging_per_hour=queue.aging_per_hour,
        )


@dataclass(frozen=True)
class ComplaintScore:
    """What the model said about the pasted text (the web layer scores; the store keeps it)."""

    probabilities: dict[str, float]
    flags: dict[str, bool]
    thresholds: dict[str, float] | None
    risk: float
    spans: list[dict[str, Any]]
    model_name: str | None
    model_version: str


@dataclass(frozen=True)
class ComplaintIn:
    """One report as a person filed it (checked by :meth:`checked`)."""

    labels: tuple[str, ...]
    url: str | None = None
    text: str | None = None
    details: str | None = None
    contact: str | None = None

    def checked(self, policy: ComplaintPolicy) -> ComplaintIn:
        """The report with blanks as None, or :class:`Invalid` saying (in both languages) what is wrong."""
        url = (self.url or "").strip() or None
        text = (self.text or "").strip() or None
        details = (self.details or "").strip() or None
        contact = (self.contact or "").strip() or None
        if url is None and text is None:
            raise Invalid("isi tautan atau tempel teks unggahan (give the post's link or paste its text)")
        if url is not None:
            if len(url) > MAX_URL_CHARS:
                raise Invalid(
                    f"tautan lebih dari {MAX_URL_CHARS} karakter (link longer than {MAX_URL_CHARS} characters)"
                )
            if normalise_url(url) is None:
                raise Invalid(
                    "tautan harus diawali http:// atau https:// (the link must start with http:// or https://)"
                )
        if text is not None and len(text) > policy.max_text_chars:
            raise Invalid(
                f"teks lebih dari {policy.max_text_chars} karakter (text longer than {policy.max_text_chars} characters)"
            )
        if details is not None and len(details) > policy.max_details_chars:
            raise Invalid(
                f"keterangan lebih dari {policy.max_details_chars} karakter "
                f"(description longer than {policy.max_details_chars} characters)"
            )
        if contact is not None and len(contact) > MAX_CONTACT_CHARS:
            raise Invalid(
                f"kontak lebih dari {MAX_CONTACT_CHARS} karakter (contact longer than {MAX_CONTACT_CHARS} characters)"
            )
        labels = tuple(k for k in LABEL_KEYS if k in set(self.labels))
        unknown = set(self.labels) - set(LABEL_KEYS)
        if unknown or not labels:
            raise Invalid("pilih minimal satu jenis pelanggaran (choose at least one of the four kinds)")
        if any(_has_controls(v) for v in (url, contact) if v):
            raise Invalid(
                "tautan/kontak berisi karakter kendali (the link or contact holds control characters)"
            )
        return ComplaintIn(labels, url, text, details, contact)


class RateLimited(QueueError):
    """Too many reports from this client (or from everyone) this hour; ``retry_after`` in seconds."""

    title = ("Terlalu banyak laporan", "too many reports")

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"terlalu banyak laporan; coba lagi dalam {retry_after} detik "
            f"(too many reports; try again in {retry_after} s)"
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Filed:
    """A filed report: its tracking code (shown once), the complaint, whether it merged into an
    earlier one, and whether a model scored it."""

    code: str
    complaint_id: int
    item_id: int
    merged: bool
    reports: int
    scored: bool


@dataclass(frozen=True)
class ComplaintStatus:
    """What a reporter may see: the state, and the outcome once decided."""

    state: str  # received | in_review | decided
    outcome: str | None  # no_violation | warn | takedown, once decided
    reported_at: datetime
    decided_at: datetime | None
    labels: tuple[str, ...]  # what this reporter said was wrong
    reports: int  # how many reports the post has had (theirs included)
    scored: bool


@dataclass(frozen=True)
class ReportView:
    id: int
    labels: tuple[str, ...]
    details: str | None
    contact: str | None  # None unless asked for (leads), or erased
    contact_purged: bool
    created_at: datetime


@dataclass(frozen=True)
class ComplaintView:
    """One complaint for reviewers (and, with contacts, for leads)."""

    id: int
    item_id: int
    item_status: str
    url: str | None
    text: str
    reports: int
    label_counts: dict[str, int]
    scored: bool
    risk: float
    priority: float
    first_reported_at: datetime
    last_reported_at: datetime
    report_list: tuple[ReportView, ...] = field(default_factory=tuple)
    linked: bool = False  # attached to a batch-scored item (no complaint item of its own)


# ---------------------------------------------------------------------------------- normalising


def _has_controls(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def normalise_text(text: str) -> str:
    """The text as one post's copies share it: NFKC, case-folded, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def hash_client(client: str) -> str:
    """The throttle's key for a client address (the address itself is not stored)."""
    return _sha("client:" + client)[:64]


def complaint_priority(risk: float, reports: int, policy: ComplaintPolicy) -> float:
    """``max(risk, floor) + min(max_report_boost, per_report_boost × (reports − 1))``."""
    boost = min(policy.max_report_boost, policy.per_report_boost * max(0, reports - 1))
    return max(risk, policy.priority_floor) + boost


# ---------------------------------------------------------------------------------- rate limits


def _bump(conn: Connection, key: str, limit: int, now: datetime) -> int:
    """Count one report on ``key`` in its window (atomic upsert); seconds to wait if over ``limit``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    t = ComplaintThrottleRow
    stale = t.window_start <= now - WINDOW
    stmt = (
        dialect.insert(t)
        .values(client=key, window_start=now, count=1)
        .on_conflict_do_update(
            index_elements=[t.client],
            set_={
                "count": case((stale, 1), else_=t.count + 1),
                "window_start": case((stale, now), else_=t.window_start),
            },
        )
        .returning(t.count, t.window_start)
    )
    count, start = conn.execute(stmt).one()
    if count > limit:
        return max(1, int((start + WINDOW - now).total_seconds() + 0.999))
    return 0


def _take_slot(engine: Engine, client: str, policy: ComplaintPolicy, now: datetime) -> None:
    """Count this report against the client's and everyone's hourly limits, or refuse it (nothing counted)."""
    with write_transaction(engine) as conn:
        wait = max(
            _bump(conn, hash_client(client), policy.per_client_per_hour, now),
            _bump(conn, EVERYONE, policy.total_per_hour, now),
        )
        if wait:
            raise RateLimited(wait)  # rolls the counts back: a refused report is not counted


# ---------------------------------------------------------------------------------- filing


def _keys(report: ComplaintIn) -> tuple[str | None, str | None]:
    return (
        link_key(report.url),  # the same key as items.url_key: a batch-scored post is found by it
        _sha("text:" + normalise_text(report.text)) if report.text else None,
    )


def _find(conn: Connection, url_key: str | None, text_key: str | None) -> Any:
    """The complaint row a report belongs to: the same link first, else the same text (or None)."""
    table = Complaint.__table__
    for column, key in ((table.c.url_key, url_key), (table.c.text_key, text_key)):
        if key is not None:
            row = conn.execute(select(table).where(column == key)).first()
            if row is not None:
                return row
    return None


def _batch_item(conn: Connection, url_key: str | None) -> Any:
    """The queue item batch scoring filed under the same normalised link (not a complaint's own), or None.

    One index lookup on ``items.url_key``; when several posts share a link, the newest item."""
    if url_key is None:
        return None
    return conn.execute(
        select(Item.id, Item.risk, Item.enqueued_at, Item.model_version)
        .where(Item.url_key == url_key, or_(Item.source.is_(None), Item.source != SOURCE))
        .order_by(Item.id.desc())
        .limit(1)
    ).first()


def needs_score(engine: Engine, report: ComplaintIn) -> bool:
    """Whether filing this report would create a new item (so the caller should score its text): not
    when it merges into an earlier complaint, nor when it links to a batch-scored post."""
    url_key, text_key = _keys(report)
    with engine.connect() as conn:
        return _find(conn, url_key, text_key) is None and _batch_item(conn, url_key) is None


def existing_complaint(engine: Engine, report: ComplaintIn) -> int | None:
    """The id of the complaint this report would merge into (the caller then need not score it)."""
    url_key, text_key = _keys(report)
    with engine.connect() as conn:
        found = _find(conn, url_key, text_key)
        return None if found is None else found.id


def file_complaint(
    engine: Engine,
    report: ComplaintIn,
    *,
    client: str,
    policy: ComplaintPolicy,
    score: ComplaintScore | None,
    now: datetime | None = None,
) -> Filed:
    """File one report: rate-limited per client, merged with earlier reports of the same post, the
    post queued (scored with ``score`` when given) on its first report. Returns the tracking code.

    Raises :class:`Invalid` for a report that breaks the rules, :class:`RateLimited` over the limits."""
    report = report.checked(policy)
    now = now or utcnow()
    _take_slot(engine, client, policy, now)
    purge_contacts(engine, policy.retention_days, now=now)
    code = secrets.token_urlsafe(16)
    for attempt in range(3):
        try:
            return _file(engine, report, code, policy, score, now)
        except IntegrityError:
            # Two first reports of one post raced (PostgreSQL): the second merges into the first.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _file(
    engine: Engine,
    report: ComplaintIn,
    code: str,
    policy: ComplaintPolicy,
    score: ComplaintScore | None,
    now: datetime,
) -> Filed:
    url_key, text_key = _keys(report)
    labels = list(report.labels)
    with write_transaction(engine) as conn:
        found = _find(conn, url_key, text_key)
        batch = _batch_item(conn, url_key) if found is None else None
        if batch is not None:  # the item's link changed on a rescore after an earlier report linked it
            found = conn.execute(select(Complaint.__table__).where(Complaint.item_id == batch.id)).first()
            batch = None if found is not None else batch
        linked = batch is not None if found is None else found.linked_at is not None
        if batch is not None:
            complaint_id, item_id = _link(conn, report, batch, url_key, text_key, policy, now)
            reports, merged, scored = 1, False, batch.model_version != UNSCORED
        elif found is None:
            complaint_id, item_id = _create(conn, report, url_key, text_key, policy, score, now)
            reports, merged, scored = 1, False, score is not None
        else:
            complaint_id, item_id, merged, scored = found.id, found.item_id, True, found.scored
            counts = {k: int(v) for k, v in (found.label_counts or {}).items()}
            for k in labels:
                counts[k] = counts.get(k, 0) + 1
            reports = found.reports + 1
            fill: dict[str, Any] = {}
            if found.url_key is None and url_key is not None:
                fill["url_key"] = url_key
            if found.text_key is None and text_key is not None:
                fill["text_key"] = text_key
            conn.execute(
                update(Complaint)
                .where(Complaint.id == found.id)
                .values(reports=Complaint.reports + 1, label_counts=counts, last_reported_at=now, **fill)
            )
            item = conn.execute(select(Item.risk, Item.enqueued_at).where(Item.id == item_id)).one()
            _rank(conn, item_id, item.risk, item.enqueued_at, reports, policy, now, keep_higher=linked)
        report_id = conn.execute(
            ComplaintReport.__table__.insert()
            .values(
                complaint_id=complaint_id,
                code_hash=_sha(code),
                labels=labels,
                details=report.details,
                contact=report.contact,
                created_at=now,
            )
            .returning(ComplaintReport.id)
        ).scalar_one()
        write_event(
            conn,
            None,
            item_id,
            "complaint",
            {
                "complaint": complaint_id,
                "report": report_id,
                "labels": labels,
                "reports": reports,
                "merged": merged,
                **({"linked": True} if linked else {}),
            },
            now,
        )
    return Filed(code, complaint_id, item_id, merged, reports, scored)


def _rank(
    conn: Connection,
    item_id: int,
    risk: float,
    enqueued_at: datetime,
    reports: int,
    policy: ComplaintPolicy,
    now: datetime,
    *,
    keep_higher: bool,
) -> None:
    """Rank a waiting item by :func:`complaint_priority`; a claimed or decided one is left alone.

    ``keep_higher`` (a batch-scored item): never lower what batch scoring gave it (an account boost,
    say) — public reports only ever raise it."""
    key = priority_key(complaint_priority(risk, reports, policy), enqueued_at, policy.aging_per_hour)
    conn.execute(
        update(Item)
        .where(Item.id == item_id, Item.status == Status.PENDING, Item.claimed_by.is_(None))
        .values(
            priority_key=case((Item.priority_key > key, Item.priority_key), else_=key)
            if keep_higher
            else key,
            updated_at=now,
        )
    )


def _link(
    conn: Connection,
    report: ComplaintIn,
    batch: Any,
    url_key: str | None,
    text_key: str | None,
    policy: ComplaintPolicy,
    now: datetime,
) -> tuple[int, int]:
    """Attach the first report of a batch-scored post to that post's item: no second item, so one review
    decides it and the reporter's code shows that review. Nothing about the item's decisions changes."""
    _rank(conn, batch.id, batch.risk, batch.enqueued_at, 1, policy, now, keep_higher=True)
    complaint_id = conn.execute(
        Complaint.__table__.insert()
        .values(
            item_id=batch.id,
            url_key=url_key,
            text_key=text_key,
            reports=1,
            label_counts={k: 1 for k in report.labels},
            scored=batch.model_version != UNSCORED,
            first_reported_at=now,
            last_reported_at=now,
            linked_at=now,
        )
        .returning(Complaint.id)
    ).scalar_one()
    return complaint_id, batch.id


def _create(
    conn: Connection,
    report: ComplaintIn,
    url_key: str | None,
    text_key: str | None,
    policy: ComplaintPolicy,
    score: ComplaintScore | None,
    now: datetime,
) -> tuple[int, int]:
    key = url_key or text_key
    assert key is not None  # checked(): a link or a text
    text = report.text or f"(tanpa teks — hanya tautan / no text pasted, link only) {report.url}"
    if score is None:
        probabilities = dict.fromkeys(LABEL_KEYS, 0.0)
        flags = dict.fromkeys(LABEL_KEYS, False)
        thresholds, risk, spans, model_name, model_version = None, 0.0, [], UNSCORED_NAME, UNSCORED
    else:
        probabilities = {k: float(score.probabilities[k]) for k in LABEL_KEYS}
        flags = {k: bool(score.flags[k]) for k in LABEL_KEYS}
        thresholds, risk, spans = score.thresholds, float(score.risk), score.spans
        model_name, model_version = score.model_name, score.model_version
    post_id = f"aduan-{key[:24]}"
    item_id = conn.execute(
        Item.__table__.insert()
        .values(
            post_id=post_id,
            text=text,
            source=SOURCE,
            author=None,
            url=report.url,
            url_key=url_key,
            created_at=None,
            model_name=model_name,
            model_version=model_version,
            probabilities=probabilities,
            flags=flags,
            thresholds=thresholds,
            spans=spans,
            risk=risk,
            priority_key=priority_key(complaint_priority(risk, 1, policy), now, policy.aging_per_hour),
            required_reviews=2 if risk >= policy.double_review_risk else 1,
            review_count=0,
            status=Status.PENDING,
            enqueued_at=now,
            updated_at=now,
        )
        .returning(Item.id)
    ).scalar_one()
    if score is not None:
        conn.execute(
            Prediction.__table__.insert().values(
                post_id=post_id,
                model_version=model_version,
                risk=risk,
                scored_at=now,
                **{f"p_{k}": probabilities[k] for k in LABEL_KEYS},
            )
        )
    complaint_id = conn.execute(
        Complaint.__table__.insert()
        .values(
            item_id=item_id,
            url_key=url_key,
            text_key=text_key,
            reports=1,
            label_counts={k: 1 for k in report.labels},
            scored=score is not None,
            first_reported_at=now,
            last_reported_at=now,
        )
        .returning(Complaint.id)
    ).scalar_one()
    return complaint_id, item_id


# ---------------------------------------------------------------------------------- reading


def looks_like_code(code: str) -> bool:
    """Whether ``code`` has the shape of a tracking code (it may still name nothing)."""
    return isinstance(code, str) and _CODE_RE.match(code) is not None


def status_by_code(engine: Engine, code: str) -> ComplaintStatus:
    """The reporter's view of their report, or :class:`NotFound` for a code that names none."""
    if not looks_like_code(code):
        raise NotFound("kode pelacakan tidak dikenal (unknown tracking code)")
    digest = _sha(code)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                ComplaintReport.code_hash,
                ComplaintReport.labels,
                ComplaintReport.created_at,
                Complaint.reports,
                Complaint.scored,
                Item.status,
                Item.review_count,
                Item.decided_at,
                Decision.action,
            )
            .join(Complaint, Complaint.id == ComplaintReport.complaint_id)
            .join(Item, Item.id == Complaint.item_id)
            .outerjoin(Decision, Decision.id == Item.final_decision_id)
            .where(ComplaintReport.code_hash == digest)
        ).first()
    if row is None or not hmac.compare_digest(row.code_hash.encode(), digest.encode()):
        raise NotFound("kode pelacakan tidak dikenal (unknown tracking code)")
    if row.status == Status.DECIDED:
        state = "decided"
    elif row.status == Status.PENDING and not row.review_count:
        state = "received"
    else:  # claimed, escalated, or waiting for its second review
        state = "in_review"
    outcome = row.action if state == "decided" and row.action in (a.value for a in Action) else None
    return ComplaintStatus(
        state=state,
        outcome=outcome,
        reported_at=row.created_at,
        decided_at=row.decided_at if state == "decided" else None,
        labels=tuple(row.labels or ()),
        reports=row.reports,
        scored=bool(row.scored),
    )


def list_complaints(
    engine: Engine,
    *,
    contacts: bool = False,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
    policy: ComplaintPolicy | None = None,
    item_id: int | None = None,
) -> tuple[list[ComplaintView], int]:
    """Complaints, the most recently reported first, with their reports; contacts only when
    ``contacts`` (leads); only the one about ``item_id`` when given. Returns (page, total)."""
    policy = policy or ComplaintPolicy()
    now = now or utcnow()
    limit = max(1, min(limit, 500))
    offset = max(0, min(offset, 10**9))
    only = [] if item_id is None else [Complaint.item_id == item_id]
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Complaint).where(*only)).scalar_one()
        rows = conn.execute(
            select(
                Complaint.__table__,
                Item.status,
                Item.url,
                Item.text,
                Item.risk,
                Item.enqueued_at,
                Item.priority_key,
            )
            .join(Item, Item.id == Complaint.item_id)
            .where(*only)
            .order_by(Complaint.last_reported_at.desc(), Complaint.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        ids = [r.id for r in rows]
        reports: dict[int, list[ReportView]] = {i: [] for i in ids}
        if ids:
            for rep in conn.execute(
                select(ComplaintReport.__table__)
                .where(ComplaintReport.complaint_id.in_(ids))
                .order_by(ComplaintReport.created_at, ComplaintReport.id)
            ):
                reports[rep.complaint_id].append(
                    ReportView(
                        rep.id,
                        tuple(rep.labels or ()),
                        rep.details,
                        rep.contact if contacts else None,
                        rep.contact_purged_at is not None,
                        rep.created_at,
                    )
                )
    out = []
    for c in rows:
        status, url, text, risk = c.status, c.url, c.text, c.risk
        age = max(0.0, (now - c.enqueued_at).total_seconds() / 3600.0)
        linked = c.linked_at is not None
        # a linked item keeps batch scoring's rank when that is higher: show the item's own figure
        priority = (
            aged_priority(c.priority_key, policy.aging_per_hour, now)
            if linked
            else complaint_priority(risk, c.reports, policy) + policy.aging_per_hour * age
        )
        out.append(
            ComplaintView(
                id=c.id,
                item_id=c.item_id,
                item_status=status,
                url=url,
                text=text,
                reports=c.reports,
                label_counts={k: int(v) for k, v in (c.label_counts or {}).items()},
                scored=c.scored,
                risk=risk,
                priority=priority,
                first_reported_at=c.first_reported_at,
                last_reported_at=c.last_reported_at,
                report_list=tuple(reports[c.id]),
                linked=linked,
            )
        )
    return out, total


@dataclass(frozen=True)
class PublicReports:
    """How often the public reported one item's post, for its page."""

    complaint_id: int
    reports: int
    linked: bool  # the item came from batch scoring; the complaint was attached to it


def public_reports(engine: Engine, item_id: int) -> PublicReports | None:
    """The complaint about this item, if the public reported it (one indexed lookup: unique item_id)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Complaint.id, Complaint.reports, Complaint.linked_at).where(Complaint.item_id == item_id)
        ).first()
    return None if row is None else PublicReports(row.id, row.reports, row.linked_at is not None)


# ---------------------------------------------------------------------------------- retention


def purge_contacts(engine: Engine, retention_days: int, *, now: datetime | None = None) -> int:
    """Erase the contact of every report older than ``retention_days`` and forget throttle windows
    that have ended. Audited as ``complaint_purge`` when it erased anything; returns how many."""
    if retention_days < 1:
        raise Invalid("retention_days must be at least 1")
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    with engine.begin() as conn:
        erased = (
            conn.execute(
                update(ComplaintReport)
                .where(ComplaintReport.contact.is_not(None), ComplaintReport.created_at < cutoff)
                .values(contact=None, contact_purged_at=now)
            ).rowcount
            or 0
        )
        conn.execute(delete(ComplaintThrottleRow).where(ComplaintThrottleRow.window_start <= now - WINDOW))
        if erased:
            write_event(
                conn, None, None, "complaint_purge", {"contacts": erased, "days": retention_days}, now
            )
    return erased
