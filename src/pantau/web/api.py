"""The JSON API (``/api/v1``): the same operations as the pages, described at ``/api/openapi.json``.

Authentication is the same signed session cookie as the pages: ``POST /api/v1/session`` with a
username and password returns a ``csrf_token`` to send as ``X-CSRF-Token`` on every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from pantau.labels import LABEL_KEYS
from pantau.queue import stats as queue_stats
from pantau.queue import store
from pantau.queue.store import DecisionInput, ItemFilter
from pantau.queue.users import UserView, authenticate
from pantau.web.deps import api_csrf, api_role, api_user, config_of, engine_of
from pantau.web.security import csrf_token

router = APIRouter(prefix="/api/v1", tags=["queue"])

Reviewer = Annotated[UserView, Depends(api_user)]
Lead = Annotated[UserView, Depends(api_role("lead"))]
Admin = Annotated[UserView, Depends(api_role("admin"))]
Write = [Depends(api_csrf)]


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str


class Span(BaseModel):
    start: int
    end: int
    term: str
    category: str


class ItemOut(BaseModel):
    id: int
    post_id: str
    text: str
    source: str | None
    author: str | None
    url: str | None
    created_at: str | None
    model_name: str | None
    model_version: str
    probabilities: dict[str, float]
    flags: dict[str, bool]
    thresholds: dict[str, float] | None
    spans: list[Span]
    risk: float
    priority: float
    status: Literal["pending", "claimed", "decided", "escalated"]
    required_reviews: int
    review_count: int
    escalation_reason: str | None
    claimed_by: int | None
    lease_expires_at: str | None
    enqueued_at: str
    decided_at: str | None
    final_decision_id: int | None


class ItemPage(BaseModel):
    total: int
    items: list[ItemOut]


class DecisionBody(BaseModel):
    """A decision: confirm or correct all four labels, pick an action, optionally clauses and a note."""

    labels: dict[str, bool] = Field(description=f"all of: {', '.join(LABEL_KEYS)}")
    action: Literal["no_violation", "warn", "takedown", "escalate"]
    pasal_280: list[str] = Field(default_factory=list, description="clause keys, e.g. 280_1_c")
    hs_target: str | None = None
    hs_category: str | None = None
    hs_strength: str | None = None
    note: str | None = Field(default=None, max_length=5000)

    def to_input(self) -> DecisionInput:
        return DecisionInput(**self.model_dump())


class DecisionOut(BaseModel):
    id: int
    item_id: int
    reviewer_id: int
    reviewer: str
    kind: str
    labels: dict[str, bool]
    hs_target: str | None
    hs_category: str | None
    hs_strength: str | None
    action: str
    pasal_280: list[str]
    note: str | None
    model_version: str
    created_at: str


class DecideOut(BaseModel):
    item_id: int
    decision_id: int
    status: str
    escalation_reason: str | None


class ClaimBody(BaseModel):
    n: int = Field(default=1, ge=1, le=100)
    label: str | None = None
    min_risk: float | None = Field(default=None, ge=0, le=1)
    max_risk: float | None = Field(default=None, ge=0, le=1)
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class ClaimOut(BaseModel):
    items: list[ItemOut]


def _item(view: store.ItemView) -> ItemOut:
    return ItemOut(**view.to_dict())


def _filter(
    label: str | None,
    min_risk: float | None,
    max_risk: float | None,
    source: str | None,
    since: datetime | None,
    until: datetime | None,
) -> ItemFilter:
    return ItemFilter(
        label=label,
        min_risk=min_risk,
        max_risk=max_risk,
        source=source,
        since=store.parse_datetime(since),
        until=store.parse_datetime(until),
    )


@router.post("/session", response_model=SessionOut)
def sign_in(request: Request, body: Credentials) -> SessionOut:
    """Sign in; the response's ``csrf_token`` goes into ``X-CSRF-Token`` on writes."""
    throttle = request.app.state.throttle
    if throttle.blocked(body.username):
        raise HTTPException(status_code=429, detail="too many failed attempts; try again later")
    user = authenticate(engine_of(request), body.username, body.password)
    if user is None:
        throttle.failed(body.username)
        store.audit(engine_of(request), None, "login_failed", {"username": body.username[:64], "via": "api"})
        raise HTTPException(status_code=401, detail="wrong username or password")
    throttle.succeeded(body.username)
    request.session.clear()
    request.session.update(uid=user.id, epoch=user.session_epoch)
    store.audit(engine_of(request), user.id, "login", {"via": "api"})
    return SessionOut(username=user.username, role=user.role, csrf_token=csrf_token(request.session))


@router.delete("/session", status_code=204, dependencies=Write)
def sign_out(request: Request, _user: Reviewer) -> None:
    """End the session."""
    request.session.clear()


