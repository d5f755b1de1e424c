"""The public complaint desk (posko aduan): a form and an API anyone may use, a status page per
tracking code, and the reviewers' list of complaints (contacts for leads only).

Public routes: ``GET/POST /aduan``, ``GET /aduan/{code}``, ``POST /api/v1/complaints``,
``GET /api/v1/complaints/{code}``. The form carries the session's CSRF token like every other form
(an anonymous visitor has a session cookie too) and is refused when another site started the post;
the API takes no cookie and so has nothing a forged request could ride on, but it is refused from
another site's page all the same. The rules (limits, merging, priority, retention) are
:mod:`pantau.queue.complaints`'; this module scores the pasted text with the deployed model when the
app has one (``WebConfig.complaint_model``), and files the report unscored — saying so — when not.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from pantau.labels import LABEL_KEYS, LABELS_BY_KEY
from pantau.queue import complaints as desk
from pantau.queue.errors import Invalid
from pantau.queue.users import UserView
from pantau.web.auth import client_of
from pantau.web.deps import CsrfFailed, config_of, engine_of, page_role, session_user
from pantau.web.params import ComplaintItem, PageNo
from pantau.web.security import cross_site, csrf_ok
from pantau.web.templating import page, page_count

log = logging.getLogger("pantau.web.complaints")

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["complaints"])

Reviewer = Annotated[UserView, Depends(page_role("reviewer"))]
Code = Annotated[str, Path(min_length=1, max_length=64, description="a tracking code")]

# The four labels as the public reads them: plain Indonesian, English alongside.
PLAIN: dict[str, tuple[str, str]] = {
    "hate_speech": (
        "Menyerang atau merendahkan orang karena agama, suku, ras, gender, tubuh atau kelompoknya",
        "hate speech: attacks people for who they are",
    ),
    "abusive": ("Kata-kata kasar, makian atau hinaan", "abusive language: profanity and insults"),
    "divisive_label": (
        "Memakai julukan yang memecah belah (cebong, kampret, kadrun, buzzerRp, antek asing …) untuk merendahkan",
        "divisive political label used to demean",
    ),
    "incitement": (
        "Mengajak menyerang, mengusir, memusuhi, atau mengadu domba kelompok",
        "incitement: calls to act against people or to pit groups against each other",
    ),
}
SHORT = {k: f"{LABELS_BY_KEY[k].name_id} ({LABELS_BY_KEY[k].name_en})" for k in LABEL_KEYS}
STATE_TEXT: dict[str, tuple[str, str]] = {
    "received": ("Diterima — menunggu ditinjau", "received, waiting for review"),
    "in_review": ("Sedang ditinjau", "in review"),
    "decided": ("Sudah diputuskan", "decided"),
}
OUTCOME_TEXT: dict[str, tuple[str, str]] = {
    "no_violation": ("Tidak ditemukan pelanggaran", "no violation found"),
    "warn": ("Pelanggaran — diberi peringatan", "a violation: a warning is recommended"),
    "takedown": ("Pelanggaran — direkomendasikan untuk diturunkan", "a violation: takedown recommended"),
}
UNSCORED_TEXT = (
    "Tidak ada model yang dipasang, jadi laporan ini belum dinilai otomatis; peninjau membacanya langsung",
    "no model is configured, so this report was not scored automatically; a reviewer reads it as it is",
)


# ------------------------------------------------------------------------------------------ scoring


class ComplaintScorer:
    """The deployed model, loaded once on first use (``pantau.model.Classifier``), scoring one text."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._classifier: Any = None
        self.error: str | None = None if source else "no model configured"

    @property
    def available(self) -> bool:
        return self.source is not None and self.error is None

    def _load(self) -> Any:
        if self._classifier is None and self.error is None and self.source is not None:
            try:
                from pantau.model.classifier import Classifier

                self._classifier = Classifier.load(self.source)
            except Exception as exc:
                log.exception("complaints: cannot load the model %s; reports are filed unscored", self.source)
                self.error = f"model {self.source} could not be loaded: {type(exc).__name__}"
        return self._classifier

    def score(self, text: str | None) -> desk.ComplaintScore | None:
        """The model's scores, thresholds and divisive-term spans for ``text``; None without a model
        (or without text: a link alone is not scored)."""
        if not text:
            return None
        with self._lock:  # one model, one post at a time (torch and the lexicon cache are shared)
            clf = self._load()
            if clf is None:
                return None
            try:
                row = clf.score([text])[0]
                spans = _spans(clf, text)
            except Exception:
                log.exception("complaints: scoring failed; the report is filed unscored")
                return None
            ident = clf.describe()
        thresholds = {str(k): float(v) for k, v in zip(clf.labels, clf.thresholds, strict=True)}
        return desk.ComplaintScore(
            probabilities={k: float(row["probabilities"].get(k, 0.0)) for k in LABEL_KEYS},
            flags={k: bool(row["flags"].get(k, False)) for k in LABEL_KEYS},
            thresholds=thresholds,
            risk=float(row["risk"]),
            spans=spans,
            model_name=ident.get("model_name"),
            model_version=str(ident.get("model_version") or "unknown"),
        )


