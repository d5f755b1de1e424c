"""Account pages (issue 18 §1): one account's posts in the queue and what reviewers confirmed; the ranking
of accounts by confirmed violations in a period (leads only). Where the input had no accounts or times,
the pages say so."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from pantau.labels import LABEL_KEYS
from pantau.queue.accounts import account_view, top_accounts
from pantau.queue.models import utcnow
from pantau.queue.users import UserView
from pantau.web import render
from pantau.web.deps import engine_of, page_role, page_user
from pantau.web.templating import page

router = APIRouter(include_in_schema=False)

Reviewer = Annotated[UserView, Depends(page_user)]
Lead = Annotated[UserView, Depends(page_role("lead"))]
Account = Annotated[str, Path(min_length=1, max_length=255, description="an account (the input's author)")]
Days = Annotated[int, Query(ge=0, le=3650, description="the last this many days; 0: all time")]


@router.get("/accounts/{account:path}", response_class=HTMLResponse)
def account_page(request: Request, user: Reviewer, account: Account) -> Response:
    """An account's posts in the queue, flags and decisions per month, confirmed labels, first/last seen."""
    view = account_view(engine_of(request), account)
    chart = render.bar_chart([(m, float(n)) for m, n, _, _ in view.per_month], label_every=1) if view.per_month else None
    confirmed_chart = (
        render.bar_chart([(m, float(c)) for m, _, _, c in view.per_month], label_every=1) if view.per_month else None
    )
    return page(request, "account.html", user, view=view, chart=chart, confirmed_chart=confirmed_chart,
                labels=LABEL_KEYS)


@router.get("/lead/accounts", response_class=HTMLResponse)
def accounts_ranking(request: Request, user: Lead, days: Days = 30) -> Response:
    """Accounts ranked by violations confirmed in the period (leads only)."""
    since = utcnow() - timedelta(days=days) if days else None
    ranking, unknown = top_accounts(engine_of(request), since=since)
    return page(request, "accounts.html", user, ranking=ranking, unknown=unknown, days=days)
