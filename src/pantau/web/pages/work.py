"""A reviewer's own work tools: my decisions (today, or all of them) and search by post id, account or text."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from pantau.queue.models import utcnow
from pantau.queue.reads import SEARCH_MAX_CHARS, my_decisions, search_items
from pantau.queue.users import UserView
from pantau.web.deps import config_of, engine_of, page_user
from pantau.web.params import PageNo
from pantau.web.templating import page, page_count

router = APIRouter(include_in_schema=False)

Reviewer = Annotated[UserView, Depends(page_user)]


def start_of_today() -> datetime:
    """Midnight UTC today (naive, as the store keeps times): the app's times are all UTC."""
    return datetime.combine(utcnow().date(), time.min)


@router.get("/mine", response_class=HTMLResponse)
def mine_page(request: Request, user: Reviewer, today: bool = False, page_no: PageNo = 1) -> Response:
    """My decisions, newest first: today's (``?today=1``) or my whole history, a page at a time."""
    engine, size = engine_of(request), config_of(request).page_size
    rows, total = my_decisions(
        engine, user.id, since=start_of_today() if today else None, limit=size, offset=(page_no - 1) * size
    )
    _, today_total = my_decisions(engine, user.id, since=start_of_today(), limit=1)
    return page(
        request,
        "mine.html",
        user,
        rows=rows,
        total=total,
        today=today,
        today_total=today_total,
        page_no=page_no,
        pages=page_count(total, size),
        query="today=1" if today else "",
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user: Reviewer, q: str = "", page_no: PageNo = 1) -> Response:
    """Items of any status by post id, account or text (what the reviewer typed, wildcards literal)."""
    cfg = config_of(request)
    items, total = [], 0
    if q.strip():
        items, total = search_items(
            engine_of(request),
            q[:SEARCH_MAX_CHARS],
            limit=cfg.page_size,
            offset=(page_no - 1) * cfg.page_size,
            aging_per_hour=cfg.aging_per_hour,
        )
    return page(
        request,
        "search.html",
        user,
        q=q[:SEARCH_MAX_CHARS],
        items=items,
        total=total,
        page_no=page_no,
        pages=page_count(total, cfg.page_size),
        query=urlencode({"q": q[:SEARCH_MAX_CHARS]}) if q else "",
    )
