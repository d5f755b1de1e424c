"""One place that maps what goes wrong to HTTP answers: JSON under /api/, a bilingual page elsewhere.

NotFound → 404, Forbidden and a bad CSRF token → 403, an illegal state change (QueueError) → 409,
invalid input → 400. A request whose parameters do not fit the route (wrong type, out of range) is
422, except a path that names nothing (``/items/abc``, an id past the database's range): 404. A
JSON body that fits its schema but breaks a rule of the queue (a validator's ``ValueError``) is 400.
Anything else is a 500 whose details go to the log, never to the person (:class:`ErrorBoundary`).
"""

from __future__ import annotations

import http
import logging
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantau.queue.errors import Forbidden, Invalid, NotFound, QueueError, describe
from pantau.web.deps import CsrfFailed, LoginRequired, session_user
from pantau.web.templating import page

log = logging.getLogger("pantau.web")


class ErrorText(NamedTuple):
    """A message in Indonesian and in English; ``str()`` gives "Indonesian (English)"."""

    indonesian: str
    english: str

    def __str__(self) -> str:
        return f"{self.indonesian} ({self.english})"


STATUS_TITLES: dict[int, ErrorText] = {
    400: ErrorText("Permintaan tidak valid", "invalid request"),
    401: ErrorText("Belum masuk", "not signed in"),
    403: ErrorText("Akses ditolak", "forbidden"),
    404: ErrorText("Tidak ditemukan", "not found"),
    405: ErrorText("Metode tidak diizinkan", "method not allowed"),
    409: ErrorText(
        "Tidak bisa dilakukan pada keadaan item sekarang", "not possible in the item's current state"
    ),
    413: ErrorText("Permintaan terlalu besar", "request too large"),
    422: ErrorText("Isian tidak valid", "invalid parameters"),
    429: ErrorText("Terlalu banyak percobaan", "too many attempts"),
    500: ErrorText("Terjadi kesalahan di server", "server error"),
}
CSRF_MESSAGE = ErrorText("Token CSRF tidak valid — muat ulang halaman", "invalid CSRF token; reload the page")
NUL_REFUSED = ErrorText(
    "Masukan berisi karakter NUL, yang tidak diizinkan",
    "the request contains a NUL character, which is not allowed",
)
BODY_TOO_LARGE = ErrorText("Isi permintaan lebih dari {limit}", "the request body is larger than {limit}")
NOT_FOUND = ErrorText("Alamat ini tidak menunjuk ke apa pun", "this address names nothing that exists")
SERVER_ERROR = "Kesalahan ini sudah dicatat (rujukan {ref}); coba lagi atau hubungi admin (logged as {ref}; try again or tell an admin)"


