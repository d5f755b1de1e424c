"""Secrets, CSRF tokens, security headers and a login throttle for the reviewer app."""

from __future__ import annotations

import hmac
import os
import secrets
import stat
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

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


class LoginThrottle:
    """After ``limit`` failures for a username within ``window`` seconds, refuse further tries until
    the oldest failure ages out (slows password guessing; in memory, per process)."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._trim(key.lower(), time.monotonic())) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._trim(key.lower(), now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key.lower(), None)
