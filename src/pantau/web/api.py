"""The JSON API (``/api/v1``): the same operations as the pages, described at ``/api/openapi.json``.

Authentication is the same signed session cookie as the pages: ``POST /api/v1/session`` with a
username and password returns a ``csrf_token`` to send as ``X-CSRF-Token`` on every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from pantau.queue import claims
from pantau.queue import decisions as deciding
from pantau.queue import stats as queue_stats
from pantau.queue.errors import QueueError
from pantau.queue.models import Status
from pantau.queue.reads import Sort, audit_log, get_item, item_decisions, list_items, status_counts
from pantau.queue.schemas import (
    DecideResult,
    DecisionIn,
    DecisionOut,
    ItemFilter,
    ItemOut,
    iso,
    parse_datetime,
)
from pantau.queue.undo import undo_last
from pantau.queue.users import UserView
from pantau.web import auth
from pantau.web.deps import api_csrf, api_role, api_user, config_of, engine_of
from pantau.web.params import ItemId, ItemIdFilter, Offset
from pantau.web.security import csrf_token

router = APIRouter(prefix="/api/v1", tags=["queue"])

Reviewer = Annotated[UserView, Depends(api_user)]
Lead = Annotated[UserView, Depends(api_role("lead"))]
Admin = Annotated[UserView, Depends(api_role("admin"))]
Write = [Depends(api_csrf)]
REFUSED = {429: "too many failed attempts; try again later", 401: "wrong username or password"}


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str


class ItemPage(BaseModel):
    total: int
    items: list[ItemOut]


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
        since=parse_datetime(since),
        until=parse_datetime(until),
    )


@router.post("/session", response_model=SessionOut)
def sign_in(request: Request, body: Credentials) -> SessionOut:
    """Sign in; the response's ``csrf_token`` goes into ``X-CSRF-Token`` on writes."""
    try:
        user = auth.sign_in(request, body.username, body.password, via="api")
    except auth.SignInRefused as exc:
        raise HTTPException(
            status_code=exc.status_code, detail=REFUSED[exc.status_code], headers=exc.headers
        ) from None
    return SessionOut(username=user.username, role=user.role, csrf_token=csrf_token(request.session))


@router.delete("/session", status_code=204, dependencies=Write)
def sign_out(request: Request, _user: Reviewer) -> None:
    """End the session on the server: the cookie, and any copy of it, no longer reads or writes."""
    auth.end_session(request, via="api")


