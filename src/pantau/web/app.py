"""The reviewer web app: server-rendered pages (queue, item, lead, stats, admin) and the JSON API.

``create_app(engine, secret_key=..., config=...)`` assembles the app; ``pantau serve`` runs it. Post
text is treated as hostile: Jinja2 autoescapes everything, highlights are built from escaped
segments, a strict CSP forbids inline script, every form carries a CSRF token.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from pantau.web import api
from pantau.web.deps import WebConfig
from pantau.web.errors import ErrorBoundary, add_exception_handlers
from pantau.web.limits import RequestLimits
from pantau.web.pages import accounts, admin, campaigns, complaints, items, lead, login, queue, reports, work
from pantau.web.security import MIN_SECRET_CHARS, KeepUnsentSession, SecurityHeaders
from pantau.web.templating import HERE, make_templates

__all__ = ["WebConfig", "create_app"]


def create_app(engine: Engine, *, secret_key: str, config: WebConfig | None = None) -> FastAPI:
    """Build the app around a migrated queue engine; ``secret_key`` signs the session cookie."""
    if not secret_key or len(secret_key) < MIN_SECRET_CHARS:
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
    app.state.templates = make_templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie="pantau_session",
        max_age=int(config.session_hours * 3600),
        # Lax, not Strict: a link from another site (chat) must arrive signed in; every write still
        # needs the CSRF token and is refused when another site started it (deps.form_csrf).
        same_site="lax",
        https_only=config.secure_cookies,
    )
    app.add_middleware(KeepUnsentSession, cookie_name="pantau_session")  # outside the session layer
    app.add_middleware(RequestLimits, max_body_bytes=config.max_body_bytes)  # 413, and no NUL anywhere
    app.add_middleware(ErrorBoundary)  # inside SecurityHeaders, so a 500 carries the headers too
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    add_exception_handlers(app)
    app.include_router(api.router)
    app.include_router(complaints.api_router)  # the public complaint desk's API (no account)
    for pages in (login, queue, items, lead, reports, work, admin, complaints, accounts, campaigns):
        app.include_router(pages.router)
    return app