def title_for(status: int) -> ErrorText:
    """The bilingual headline of a status (its HTTP phrase in both languages when we have none)."""
    phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "error"
    return STATUS_TITLES.get(status, ErrorText(phrase, phrase.lower()))


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def error_response(
    request: Request,
    status: int,
    message: str | ErrorText,
    *,
    title: ErrorText | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """``{"detail": message, "title": ...}`` for the API, the bilingual error page for everything else."""
    title = title or title_for(status)
    if _is_api(request.url.path):
        return JSONResponse(
            {"detail": str(message), "title": str(title)}, status_code=status, headers=headers
        )
    response = page(
        request,
        "error.html",
        session_user(request),
        status_code=status,
        status=status,
        title=title,
        message=str(message),
        **context,
    )
    response.headers.update(headers or {})
    return response


E = TypeVar("E", bound=Exception)


def _answer(
    app: FastAPI,
    exc_type: type[E],
    status: int,
    message: Callable[[E], str | ErrorText] = str,
) -> None:
    """Register one handler: ``exc_type`` → ``status`` with ``message(exc)``; a queue error's own
    bilingual title heads the page."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, exc_type):  # Starlette passes handlers a plain Exception
            raise exc
        own = getattr(exc_type, "title", None)
        title = ErrorText(*own) if isinstance(own, tuple) else None
        return error_response(request, status, message(exc), title=title)

    app.add_exception_handler(exc_type, handle)


# Most specific first is not needed (Starlette picks the closest class in the MRO), but it reads so.
QUEUE_STATUS: tuple[tuple[type[QueueError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Invalid, 400),
    (QueueError, 409),  # ClaimLost and every other refusal of a state change
)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    for exc_type, status in QUEUE_STATUS:
        _answer(app, exc_type, status)
    _answer(app, CsrfFailed, 403, lambda _exc: CSRF_MESSAGE)
    # A handler validated form fields itself (a decision from the item page).
    _answer(app, ValidationError, 400, describe)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http)


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.method != "GET":
        return RedirectResponse("/login", status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if errors and all(e.get("loc", ("",))[0] == "path" for e in errors):
        return error_response(request, 404, NOT_FOUND)  # /items/abc or an id no row can have
    if errors and all(e.get("type") == "value_error" for e in errors):
        messages = [str((e.get("ctx") or {}).get("error") or e.get("msg")) for e in errors]
        return error_response(request, 400, "; ".join(messages))
    # The input itself is never echoed back (it may be megabytes, or a payload), nor a parser's
    # exception text: where the problem is and pydantic's sentence about it.
    problems = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors
    ]
    if _is_api(request.url.path):
        return JSONResponse({"detail": problems, "title": str(title_for(422))}, status_code=422)
    lines = "; ".join(f"{'.'.join(map(str, p['loc'][1:])) or p['loc'][0]}: {p['msg']}" for p in problems)
    return error_response(request, 422, lines)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if detail == http.HTTPStatus(exc.status_code).phrase:  # Starlette's default: the title says it
        detail = str(title_for(exc.status_code))
    return error_response(request, exc.status_code, str(detail), headers=exc.headers)


# ----------------------------------------------------------------------------------- outside the routes


def error_body(scope: Scope, status: int, message: str | ErrorText) -> Response:
    """The answer for an error found outside the routes (no session, no user): JSON under /api/, the
    bilingual page elsewhere, plain text if even the page cannot be rendered."""
    title = title_for(status)
    if _is_api(scope.get("path", "")):
        return JSONResponse({"detail": str(message), "title": str(title)}, status_code=status)
    app = scope.get("app")
    templates = getattr(getattr(app, "state", None), "templates", None)
    if templates is not None:
        try:
            return templates.TemplateResponse(
                Request(scope),
                "error.html",
                {
                    "user": None,
                    "csrf": "",
                    "flash": None,
                    "undo": None,
                    "status": status,
                    "title": title,
                    "message": str(message),
                },
                status_code=status,
            )
        except Exception:
            log.exception("rendering the error page failed")
    return PlainTextResponse(f"{status} {title}\n{message}\n", status_code=status)


async def send_error(scope: Scope, send: Send, status: int, message: str | ErrorText) -> None:
    """Answer ``status`` from ASGI middleware (it cannot raise into the exception handlers)."""

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await error_body(scope, status, message)(scope, no_body, send)


class ErrorBoundary:
    """Pure ASGI middleware, just inside the security headers: an exception nothing handled becomes
    a 500 page (or JSON) with a reference, the traceback goes to the log under that reference, and
    the answer still passes through the security headers (Starlette's own 500 is sent outside every
    middleware, without them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            ref = secrets.token_hex(4)
            log.exception("unhandled error %s on %s %s", ref, scope.get("method"), scope.get("path"))
            if started:
                raise  # half an answer is out: nothing better to send; the server closes it
            await send_error(scope, send, 500, SERVER_ERROR.format(ref=ref))


__all__ = [
    "BODY_TOO_LARGE",
    "CSRF_MESSAGE",
    "NUL_REFUSED",
    "ErrorBoundary",
    "ErrorText",
    "add_exception_handlers",
    "error_body",
    "error_response",
    "send_error",
    "title_for",
]
