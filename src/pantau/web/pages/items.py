"""One item: its page, claiming and releasing it, and deciding, resolving or overriding it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pantau.labels import LABEL_KEYS, pasal_280_hints
from pantau.queue.casefile import CASE_ACTIONS
from pantau.queue.claims import claim_item, extend_claim, release
from pantau.queue.complaints import public_reports
from pantau.queue.decisions import decide, override, resolve
from pantau.queue.errors import ClaimLost, QueueError
from pantau.queue.models import DecisionKind, Status, utcnow
from pantau.queue.reads import (
    audit_log,
    claimed_by_user,
    get_item,
    item_decisions,
    reviewed_by,
    score_history,
)
from pantau.queue.schemas import DecideResult, DecisionIn, iso
from pantau.queue.undo import undo_last
from pantau.queue.users import UserView
from pantau.web.deps import FORM_WRITE, config_of, engine_of, page_role, page_user
from pantau.web.errors import ErrorText, error_response
from pantau.web.params import ItemId
from pantau.web.reading import bidi_controls, risk_line, term_readings, without_bidi
from pantau.web.templating import STATUS_TEXT, back, offer_undo, page

router = APIRouter(include_in_schema=False)

Reviewer = Annotated[UserView, Depends(page_user)]
Lead = Annotated[UserView, Depends(page_role("lead"))]


def decision_from_form(form: Any) -> DecisionIn:
    """The decision form's fields (checkbox ``label_<key>`` per label, ``action`` from the pressed
    button, clauses ``pasal_280``) as a :class:`DecisionIn`, which validates them."""
    labels = {k: form.get(f"label_{k}") == "1" for k in LABEL_KEYS}
    # The detail selects keep their values when hate speech is unticked; they only count when it is ticked.
    detail = {
        name: (str(form.get(name) or "") or None) if labels["hate_speech"] else None
        for name in ("hs_target", "hs_category", "hs_strength")
    }
    return DecisionIn.model_validate(
        {
            "labels": labels,
            "action": str(form.get("action") or ""),
            "pasal_280": [str(v) for v in form.getlist("pasal_280")],
            "note": str(form.get("note") or ""),
            "confirmed": form.get("confirmed") == "1",
            **detail,
        }
    )


async def _threaded(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """The post, its scores and highlights, the decision form; leads also see history and audit."""
    cfg = config_of(request)
    engine = engine_of(request)
    item = get_item(engine, item_id, aging_per_hour=cfg.aging_per_hour)
    is_lead = user.at_least("lead")
    # Independence: a reviewer never sees someone else's decision on an item.
    decisions = item_decisions(engine, item_id) if is_lead else []
    hints = {c.key for c in pasal_280_hints(item.flags)}
    mine = item.status == Status.CLAIMED and item.claimed_by == user.id
    lease_left = 0
    if mine:  # opening the item is working on it: the lease starts again from now
        expires = extend_claim(engine, user.id, item_id, lease_minutes=cfg.lease_minutes)
        if expires is not None:
            item = item.model_copy(update={"lease_expires_at": expires})
        left = (item.lease_expires_at - utcnow()).total_seconds() if item.lease_expires_at else 0
        lease_left = max(0, round(left / 60))
    was_side = any(
        d.reviewer_id == user.id and d.kind == DecisionKind.REVIEW and not d.undone for d in decisions
    )
    next_ids = [i for i in claimed_by_user(engine, user.id) if i != item_id]
    readings = term_readings(item.text, item.spans)
    bidi = bidi_controls(item.text)
    final = next((d for d in decisions if d.id == item.final_decision_id), None)
    return page(
        request,
        "item.html",
        user,
        item=item,
        decisions=decisions,
        hints=hints,
        readings=readings,
        reading_sources=sorted({r.source for r in readings}),
        risk_line=risk_line(item.risk, item.probabilities, item.thresholds),
        bidi=bidi,
        plain_text=without_bidi(item.text) if bidi else "",
        mine=mine,
        reviewed_by_me=item.status == Status.PENDING and reviewed_by(engine, item_id, user.id),
        lease_left=lease_left,
        was_side=was_side,
        is_lead=is_lead,
        next_id=next_ids[0] if next_ids else None,
        audit=audit_log(engine, item_id=item_id, limit=50) if is_lead else [],
        history=score_history(engine, item.post_id) if is_lead else [],
        public=public_reports(engine, item_id),
        # a case file exists once the item is decided warn/takedown (leads' decisions list has the final one)
        has_case=item.status == Status.DECIDED and final is not None and final.action in CASE_ACTIONS,
    )


@router.post("/items/{item_id}/claim", dependencies=FORM_WRITE)
def claim_one(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """Claim this item."""
    claim_item(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
    return back(f"/items/{item_id}")


@router.post("/items/{item_id}/release", dependencies=FORM_WRITE)
def release_one(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """Give this item back to the queue."""
    release(engine_of(request), user.id, item_id)
    return back("/queue", f"Item {item_id} dikembalikan ke antrean (released)", request)


@router.post("/items/{item_id}/decide", dependencies=FORM_WRITE)
async def decide_one(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """Record the reviewer's decision and open their next claimed item."""
    decision = decision_from_form(await request.form())
    engine, cfg = engine_of(request), config_of(request)
    try:
        result = await _threaded(_decide_reclaiming, engine, user.id, item_id, decision, cfg.lease_minutes)
    except QueueError as exc:  # the claim is lost for good: show what was typed rather than lose it
        return error_response(
            request,
            409,
            f"Keputusan belum tersimpan (not recorded): {exc}",
            title=ErrorText(*exc.title),
            kept_note=decision.note,
        )
    if result.status == Status.PENDING:
        message = f"Item {item_id}: tersimpan — menunggu peninjau kedua (saved — waiting for a second reviewer)"
    else:
        message = f"Item {item_id}: {STATUS_TEXT.get(result.status, result.status)} ({result.status})"
    offer_undo(request, item_id, cfg.undo_seconds)
    remaining = await _threaded(claimed_by_user, engine, user.id)
    return back(f"/items/{remaining[0]}" if remaining else "/queue", message, request)