@router.get("/items", response_model=ItemPage)
def items(
    request: Request,
    _user: Reviewer,
    status: Annotated[Status | None, Query()] = Status.PENDING,
    label: str | None = None,
    min_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: Sort = Sort.PRIORITY,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ItemPage:
    """List items (default: the pending queue by priority) with filters."""
    views, total = list_items(
        engine_of(request),
        status=status,
        filters=_filter(label, min_risk, max_risk, source, since, until),
        sort=sort,
        limit=limit,
        offset=offset,
        aging_per_hour=config_of(request).aging_per_hour,
    )
    return ItemPage(total=total, items=views)


@router.get("/items/{item_id}", response_model=ItemOut)
def item(request: Request, _user: Reviewer, item_id: ItemId) -> ItemOut:
    """One item with its prediction."""
    return get_item(engine_of(request), item_id, aging_per_hour=config_of(request).aging_per_hour)


@router.get("/items/{item_id}/decisions", response_model=list[DecisionOut])
def decisions(request: Request, _user: Lead, item_id: ItemId) -> list[DecisionOut]:
    """Every decision on an item (leads only: reviewers decide independently)."""
    get_item(engine_of(request), item_id)
    return item_decisions(engine_of(request), item_id)


@router.post("/claims", response_model=ClaimOut, dependencies=Write)
def claim(request: Request, user: Reviewer, body: ClaimBody) -> ClaimOut:
    """Take the next ``n`` pending items by priority (matching the filters) for the lease period."""
    cfg = config_of(request)
    ids = claims.claim(
        engine_of(request),
        user.id,
        body.n,
        lease_minutes=cfg.lease_minutes,
        filters=_filter(body.label, body.min_risk, body.max_risk, body.source, body.since, body.until),
    )
    return ClaimOut(items=[get_item(engine_of(request), i, aging_per_hour=cfg.aging_per_hour) for i in ids])


@router.post("/items/{item_id}/claim", response_model=ItemOut, dependencies=Write)
def claim_one(request: Request, user: Reviewer, item_id: ItemId) -> ItemOut:
    """Claim one particular pending item."""
    claims.claim_item(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
    return get_item(engine_of(request), item_id)


@router.post("/items/{item_id}/release", response_model=ItemOut, dependencies=Write)
def release(request: Request, user: Reviewer, item_id: ItemId) -> ItemOut:
    """Give a claimed item back untouched."""
    claims.release(engine_of(request), user.id, item_id)
    return get_item(engine_of(request), item_id)


@router.post("/items/{item_id}/decision", response_model=DecideResult, dependencies=Write)
def decide(request: Request, user: Reviewer, item_id: ItemId, body: DecisionIn) -> DecideResult:
    """Decide an item you hold. Double-review items wait for a second reviewer; disagreement escalates."""
    return deciding.decide(engine_of(request), user.id, item_id, body)


@router.post("/items/{item_id}/resolution", response_model=DecideResult, dependencies=Write)
def resolve(request: Request, user: Lead, item_id: ItemId, body: DecisionIn) -> DecideResult:
    """Lead: settle an escalated item."""
    return deciding.resolve(engine_of(request), user.id, item_id, body)


@router.post("/items/{item_id}/override", response_model=DecideResult, dependencies=Write)
def override(request: Request, user: Lead, item_id: ItemId, body: DecisionIn) -> DecideResult:
    """Lead: replace the final decision of a decided item (history is kept)."""
    return deciding.override(engine_of(request), user.id, item_id, body)


@router.post("/items/{item_id}/undo", response_model=DecideResult, dependencies=Write)
def undo(request: Request, user: Reviewer, item_id: ItemId) -> DecideResult:
    """Take back your last decision on an item while nobody else has acted on it (and within the undo
    window); a review returns the item to you, claimed, to decide again."""
    cfg = config_of(request)
    return undo_last(
        engine_of(request), user.id, item_id, within_seconds=cfg.undo_seconds, lease_minutes=cfg.lease_minutes
    )


@router.post("/items/{item_id}/lease", response_model=ItemOut, dependencies=Write)
def renew_lease(request: Request, user: Reviewer, item_id: ItemId) -> ItemOut:
    """Renew your claim on an item you are working on (409 once it is no longer yours)."""
    cfg = config_of(request)
    if claims.extend_claim(engine_of(request), user.id, item_id, lease_minutes=cfg.lease_minutes) is None:
        raise QueueError(f"item {item_id} is not claimed by you (or its lease has run out): claim it again")
    return get_item(engine_of(request), item_id, aging_per_hour=cfg.aging_per_hour)


@router.get("/stats")
def stats(request: Request, _user: Lead, days: Annotated[int, Query(ge=1, le=365)] = 30) -> dict[str, Any]:
    """Status counts, decisions per day, label precision, Cohen's kappa per label, score drift."""
    eng = engine_of(request)
    versions, drifts = queue_stats.score_drift(eng)
    return {
        "counts": status_counts(eng),
        "decisions_per_day": [
            {"day": d, "decisions": n} for d, n in queue_stats.decisions_per_day(eng, days=days)
        ],
        "precision": [p.__dict__ for p in queue_stats.label_precision(eng)],
        "agreement": [a.__dict__ for a in queue_stats.agreement(eng)],
        "versions": [{**v.__dict__, "first_scored": iso(v.first_scored)} for v in versions],
        "drift": [d.__dict__ for d in drifts],
    }


@router.get("/audit")
def audit(
    request: Request,
    _user: Admin,
    item_id: ItemIdFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Admin: the audit log, newest first."""
    return audit_log(engine_of(request), item_id=item_id, limit=limit)
