"""Campaign pages (issue 18 §2): a campaign's posts, accounts, timeline (inline SVG) and the shared text
with each post's differences marked (difflib, word by word); a lead decides every open item of it in one
action (:func:`pantau.queue.campaigns_store.decide_campaign`: one decision and audit event per item)."""

from __future__ import annotations

import difflib
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from pantau.queue.campaigns_store import CampaignView, decide_campaign, get_campaign, shared_text
from pantau.queue.casefile import CASE_ACTIONS
from pantau.queue.users import UserView
from pantau.web import render
from pantau.web.deps import FORM_WRITE, engine_of, page_role, page_user
from pantau.web.pages.items import decision_from_form
from pantau.web.params import CampaignId
from pantau.web.templating import back, page

router = APIRouter(include_in_schema=False)

Reviewer = Annotated[UserView, Depends(page_user)]
Lead = Annotated[UserView, Depends(page_role("lead"))]


def marked_difference(shared: str, text: str) -> Markup:
    """``text`` with what differs from ``shared`` marked: added or changed words in ``<ins>``, dropped
    ones in ``<del>`` (everything escaped)."""
    a, b = shared.split(), text.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(Markup("<del>{}</del>").format(" ".join(a[i1:i2])))
        if j2 > j1:
            out.append(Markup("<ins>{}</ins>").format(" ".join(b[j1:j2])))
    return Markup(" ").join(out)


def timeline(view: CampaignView) -> Markup | None:
    """Posts per hour as an SVG bar chart; None when no post has a time."""
    hours = Counter(i.created_at.strftime("%m-%d %H:00") for i in view.items if i.created_at is not None)
    if not hours:
        return None
    return render.bar_chart(sorted(hours.items()), label_every=max(1, len(hours) // 8), bar_width=14)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, user: Reviewer, campaign_id: CampaignId) -> Response:
    """A campaign: its posts and accounts, a timeline, the shared text and each post's differences."""
    view = get_campaign(engine_of(request), campaign_id)
    shared = shared_text(view)
    diffs = {i.id: marked_difference(shared, i.text) for i in view.items}
    return page(request, "campaign.html", user, view=view, shared=shared, diffs=diffs, chart=timeline(view),
                is_lead=user.at_least("lead"),
                # a case file exists once a person decided one of its posts warn or takedown
                has_case=any(i.action in CASE_ACTIONS for i in view.items),
                open_items=sum(1 for i in view.items if i.status in ("pending", "claimed", "escalated")))


@router.post("/campaigns/{campaign_id}/decide", dependencies=FORM_WRITE)
async def decide_whole_campaign(request: Request, user: Lead, campaign_id: CampaignId) -> Response:
    """Lead: decide every open item of the campaign at once (each item gets its own decision)."""
    decision = decision_from_form(await request.form())
    result = await run_in_threadpool(decide_campaign, engine_of(request), user.id, campaign_id, decision)
    message = (f"Kampanye #{campaign_id}: {len(result.decided)} item diputus ({decision.action}); "
               f"{len(result.left)} dilewati (left as they were)")
    return back(f"/campaigns/{campaign_id}", message, request)