def _decide_reclaiming(
    engine: Any, user_id: int, item_id: int, decision: DecisionIn, lease_minutes: float
) -> DecideResult:
    """Decide; if the lease ran out while the reviewer was typing and nobody has taken the item since,
    take it back and record the decision rather than throw their work away."""
    try:
        return decide(engine, user_id, item_id, decision)
    except ClaimLost:
        claim_item(engine, user_id, item_id, lease_minutes=lease_minutes)  # raises if it is not free
        return decide(engine, user_id, item_id, decision)


@router.post("/items/{item_id}/undo", dependencies=FORM_WRITE)
def undo_one(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """Take back my last decision on this item (while nobody else has acted on it)."""
    cfg = config_of(request)
    request.session.pop("undo", None)
    undo_last(
        engine_of(request),
        user.id,
        item_id,
        within_seconds=cfg.undo_seconds,
        lease_minutes=cfg.lease_minutes,
    )
    return back(f"/items/{item_id}", f"Keputusan item {item_id} dibatalkan (decision undone)", request)


@router.post("/items/{item_id}/lease", dependencies=FORM_WRITE)
def renew_lease(request: Request, user: Reviewer, item_id: ItemId) -> Response:
    """Renew my claim while I work on the item (the page calls this as I type); JSON for the page."""
    expires = extend_claim(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
    return JSONResponse({"lease_expires_at": iso(expires)}, status_code=200 if expires else 409)


@router.post("/items/{item_id}/resolve", dependencies=FORM_WRITE)
async def resolve_one(request: Request, user: Lead, item_id: ItemId) -> Response:
    """Lead: settle an escalated item."""
    decision = decision_from_form(await request.form())
    await _threaded(resolve, engine_of(request), user.id, item_id, decision)
    offer_undo(request, item_id, config_of(request).undo_seconds)
    return back("/lead", f"Item {item_id} diselesaikan (resolved)", request)


@router.post("/items/{item_id}/override", dependencies=FORM_WRITE)
async def override_one(request: Request, user: Lead, item_id: ItemId) -> Response:
    """Lead: replace the final decision of a decided item."""
    decision = decision_from_form(await request.form())
    await _threaded(override, engine_of(request), user.id, item_id, decision)
    offer_undo(request, item_id, config_of(request).undo_seconds)
    return back(f"/items/{item_id}", f"Keputusan item {item_id} diganti (overridden)", request)
