"""The reviewer web app: server-rendered pages (queue, item, lead, stats, admin) and the JSON API.

``create_app(engine, secret_key=..., config=...)`` builds the app; ``pantau serve`` runs it. Post
text is treated as hostile: Jinja2 autoescapes everything, highlights are built from escaped
segments, a strict CSP forbids inline script, every form carries a CSRF token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from pantau.labels import (
    HS_CATEGORIES,
    HS_DISPLAY_ID,
    HS_STRENGTHS,
    HS_TARGETS,
    LABEL_KEYS,
    LABELS,
    PASAL_280,
    pasal_280_hints,
)
from pantau.queue import stats as queue_stats
from pantau.queue import store
from pantau.queue.models import ACTIONS, ROLES
from pantau.queue.store import DecisionInput, Forbidden, ItemFilter, NotFound, QueueError, parse_datetime
from pantau.queue.users import UserView, add_user, authenticate, list_users, set_active, set_role
from pantau.web import render
from pantau.web.deps import (
    CsrfFailed,
    LoginRequired,
    WebConfig,
    config_of,
    engine_of,
    page_role,
    page_user,
    session_user,
)
from pantau.web.security import LoginThrottle, SecurityHeaders, csrf_ok, csrf_token

HERE = Path(__file__).parent
ACTION_TEXT = {
    "no_violation": ("Tidak melanggar", "No violation", "n"),
    "warn": ("Peringatan", "Warn", "w"),
    "takedown": ("Rekomendasi turunkan", "Recommend takedown", "t"),
    "escalate": ("Eskalasi ke ketua", "Escalate to lead", "e"),
}
STATUS_TEXT = {
    "pending": "menunggu",
    "claimed": "sedang ditinjau",
    "decided": "diputuskan",
    "escalated": "dieskalasi",
}

__all__ = ["WebConfig", "create_app"]

# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
Reviewer = Annotated[UserView, Depends(page_user)]
Lead = Annotated[UserView, Depends(page_role("lead"))]
Admin = Annotated[UserView, Depends(page_role("admin"))]


def _templates() -> Jinja2Templates:
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
        ACTIONS=ACTIONS,
        ACTION_TEXT=ACTION_TEXT,
        HS_TARGETS=HS_TARGETS,
        HS_CATEGORIES=HS_CATEGORIES,
        HS_STRENGTHS=HS_STRENGTHS,
        HS_DISPLAY_ID=HS_DISPLAY_ID,
        STATUS_TEXT=STATUS_TEXT,
        ROLES=ROLES,
        highlight=render.highlight,
        safe_link=render.safe_link,
        score_bar=render.score_bar,
    )
    env.filters["dt"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M")
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=3: "n/a" if v is None else f"{v:.{d}f}"
    return Jinja2Templates(env=env)


def create_app(engine: Engine, *, secret_key: str, config: WebConfig | None = None) -> FastAPI:
    """Build the app around a migrated queue engine; ``secret_key`` signs the session cookie."""
    if not secret_key or len(secret_key) < 32:
        raise ValueError(
            "secret_key must have at least 32 characters (see serve.secret_file / PANTAU_SECRET_KEY)"
        )
    config = config or WebConfig()
    app = FastAPI(
        title="pantau review queue",
        version="1",
        description="Claim, decide and audit high-risk posts. Sign in with POST /api/v1/session; send the "
        "returned csrf_token as X-CSRF-Token on every write.",
        docs_url=None,  # Swagger UI loads from a CDN with inline script: not offline, not CSP-clean
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine
    app.state.config = config
    app.state.throttle = LoginThrottle()
    templates = _templates()

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="pantau_session",
        max_age=int(config.session_hours * 3600),
        same_site="strict",
        https_only=config.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from pantau.web.api import router as api_router

    app.include_router(api_router)

    def page(
        request: Request, name: str, user: UserView | None, status_code: int = 200, **context: Any
    ) -> Response:
        flash = request.session.pop("flash", None) if user is not None else None
        return templates.TemplateResponse(
            request,
            name,
            {"user": user, "csrf": csrf_token(request.session), "flash": flash, **context},
            status_code=status_code,
        )

    def back(url: str, message: str | None = None, request: Request | None = None) -> RedirectResponse:
        if message and request is not None:
            request.session["flash"] = message
        return RedirectResponse(url, status_code=303)

    # ---------------------------------------------------------------------------------------- errors

    def _is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.method != "GET":
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    def _error(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return page(
            request, "error.html", session_user(request), status_code=status, status=status, message=message
        )

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _exc: CsrfFailed) -> Response:
        return _error(
            request, 403, "Token CSRF tidak valid — muat ulang halaman (invalid CSRF token; reload the page)"
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(QueueError)
    async def _conflict(request: Request, exc: QueueError) -> Response:
        return _error(request, 409, str(exc))

    @app.exception_handler(ValueError)
    async def _invalid(request: Request, exc: ValueError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        messages = {403: "Akses ditolak (forbidden)", 404: "Tidak ditemukan (not found)"}
        return _error(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    def form_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
        if request.url.path != "/login" and session_user(request) is None:
            raise LoginRequired
        if not csrf_ok(request.session, csrf_token):
            raise CsrfFailed

    Csrf = Depends(form_csrf)

    # ----------------------------------------------------------------------------------------- login

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/queue") -> Response:
        return page(request, "login.html", session_user(request), next=_local(next), error=None)

    @app.post("/login", include_in_schema=False, dependencies=[Csrf])
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/queue",
    ) -> Response:
        throttle: LoginThrottle = request.app.state.throttle
        if throttle.blocked(username):
            return page(
                request,
                "login.html",
                None,
                status_code=429,
                next=_local(next),
                error="Terlalu banyak percobaan; coba lagi nanti (too many attempts)",
            )
        user = authenticate(engine_of(request), username, password)
        if user is None:
            throttle.failed(username)
            store.audit(engine_of(request), None, "login_failed", {"username": username[:64]})
            return page(
                request,
                "login.html",
                None,
                status_code=401,
                next=_local(next),
                error="Nama pengguna atau kata sandi salah (wrong username or password)",
            )
        throttle.succeeded(username)
        request.session.clear()  # a fresh session (and CSRF token) on every sign-in
        request.session.update(uid=user.id, epoch=user.session_epoch)
        store.audit(engine_of(request), user.id, "login", {})
        return back(_local(next))

    @app.post("/logout", include_in_schema=False, dependencies=[Csrf])
    def logout(request: Request) -> Response:
        request.session.clear()
        return back("/login")

    # ----------------------------------------------------------------------------------------- queue

    @app.get("/", include_in_schema=False)
    def home(_user: Reviewer) -> Response:
        return back("/queue")

    @app.get("/queue", response_class=HTMLResponse, include_in_schema=False)
    def queue_page(
        request: Request,
        user: Reviewer,
        label: str = "",
        min_risk: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        sort: str = "priority",
        page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
    ) -> Response:
        filters = _filters(label, min_risk, source, since, until)
        cfg = config_of(request)
        items, total = store.list_items(
            engine_of(request),
            filters=filters,
            sort=sort if sort in store.SORTS else "priority",
            limit=cfg.page_size,
            offset=(page_no - 1) * cfg.page_size,
            aging_per_hour=cfg.aging_per_hour,
        )
        mine, _ = store.list_items(
            engine_of(request),
            status="claimed",
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
            sorts=store.SORTS,
            counts=store.status_counts(engine_of(request)),
            page_no=page_no,
            page_size=cfg.page_size,
            query=urlencode({k: v for k, v in form.items() if v}),
        )

    @app.post("/claim", include_in_schema=False, dependencies=[Csrf])
    def claim_next(
        request: Request,
        user: Reviewer,
        label: Annotated[str, Form()] = "",
        min_risk: Annotated[str, Form()] = "",
        source: Annotated[str, Form()] = "",
        since: Annotated[str, Form()] = "",
        until: Annotated[str, Form()] = "",
    ) -> Response:
        cfg = config_of(request)
        ids = store.claim(
            engine_of(request),
            user.id,
            cfg.claim_batch,
            lease_minutes=cfg.lease_minutes,
            filters=_filters(label, min_risk, source, since, until),
        )
        if not ids:
            return back("/queue", "Tidak ada item yang bisa diambil (nothing to claim)", request)
        return back(f"/items/{ids[0]}")

    @app.get("/items/{item_id}", response_class=HTMLResponse, include_in_schema=False)
    def item_page(request: Request, user: Reviewer, item_id: int) -> Response:
        cfg = config_of(request)
        item = store.get_item(engine_of(request), item_id, aging_per_hour=cfg.aging_per_hour)
        is_lead = user.at_least("lead")
        # Independence: a reviewer never sees someone else's decision on an item.
        decisions = store.item_decisions(engine_of(request), item_id) if is_lead else []
        hints = {c.key for c in pasal_280_hints(item.flags)}
        mine = item.status == "claimed" and item.claimed_by == user.id
        next_ids = [i for i in store.claimed_by_user(engine_of(request), user.id) if i != item_id]
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
            audit=store.audit_log(engine_of(request), item_id=item_id, limit=50) if is_lead else [],
            history=store.score_history(engine_of(request), item.post_id) if is_lead else [],
        )

    @app.post("/items/{item_id}/claim", include_in_schema=False, dependencies=[Csrf])
    def claim_one(request: Request, user: Reviewer, item_id: int) -> Response:
        store.claim_item(engine_of(request), user.id, item_id, lease_minutes=config_of(request).lease_minutes)
        return back(f"/items/{item_id}")

    @app.post("/items/{item_id}/release", include_in_schema=False, dependencies=[Csrf])
    def release_one(request: Request, user: Reviewer, item_id: int) -> Response:
        store.release(engine_of(request), user.id, item_id)
        return back("/queue", f"Item {item_id} dikembalikan ke antrean (released)", request)

    @app.post("/items/{item_id}/decide", include_in_schema=False, dependencies=[Csrf])
    async def decide(request: Request, user: Reviewer, item_id: int) -> Response:
        decision = _decision_from_form(await request.form())
        result = await _threaded(store.decide, engine_of(request), user.id, item_id, decision)
        message = f"Item {item_id}: {STATUS_TEXT.get(result.status, result.status)} ({result.status})"
        remaining = await _threaded(store.claimed_by_user, engine_of(request), user.id)
        return back(f"/items/{remaining[0]}" if remaining else "/queue", message, request)

    @app.post("/items/{item_id}/resolve", include_in_schema=False, dependencies=[Csrf])
    async def resolve(request: Request, user: Lead, item_id: int) -> Response:
        decision = _decision_from_form(await request.form())
        await _threaded(store.resolve, engine_of(request), user.id, item_id, decision)
        return back("/lead", f"Item {item_id} diselesaikan (resolved)", request)

    @app.post("/items/{item_id}/override", include_in_schema=False, dependencies=[Csrf])
    async def override(request: Request, user: Lead, item_id: int) -> Response:
        decision = _decision_from_form(await request.form())
        await _threaded(store.override, engine_of(request), user.id, item_id, decision)
        return back(f"/items/{item_id}", f"Keputusan item {item_id} diganti (overridden)", request)

    # ------------------------------------------------------------------------------------ lead pages

    @app.get("/lead", response_class=HTMLResponse, include_in_schema=False)
    def lead_page(request: Request, user: Lead) -> Response:
        cfg = config_of(request)
        escalated, total = store.list_items(
            engine_of(request),
            status="escalated",
            sort="enqueued",
            limit=200,
            aging_per_hour=cfg.aging_per_hour,
        )
        recent, _ = store.list_items(
            engine_of(request), status="decided", sort="priority", limit=20, aging_per_hour=cfg.aging_per_hour
        )
        return page(request, "lead.html", user, escalated=escalated, total=total, recent=recent)

    @app.get("/stats", response_class=HTMLResponse, include_in_schema=False)
    def stats_page(request: Request, user: Lead) -> Response:
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
            counts=store.status_counts(eng),
            per_day=per_day,
            per_day_chart=render.bar_chart([(d, float(n)) for d, n in per_day]),
            precision=precision,
            precision_chart=render.hbar_chart([(p.label, p.precision) for p in precision]),
            agreement=agreement,
            versions=versions,
            drifts=list(zip(drifts, drift_charts, strict=True)),
        )

    # ----------------------------------------------------------------------------------- admin pages

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, user: Admin) -> Response:
        return page(request, "admin_users.html", user, users=list_users(engine_of(request)))

    @app.post("/admin/users", include_in_schema=False, dependencies=[Csrf])
    def users_add(
        request: Request,
        user: Admin,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        role: Annotated[str, Form()] = "reviewer",
    ) -> Response:
        add_user(engine_of(request), username, password, role, actor_id=user.id)
        return back("/admin/users", f"Pengguna {username} ditambahkan (added)", request)

    @app.post("/admin/users/{username}", include_in_schema=False, dependencies=[Csrf])
    def users_change(
        request: Request,
        user: Admin,
        username: str,
        role: Annotated[str, Form()] = "",
        active: Annotated[str, Form()] = "",
    ) -> Response:
        if role:
            set_role(engine_of(request), username, role, actor_id=user.id)
        if active in ("0", "1"):
            set_active(engine_of(request), username, active == "1", actor_id=user.id)
        return back("/admin/users", f"Pengguna {username} diperbarui (updated)", request)

    @app.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, user: Admin, item: int | None = None) -> Response:
        events = store.audit_log(engine_of(request), item_id=item, limit=300)
        return page(request, "audit.html", user, events=events, item=item)

    return app


async def _threaded(fn: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _local(target: str) -> str:
    """Only same-site paths as redirect targets (no open redirect via ?next=)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _filters(label: str, min_risk: str, source: str, since: str, until: str) -> ItemFilter:
    def number(value: str) -> float | None:
        try:
            return float(value) if value.strip() else None
        except ValueError:
            raise ValueError(f"risk filter must be a number, got {value!r}") from None

    return ItemFilter(
        label=label or None,
        min_risk=number(min_risk),
        source=source.strip() or None,
        since=parse_datetime(since) if since else None,
        until=_end_of(until) if until else None,
    )


def _end_of(value: str) -> datetime | None:
    """A date-only "until" (the form's date picker) includes that whole day."""
    parsed = parse_datetime(value)
    if parsed is not None and len(value.strip()) == 10:
        parsed += timedelta(days=1)
    return parsed


def _decision_from_form(form: Any) -> DecisionInput:
    """Checkbox ``label_<key>`` per label, ``action`` from the pressed button, clauses ``pasal_280``."""
    labels = {k: form.get(f"label_{k}") == "1" for k in LABEL_KEYS}
    # The detail selects keep their values when hate speech is unticked; they only count when it is ticked.
    detail = {
        name: (str(form.get(name) or "") or None) if labels["hate_speech"] else None
        for name in ("hs_target", "hs_category", "hs_strength")
    }
    return DecisionInput(
        labels=labels,
        action=str(form.get("action") or ""),
        pasal_280=[str(v) for v in form.getlist("pasal_280")],
        note=str(form.get("note") or ""),
        **detail,
    )
