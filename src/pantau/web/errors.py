"""One place that maps what the queue raises to HTTP answers, as JSON under /api/ and as pages elsewhere.

NotFound → 404, Forbidden and a bad CSRF token → 403, an illegal state change (QueueError) → 409,
invalid input → 400. A JSON body that does not fit its schema (missing field, wrong type, out of
range) is 422; one that fits but breaks a rule of the queue (a validator's ``ValueError``) is 400.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pantau.queue.errors import Forbidden, Invalid, NotFound, QueueError, describe
from pantau.web.deps import CsrfFailed, LoginRequired, session_user
from pantau.web.templating import page

CSRF_MESSAGE = "Token CSRF tidak valid — muat ulang halaman (invalid CSRF token; reload the page)"
PAGE_MESSAGES = {403: "Akses ditolak (forbidden)", 404: "Tidak ditemukan (not found)"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    """``{"detail": message}`` for the API, the error page for everything else."""
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    return page(
        request, "error.html", session_user(request), status_code=status, status=status, message=message
    )


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.method != "GET":
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _exc: CsrfFailed) -> Response:
        return error_response(request, 403, CSRF_MESSAGE)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return error_response(request, 404, str(exc))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_response(request, 403, str(exc))

    @app.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(QueueError)
    async def _conflict(request: Request, exc: QueueError) -> Response:
        return error_response(request, 409, str(exc))

    @app.exception_handler(ValidationError)
    async def _invalid_form(request: Request, exc: ValidationError) -> Response:
        # A handler validated form fields itself (a decision from the item page).
        return error_response(request, 400, describe(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if errors and all(e.get("type") == "value_error" for e in errors):
            messages = [str((e.get("ctx") or {}).get("error") or e.get("msg")) for e in errors]
            return error_response(request, 400, "; ".join(messages))
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return error_response(request, exc.status_code, PAGE_MESSAGES.get(exc.status_code, str(exc.detail)))