@router.get("/items", response_model=ItemPage)
def items(
    request: Request,
    _user: Reviewer,
    status: Annotated[Literal["pending", "claimed", "decided", "escalated"] | None, Query()] = "pending",
    label: str | None = None,
    min_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: Literal["priority", "risk", "newest", "oldest", "enqueued"] = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemPage:
    """List items (default: the pending queue by priority) with filters."""
    views, total = store.list_items(
        engine_of(request),
        status=status,
        filters=_filter(label, min_risk, max_risk, source, since, until),
        sort=sort,
        limit=limit,
        offset=offset,
        aging_per_hour=config_of(request).aging_per_hour,
    )
    return ItemPage(total=total, items=[_item(v) for v in views])


@router.get("/items/{item_id}", response_model=ItemOut)
def item(request: Request, _user: Reviewer, item_id: int) -> ItemOut:
    """One item with its prediction."""
    return _item(
        store.get_item(engine_of(request), item_id, aging_per_hour=config_of(request).aging_per_hour)
    )


@router.get("/items/{item_id}/decisions", response_model=list[DecisionOut])
def decisions(request: Request, _user: Lead, item_id: int) -> list[DecisionOut]:
    """Every decision on an item (leads only: reviewers decide independently)."""
    store.get_item(engine_of(request), item_id)
    return [DecisionOut(**d.to_dict()) for d in store.item_decisions(engine_of(request), item_id)]


@router.post("/claims", response_model=ClaimOut, dependencies=Write)
def claim(request: Request, user: Reviewer, body: ClaimBody) -> ClaimOut:
    """Take the next ``n`` pending items by priority (matching the filters) for the lease period."""
    cfg = config_of(request)
    ids = store.claim(
        engine_of(request),
        user.id,
        body.n,
        lease_minutes=cfg.lease_minutes,
        filters=_filter(body.label, body.min_risk, body.max_risk, body.source, body.since, body.until),
    )
    return ClaimOut(
        items=[_item(store.get_item(engine_of(request), i, aging_per_hour=cfg.aging_per_hour)) for i in ids]
    )


@router.post("/items/{item_id}/claim", response_model=ItemOut, dependencies=Write)
def claim_one(request: Request, user: Reviewer, item_id: int) -> ItemOut:
    """Claim one particular pending item."""
    store.claim_item(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
    return _item(store.get_item(engine_of(request), item_id))


@router.post("/items/{item_id}/release", response_model=ItemOut, dependencies=Write)
def release(request: Request, user: Reviewer, item_id: int) -> ItemOut:
    """Give a claimed item back untouched."""
    store.release(engine_of(request), user.id, item_id)
    return _item(store.get_item(engine_of(request), item_id))


@router.post("/items/{item_id}/decision", response_model=DecideOut, dependencies=Write)
def decide(request: Request, user: Reviewer, item_id: int, body: DecisionBody) -> DecideOut:
    """Decide an item you hold. Double-review items wait for a second reviewer; disagreement escalates."""
    r = store.decide(engine_of(request), user.id, item_id, body.to_input())
    return DecideOut(
        item_id=r.item_id, decision_id=r.decision_id, status=r.status, escalation_reason=r.escalation_reason
    )


@router.post("/items/{item_id}/resolution", response_model=DecideOut, dependencies=Write)
def resolve(request: Request, user: Lead, item_id: int, body: DecisionBody) -> DecideOut:
    """Lead: settle an escalated item."""
    r = store.resolve(engine_of(request), user.id, item_id, body.to_input())
    return DecideOut(item_id=r.item_id, decision_id=r.decision_id, status=r.status, escalation_reason=None)


@router.post("/items/{item_id}/override", response_model=DecideOut, dependencies=Write)
def override(request: Request, user: Lead, item_id: int, body: DecisionBody) -> DecideOut:
    """Lead: replace the final decision of a decided item (history is kept)."""
    r = store.override(engine_of(request), user.id, item_id, body.to_input())
    return DecideOut(item_id=r.item_id, decision_id=r.decision_id, status=r.status, escalation_reason=None)


@router.get("/stats")
def stats(request: Request, _user: Lead, days: Annotated[int, Query(ge=1, le=365)] = 30) -> dict[str, Any]:
    """Status counts, decisions per day, label precision, Cohen's kappa per label, score drift."""
    eng = engine_of(request)
    versions, drifts = queue_stats.score_drift(eng)
    return {
        "counts": store.status_counts(eng),
        "decisions_per_day": [
            {"day": d, "decisions": n} for d, n in queue_stats.decisions_per_day(eng, days=days)
        ],
        "precision": [p.__dict__ for p in queue_stats.label_precision(eng)],
        "agreement": [a.__dict__ for a in queue_stats.agreement(eng)],
        "versions": [{**v.__dict__, "first_scored": store.iso(v.first_scored)} for v in versions],
        "drift": [d.__dict__ for d in drifts],
    }


@router.get("/audit")
def audit(
    request: Request,
    _user: Admin,
    item_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Admin: the audit log, newest first."""
    return store.audit_log(engine_of(request), item_id=item_id, limit=limit)
