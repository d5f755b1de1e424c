"""Lead downloads: an item's or a campaign's case file (PDF, JSON) and the desk report (page with charts,
PDF, CSV)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from pantau.queue.campaign_case import campaign_case_file
from pantau.queue.casefile import NOT_AVAILABLE, case_file
from pantau.queue.reports import DeskReport, desk_report, period_of, report_csv
from pantau.queue.users import UserView
from pantau.web import pdf
from pantau.web.deps import engine_of, page_role
from pantau.web.params import CampaignId, ItemId
from pantau.web.templating import page

router = APIRouter(include_in_schema=False)

Lead = Annotated[UserView, Depends(page_role("lead"))]
PeriodKind = Annotated[Literal["day", "week"], Query(description="day | week")]
ReportDate = Annotated[str | None, Query(max_length=40, description="an ISO date in the period (UTC)")]


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _json_download(case: dict, filename: str) -> Response:
    return _download(json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8"), "application/json", filename)


@router.get("/lead/items/{item_id}/case.json")
def case_json(request: Request, item_id: ItemId, user: Lead) -> Response:
    """The case file of a decided warn/takedown item, as JSON."""
    return _json_download(case_file(engine_of(request), item_id), f"kasus-{item_id}.json")


@router.get("/lead/items/{item_id}/case.pdf")
async def case_pdf(request: Request, item_id: ItemId, user: Lead) -> Response:
    """The case file of a decided warn/takedown item, as PDF."""
    case = await run_in_threadpool(case_file, engine_of(request), item_id)
    body = await run_in_threadpool(pdf.case_pdf, case)
    return _download(body, "application/pdf", f"kasus-{item_id}.pdf")


@router.get("/lead/campaigns/{campaign_id}/case.json")
def campaign_case_json(request: Request, campaign_id: CampaignId, user: Lead) -> Response:
    """The case file of a campaign with a post decided warn/takedown, as JSON."""
    return _json_download(campaign_case_file(engine_of(request), campaign_id), f"kasus-kampanye-{campaign_id}.json")


@router.get("/lead/campaigns/{campaign_id}/case.pdf")
async def campaign_case_pdf(request: Request, campaign_id: CampaignId, user: Lead) -> Response:
    """The case file of a campaign with a post decided warn/takedown, as PDF."""
    case = await run_in_threadpool(campaign_case_file, engine_of(request), campaign_id)
    body = await run_in_threadpool(pdf.campaign_case_pdf, case)
    return _download(body, "application/pdf", f"kasus-kampanye-{campaign_id}.pdf")


def _report(request: Request, period: str, date: str | None) -> DeskReport:
    return desk_report(engine_of(request), period_of(period, date))


def count_bars(values: list[tuple[str, int]], *, width: int = 300) -> Markup:
    """Horizontal bars of counts as inline SVG (presentation attributes only: CSP-safe), labels escaped."""
    row_h, label_w = 22, 130
    top = max([n for _, n in values] + [1])
    parts = [
        f'<svg class="chart" width="{label_w + width + 50}" height="{row_h * max(1, len(values)) + 6}" role="img">'
    ]
    for i, (label, n) in enumerate(values):
        y = i * row_h + 4
        w = n / top * width
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{max(1.0, w):.1f}" height="16" fill="#2f5d8a">'
            f"<title>{escape(label)}: {n}</title></rect>"
        )
        parts.append(f'<text x="{label_w + width + 6}" y="{y + 13}" font-size="12">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/lead/report", response_class=HTMLResponse)
def report_page(
    request: Request, user: Lead, period: PeriodKind = "day", date: ReportDate = None
) -> Response:
    """The desk report for a day or a week, with charts and links to its PDF and CSV."""
    report = _report(request, period, date)
    day = report.period.start.strftime("%Y-%m-%d")
    return page(
        request,
        "report.html",
        user,
        report=report,
        day=day,
        not_available=NOT_AVAILABLE,
        action_chart=count_bars(list(report.by_action.items())),
        label_chart=count_bars(list(report.by_label.items())),
        day_chart=count_bars(report.per_day),
    )


@router.get("/lead/report.pdf")
async def report_pdf(
    request: Request, user: Lead, period: PeriodKind = "day", date: ReportDate = None
) -> Response:
    """The desk report as PDF."""
    report = await run_in_threadpool(_report, request, period, date)
    body = await run_in_threadpool(pdf.report_pdf, report)
    return _download(body, "application/pdf", f"laporan-{period}-{report.period.start:%Y-%m-%d}.pdf")


@router.get("/lead/report.csv")
def report_csv_export(
    request: Request, user: Lead, period: PeriodKind = "day", date: ReportDate = None
) -> Response:
    """The desk report as CSV (section, key, value)."""
    report = _report(request, period, date)
    body = report_csv(report).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", f"laporan-{period}-{report.period.start:%Y-%m-%d}.csv")
