"""Lead pages: escalated items and recent decisions, and the quality statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from pantau.labels import LABEL_KEYS
from pantau.queue import stats as queue_stats
from pantau.queue.models import Status
from pantau.queue.reads import list_items, status_counts
from pantau.queue.users import UserView
from pantau.web import render
from pantau.web.deps import config_of, engine_of, page_role
from pantau.web.templating import page

router = APIRouter(include_in_schema=False)

Lead = Annotated[UserView, Depends(page_role("lead"))]


@router.get("/lead", response_class=HTMLResponse)
def lead_page(request: Request, user: Lead) -> Response:
    """Escalated items, oldest first, and the latest decided ones."""
    cfg = config_of(request)
    escalated, total = list_items(
        engine_of(request),
        status=Status.ESCALATED,
        sort="enqueued",
        limit=200,
        aging_per_hour=cfg.aging_per_hour,
    )
    recent, _ = list_items(
        engine_of(request),
        status=Status.DECIDED,
        sort="decided",  # the latest decision first
        limit=20,
        aging_per_hour=cfg.aging_per_hour,
    )
    return page(request, "lead.html", user, escalated=escalated, total=total, recent=recent)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, user: Lead) -> Response:
    """Counts, decisions per day, label precision, reviewer agreement and score drift, with charts."""
    eng = engine_of(request)
    per_day = queue_stats.decisions_per_day(eng, days=30)
    precision = queue_stats.label_precision(eng)
    agreement = queue_stats.agreement(eng)
    versions, drifts = queue_stats.score_drift(eng)
    drift_charts = [
        render.hbar_chart([(k, d.mean_delta[k]) for k in ("risk", *LABEL_KEYS)], lo=-0.5, hi=0.5)
        for d in drifts
    ]
    return page(
        request,
        "stats.html",
        user,
        counts=status_counts(eng),
        per_day=per_day,
        per_day_chart=render.bar_chart([(d, float(n)) for d, n in per_day]),
        precision=precision,
        precision_chart=render.hbar_chart([(p.label, p.precision) for p in precision]),
        agreement=agreement,
        versions=versions,
        drifts=list(zip(drifts, drift_charts, strict=True)),
    )
