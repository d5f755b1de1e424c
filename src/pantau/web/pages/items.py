"""One item: its page, claiming and releasing it, and deciding, resolving or overriding it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from pantau.labels import LABEL_KEYS, pasal_280_hints
from pantau.queue.claims import claim_item, release
from pantau.queue.decisions import decide, override, resolve
from pantau.queue.models import Status
from pantau.queue.reads import audit_log, claimed_by_user, get_item, item_decisions, score_history
from pantau.queue.schemas import DecisionIn
from pantau.queue.users import UserView
from pantau.web.deps import FORM_WRITE, config_of, engine_of, page_role, page_user
from pantau.web.templating import STATUS_TEXT, back, page

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
            **detail,
        }
    )


async def _threaded(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, user: Reviewer, item_id: int) -> Response:
    """The post, its scores and highlights, the decision form; leads also see history and audit."""
    cfg = config_of(request)
    engine = engine_of(request)
    item = get_item(engine, item_id, aging_per_hour=cfg.aging_per_hour)
    is_lead = user.at_least("lead")
    # Independence: a reviewer never sees someone else's decision on an item.
    decisions = item_decisions(engine, item_id) if is_lead else []
    hints = {c.key for c in pasal_280_hints(item.flags)}
    mine = item.status == Status.CLAIMED and item.claimed_by == user.id
    next_ids = [i for i in claimed_by_user(engine, user.id) if i != item_id]
    return page(
        request,
        "item.html",
        user,
        item=item,
        decisions=decisions,
        hints=hints,
        mine=mine,
        is_lead=is_lead,
        next_id=next_ids[0] if next_ids else None,
        audit=audit_log(engine, item_id=item_id, limit=50) if is_lead else [],
        history=score_history(engine, item.post_id) if is_lead else [],
    )


@router.post("/items/{item_id}/claim", dependencies=FORM_WRITE)
def claim_one(request: Request, user: Reviewer, item_id: int) -> Response:
    """Claim this item."""
    claim_item(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
    return back(f"/items/{item_id}")


@router.post("/items/{item_id}/release", dependencies=FORM_WRITE)
def release_one(request: Request, user: Reviewer, item_id: int) -> Response:
    """Give this item back to the queue."""
    release(engine_of(request), user.id, item_id)
    return back("/queue", f"Item {item_id} dikembalikan ke antrean (released)", request)


@router.post("/items/{item_id}/decide", dependencies=FORM_WRITE)
async def decide_one(request: Request, user: Reviewer, item_id: int) -> Response:
    """Record the reviewer's decision and open their next claimed item."""
    decision = decision_from_form(await request.form())
    result = await _threaded(decide, engine_of(request), user.id, item_id, decision)
    message = f"Item {item_id}: {STATUS_TEXT.get(result.status, result.status)} ({result.status})"
    remaining = await _threaded(claimed_by_user, engine_of(request), user.id)
    return back(f"/items/{remaining[0]}" if remaining else "/queue", message, request)


@router.post("/items/{item_id}/resolve", dependencies=FORM_WRITE)
async def resolve_one(request: Request, user: Lead, item_id: int) -> Response:
    """Lead: settle an escalated item."""
    decision = decision_from_form(await request.form())
    await _threaded(resolve, engine_of(request), user.id, item_id, decision)
    return back("/lead", f"Item {item_id} diselesaikan (resolved)", request)


@router.post("/items/{item_id}/override", dependencies=FORM_WRITE)
async def override_one(request: Request, user: Lead, item_id: int) -> Response:
    """Lead: replace the final decision of a decided item."""
    decision = decision_from_form(await request.form())
    await _threaded(override, engine_of(request), user.id, item_id, decision)
    return back(f"/items/{item_id}", f"Keputusan item {item_id} diganti (overridden)", request)
