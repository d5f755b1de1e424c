"""The queue page: filters, the reviewer's own claims, and claiming the next items."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from pantau.queue.claims import claim
from pantau.queue.errors import Invalid
from pantau.queue.models import Status
from pantau.queue.reads import SORTS, list_items, status_counts
from pantau.queue.schemas import ItemFilter, parse_datetime
from pantau.queue.users import UserView
from pantau.web.deps import FORM_WRITE, config_of, engine_of, page_user
from pantau.web.params import PageNo
from pantau.web.templating import back, page, page_count

router = APIRouter(include_in_schema=False)

# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Reviewer = Annotated[UserView, Depends(page_user)]


def filters_from_form(label: str, min_risk: str, source: str, since: str, until: str) -> ItemFilter:
    """The queue filters as the page's form sends them (text fields, a date-only "until")."""

    def number(value: str) -> float | None:
        try:  # "0,8" as Indonesian writes it, or "0.8"
            return float(value.strip().replace(",", ".", 1)) if value.strip() else None
        except ValueError:
            raise Invalid(
                f"filter risiko harus angka 0–1 (the risk filter must be a number), got {value[:40]!r}"
            ) from None

    return ItemFilter(
        label=label or None,
        min_risk=number(min_risk),
        source=source.strip() or None,
        since=parse_datetime(since) if since else None,
        until=_end_of(until) if until else None,
    )


def _end_of(value: str) -> datetime | None:
    """A date-only "until" (the form's date picker) includes that whole day; the last day there is
    (9999-12-31) has no day after it, so it means no upper bound at all."""
    parsed = parse_datetime(value)
    if parsed is not None and len(value.strip()) == 10:
        if parsed.date() == datetime.max.date():
            return None
        parsed += timedelta(days=1)
    return parsed


@router.get("/")
def home(_user: Reviewer) -> Response:
    """Signed-in users start at the queue."""
    return back("/queue")


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    user: Reviewer,
    label: str = "",
    min_risk: str = "",
    source: str = "",
    since: str = "",
    until: str = "",
    sort: str = "priority",
    page_no: PageNo = 1,
) -> Response:
    """Pending items by priority (or another order), filtered, a page at a time."""
    filters = filters_from_form(label, min_risk, source, since, until)
    cfg = config_of(request)
    items, total = list_items(
        engine_of(request),
        filters=filters,
        sort=sort if sort in SORTS else "priority",
        not_reviewed_by=user.id,  # a double-review item I reviewed waits for someone else
        limit=cfg.page_size,
        offset=(page_no - 1) * cfg.page_size,
        aging_per_hour=cfg.aging_per_hour,
    )
    mine, _ = list_items(
        engine_of(request),
        status=Status.CLAIMED,
        claimed_by=user.id,
        limit=100,
        aging_per_hour=cfg.aging_per_hour,
    )
    form = {
        "label": label,
        "min_risk": min_risk,
        "source": source,
        "since": since,
        "until": until,
        "sort": sort,
    }
    return page(
        request,
        "queue.html",
        user,
        items=items,
        total=total,
        mine=mine,
        form=form,
        sorts=SORTS,
        counts=status_counts(engine_of(request)),
        page_no=page_no,
        page_size=cfg.page_size,
        pages=page_count(total, cfg.page_size),
        query=urlencode({k: v for k, v in form.items() if v}),
    )


@router.post("/claim", dependencies=FORM_WRITE)
def claim_next(
    request: Request,
    user: Reviewer,
    label: Annotated[str, Form()] = "",
    min_risk: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    """Claim the next batch matching the filters and open the first item."""
    cfg = config_of(request)
    ids = claim(
        engine_of(request),
        user.id,
        cfg.claim_batch,
        lease_minutes=cfg.lease_minutes,
        filters=filters_from_form(label, min_risk, source, since, until),
    )
    if not ids:
        return back("/queue", "Tidak ada item yang bisa diambil (nothing to claim)", request)
    return back(f"/items/{ids[0]}")
