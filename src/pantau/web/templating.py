"""The Jinja2 environment of the pages, and the two responses every page handler ends with."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from pantau.labels import (
    HS_CATEGORIES,
    HS_DISPLAY_ID,
    HS_STRENGTHS,
    HS_TARGETS,
    LABEL_KEYS,
    LABELS,
    PASAL_280,
)
from pantau.queue.models import Action, Role, Status
from pantau.queue.schemas import iso
from pantau.queue.users import UserView
from pantau.web import reading, render
from pantau.web.security import csrf_token

HERE = Path(__file__).parent
ACTION_TEXT = {
    Action.NO_VIOLATION: ("Tidak melanggar", "No violation", "n"),
    Action.WARN: ("Peringatan", "Warn", "w"),
    Action.TAKEDOWN: ("Rekomendasi turunkan", "Recommend takedown", "t"),
    Action.ESCALATE: ("Eskalasi ke ketua", "Escalate to lead", "e"),
}
STATUS_TEXT = {
    Status.PENDING: "menunggu",
    Status.CLAIMED: "sedang ditinjau",
    Status.DECIDED: "diputuskan",
    Status.ESCALATED: "dieskalasi",
}


def make_templates() -> Jinja2Templates:
    """The pages' templates: autoescaped, strict about undefined names, with our helpers as globals."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every {{ }} is escaped; only render.* helpers return Markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        LABELS=LABELS,
        LABEL_KEYS=LABEL_KEYS,
        PASAL_280=PASAL_280,
        ACTIONS=tuple(Action),
        ACTION_TEXT=ACTION_TEXT,
        HS_TARGETS=HS_TARGETS,
        HS_CATEGORIES=HS_CATEGORIES,
        HS_STRENGTHS=HS_STRENGTHS,
        HS_DISPLAY_ID=HS_DISPLAY_ID,
        STATUS_TEXT=STATUS_TEXT,
        ROLES=tuple(Role),
        highlight=render.highlight,
        excerpt=render.excerpt,
        is_long=render.is_long,
        READING_TEXT=reading.READING_TEXT,
        SOURCE_TEXT=reading.SOURCE_TEXT,
        safe_link=render.safe_link,
        score_bar=render.score_bar,
    )
    env.filters["iso"] = lambda v: iso(v) or ""
    env.filters["when"] = when
    env.filters["dt"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M")
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=3: "n/a" if v is None else f"{v:.{d}f}"
    return Jinja2Templates(env=env)


MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def when(value: datetime | str | None) -> Markup:
    """A time people read ("2 Des 2026 01:41 UTC") in a ``<time>`` whose title and datetime hold the ISO
    form; accepts a naive-UTC datetime or an ISO string (what the audit log reads)."""
    if value is None or value == "":
        return Markup("")
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    stamp = iso(moment) or ""
    shown = f"{moment.day} {MONTHS_ID[moment.month - 1]} {moment.year} {moment:%H:%M} UTC"
    return Markup(f'<time datetime="{escape(stamp)}" title="{escape(stamp)}">{escape(shown)}</time>')


def page_count(total: int, size: int) -> int:
    """Pages needed for ``total`` rows (at least one, so "page 1 of 1" reads right on an empty list)."""
    return max(1, -(-total // max(1, size)))


def page(
    request: Request, name: str, user: UserView | None, status_code: int = 200, **context: Any
) -> Response:
    """Render template ``name`` with the user, the session's CSRF token and a pending flash message."""
    flash = request.session.pop("flash", None) if user is not None else None
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        name,
        {"user": user, "csrf": csrf_token(request.session), "flash": flash, "undo": undo_offer(request), **context},
        status_code=status_code,
    )


def offer_undo(request: Request, item_id: int, seconds: float) -> None:
    """Offer "undo my last decision" on the next pages for ``seconds`` (the store decides whether it
    still may: nobody else has acted on the item since)."""
    request.session["undo"] = {"item": item_id, "until": int(time.time() + seconds)}


def undo_offer(request: Request) -> dict[str, int] | None:
    """The pending undo offer, or None once it has run out."""
    offer = request.session.get("undo") if "session" in request.scope else None
    if not isinstance(offer, dict) or not isinstance(offer.get("until"), int):
        return None
    if offer["until"] < time.time():
        request.session.pop("undo", None)
        return None
    return offer


def back(url: str, message: str | None = None, request: Request | None = None) -> RedirectResponse:
    """Redirect after a form post (303), optionally with a flash message for the next page."""
    if message and request is not None:
        request.session["flash"] = message
    return RedirectResponse(url, status_code=303)


def local(target: str) -> str:
    """Only same-site paths as redirect targets (no open redirect via ?next=)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target