def _spans(clf: Any, text: str) -> list[dict[str, Any]]:
    """The lexicon's spans in ``text`` with the model's use-reading where it has one (as the batch job
    stores them)."""
    from pantau.text import find_spans

    spans = [
        {k: v for k, v in dataclasses.asdict(s).items() if k in ("start", "end", "term", "category")}
        for s in find_spans(text)
    ]
    readings = clf.term_use_probabilities([text])
    if readings:
        use = {(start, end): p for start, end, p in readings[0]}
        for span in spans:
            if (span["start"], span["end"]) in use:
                span["use"] = round(float(use[span["start"], span["end"]]), 4)
    return spans


def scorer_of(request: Request) -> ComplaintScorer:
    state = request.app.state
    scorer = getattr(state, "complaint_scorer", None)
    if scorer is None:
        scorer = state.complaint_scorer = ComplaintScorer(config_of(request).complaint_model)
    return scorer


# ------------------------------------------------------------------------------------------ filing


def _file(request: Request, report: desk.ComplaintIn) -> desk.Filed:
    engine, policy = engine_of(request), config_of(request).complaints
    checked = report.checked(policy)
    scorer = scorer_of(request)
    # A post already reported keeps its first score, and one batch scoring queued keeps batch scoring's:
    # no need to run the model again.
    score = scorer.score(checked.text) if desk.needs_score(engine, checked) else None
    return desk.file_complaint(engine, checked, client=client_of(request), policy=policy, score=score)


def public_form_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """The session's CSRF token, signed in or not; never a post another site started."""
    if cross_site(request.headers) or not csrf_ok(request.session, csrf_token):
        raise CsrfFailed


def _form(request: Request, status_code: int = 200, **context: Any) -> Response:
    values = {"url": "", "text": "", "details": "", "contact": "", "labels": ()}
    values.update(context.pop("values", {}))
    return page(
        request,
        "complaint_form.html",
        session_user(request),
        status_code=status_code,
        PLAIN=PLAIN,
        values=values,
        error=context.pop("error", None),
        policy=config_of(request).complaints,
        model_ready=scorer_of(request).source is not None,
        UNSCORED_TEXT=UNSCORED_TEXT,
        **context,
    )


