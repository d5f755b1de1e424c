"""Secrets, CSRF tokens, security headers and the session cookie's cross-site rules for the reviewer app."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_SECRET_CHARS = 32

# Post text is hostile: nothing inline may run, nothing may load from elsewhere, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def load_or_create_secret(path: str | os.PathLike[str], env_value: str | None = None) -> str:
    """The session-signing secret: ``env_value`` (from ``PANTAU_SECRET_KEY``) if given, else the file,
    created on first run with mode 0600. Never stored in the repository."""
    if env_value:
        if len(env_value) < MIN_SECRET_CHARS:
            raise ValueError(f"PANTAU_SECRET_KEY must have at least {MIN_SECRET_CHARS} characters")
        return env_value
    p = Path(path)
    if p.exists():
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            p.chmod(0o600)  # tighten a secret that others could read
        value = p.read_text(encoding="utf-8").strip()
        if len(value) < MIN_SECRET_CHARS:
            raise ValueError(
                f"secret file {p} holds fewer than {MIN_SECRET_CHARS} characters; delete it to regenerate"
            )
        return value
    p.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: dict[str, Any], supplied: str | None) -> bool:
    """Constant-time check of a submitted token against the session's."""
    expected = session.get("csrf")
    if not (isinstance(expected, str) and expected and isinstance(supplied, str)):
        return False
    # As bytes: compare_digest refuses non-ASCII str (a forged token "é…" used to be a 500).
    return hmac.compare_digest(expected.encode(), supplied.encode("utf-8", "replace"))


class SecurityHeaders:
    """Pure ASGI middleware adding CSP and friends to every response; HTML is never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in names)
                if not scope["path"].startswith("/static/") and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cross_site(headers: Mapping[str, str]) -> bool:
    """True when another site started this request.

    Browsers say so in ``Sec-Fetch-Site``; where that is missing, an ``Origin`` whose host differs
    from ``Host`` says it. Clients that send neither (curl, scripts, the API's own users) are not
    browsers another site can drive, and the CSRF token still guards them."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site == "cross-site"
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"  # an opaque origin (sandboxed frame, data: URL) is never ours
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _withheld(headers: Mapping[str, str], method: str) -> bool:
    """Would a browser have kept a SameSite=Lax cookie back from this request?

    Lax cookies go with same-site requests and with cross-site top-level GET navigations (a link
    clicked in chat); everything else another site starts (a posted form, a frame, a fetch) goes
    without them."""
    if not cross_site(headers):
        return False
    navigation = headers.get("sec-fetch-mode", "navigate") == "navigate"
    return not (method in ("GET", "HEAD") and navigation)


class KeepUnsentSession:
    """Pure ASGI middleware: never overwrite a session cookie the browser may not have sent.

    A request that arrives without the session cookie because the browser withheld it looks signed
    out; answering it with a fresh (anonymous) ``Set-Cookie`` would replace the reviewer's real
    session. Such answers go out without that cookie; the real session stays as it was."""

    def __init__(self, app: ASGIApp, cookie_name: str) -> None:
        self.app = app
        self.prefix = cookie_name.encode("latin-1") + b"="

    def _sent(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"cookie" and any(p.strip().startswith(self.prefix) for p in value.split(b";")):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._sent(scope):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not _withheld(headers, scope["method"]):
            await self.app(scope, receive, send)
            return

        async def send_without_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (k.lower() == b"set-cookie" and v.startswith(self.prefix))
                ]
            await send(message)

        await self.app(scope, receive, send_without_cookie)