@router.get("/aduan", response_class=HTMLResponse)
def complaint_form(request: Request, kode: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """The public form; ``?kode=`` (the status lookup box) goes to that code's status page."""
    if kode is not None:
        code = kode.strip()
        if desk.looks_like_code(code):
            return RedirectResponse(f"/aduan/{quote(code, safe='')}", status_code=303)
        return _form(request, 404, lookup_error="Kode pelacakan tidak dikenal (unknown tracking code)")
    return _form(request)


@router.post("/aduan", dependencies=[Depends(public_form_csrf)])
def complaint_submit(
    request: Request,
    url: Annotated[str, Form(max_length=desk.MAX_URL_CHARS * 2)] = "",
    text: Annotated[str, Form(max_length=100_000)] = "",
    details: Annotated[str, Form(max_length=20_000)] = "",
    contact: Annotated[str, Form(max_length=1000)] = "",
    labels: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI needs a literal default
) -> Response:
    """File a report and go to its status page (which shows the tracking code), or show the form again
    with why not (the person's input kept)."""
    report = desk.ComplaintIn(tuple(labels), url=url, text=text, details=details, contact=contact)
    values = {"url": url, "text": text, "details": details, "contact": contact, "labels": tuple(labels)}
    try:
        filed = _file(request, report)
    except desk.RateLimited as exc:
        reply = _form(request, 429, values=values, error=str(exc))
        reply.headers["Retry-After"] = str(exc.retry_after)
        return reply
    except Invalid as exc:
        return _form(request, 400, values=values, error=str(exc))
    return RedirectResponse(f"/aduan/{filed.code}?baru={1 + filed.merged}", status_code=303)


@router.get("/aduan/{code}", response_class=HTMLResponse)
def complaint_status(request: Request, code: Code, baru: Annotated[int, Query(ge=0, le=2)] = 0) -> Response:
    """Where a report stands: received, in review, decided (and the outcome) — nothing about who."""
    status = desk.status_by_code(engine_of(request), code)
    return page(
        request,
        "complaint_status.html",
        session_user(request),
        code=code,
        status=status,
        just_filed=baru,
        PLAIN=PLAIN,
        STATE_TEXT=STATE_TEXT,
        OUTCOME_TEXT=OUTCOME_TEXT,
        UNSCORED_TEXT=UNSCORED_TEXT,
    )


@router.get("/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request, user: Reviewer, page_no: PageNo = 1, item: ComplaintItem = None
) -> Response:
    """Complaints for reviewers: the post, how often and for what it was reported, its item; leads
    also see the reporters' contacts (until they are erased). ``?item=`` shows only that item's."""
    cfg = config_of(request)
    size = cfg.page_size
    rows, total = desk.list_complaints(
        engine_of(request),
        contacts=user.at_least("lead"),
        limit=size,
        offset=(page_no - 1) * size,
        policy=cfg.complaints,
        item_id=item,
    )
    return page(
        request,
        "complaints.html",
        user,
        rows=rows,
        total=total,
        page_no=page_no,
        pages=page_count(total, size),
        only_item=item,
        PLAIN=PLAIN,
        SHORT=SHORT,
        leads=user.at_least("lead"),
        policy=cfg.complaints,
        model_ready=scorer_of(request).source is not None,
        UNSCORED_TEXT=UNSCORED_TEXT,
    )


# ------------------------------------------------------------------------------------------ the API


class ComplaintBody(BaseModel):
    """A report: a link and/or the post's text, at least one label, optionally a description and a contact."""

    url: str | None = Field(default=None, max_length=desk.MAX_URL_CHARS)
    text: str | None = Field(default=None, max_length=100_000)
    labels: list[str] = Field(min_length=1, max_length=len(LABEL_KEYS))
    details: str | None = Field(default=None, max_length=20_000)
    contact: str | None = Field(default=None, max_length=desk.MAX_CONTACT_CHARS)


class FiledOut(BaseModel):
    code: str
    status_url: str
    merged: bool
    reports: int
    scored: bool
    message: str


class StatusOut(BaseModel):
    state: str
    state_text: str
    outcome: str | None
    outcome_text: str | None
    reported_at: str
    decided_at: str | None
    labels: list[str]
    reports: int
    scored: bool


@api_router.post("/complaints", status_code=201, response_model=FiledOut)
def api_file(request: Request, body: ComplaintBody) -> Any:
    """File a report (no account): 201 with the tracking code, 400 for a report that breaks the rules,
    429 with ``Retry-After`` over the hourly limits."""
    if cross_site(request.headers):
        raise HTTPException(
            status_code=403, detail="reports are filed from this site or a script, not another site"
        )
    report = desk.ComplaintIn(tuple(body.labels), body.url, body.text, body.details, body.contact)
    try:
        filed = _file(request, report)
    except desk.RateLimited as exc:
        return JSONResponse(
            {"detail": str(exc), "title": "Terlalu banyak laporan (too many reports)"},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    message = (
        "Laporan digabung dengan laporan sebelumnya tentang unggahan yang sama (merged with earlier reports)"
        if filed.merged
        else "Laporan diterima (report received)"
    )
    if not filed.scored:
        message += f"; {UNSCORED_TEXT[0]} ({UNSCORED_TEXT[1]})"
    return FiledOut(
        code=filed.code,
        status_url=f"/aduan/{filed.code}",
        merged=filed.merged,
        reports=filed.reports,
        scored=filed.scored,
        message=message,
    )


@api_router.get("/complaints/{code}", response_model=StatusOut)
def api_status(request: Request, code: Code) -> StatusOut:
    """Where a report stands (no account): state, and the outcome once decided."""
    s = desk.status_by_code(engine_of(request), code)
    return StatusOut(
        state=s.state,
        state_text=" / ".join(STATE_TEXT[s.state]),
        outcome=s.outcome,
        outcome_text=" / ".join(OUTCOME_TEXT[s.outcome]) if s.outcome else None,
        reported_at=s.reported_at.isoformat() + "Z",
        decided_at=s.decided_at.isoformat() + "Z" if s.decided_at else None,
        labels=list(s.labels),
        reports=s.reports,
        scored=s.scored,
    )


__all__ = ["PLAIN", "ComplaintScorer", "api_router", "router"]
