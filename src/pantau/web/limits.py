"""What a request may carry before any route sees it: a bounded body, and no NUL character anywhere.

A NUL byte is never meaningful in this app, and PostgreSQL cannot store one in text (the driver
raises, which used to surface as a 500). Rejecting it here covers the path, the query string,
urlencoded forms and JSON bodies of every route, present and future, with one rule.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pantau.web.errors import BODY_TOO_LARGE, NUL_REFUSED, ErrorText, send_error

DEFAULT_MAX_BODY_BYTES = 256 * 1024  # a decision note is ≤ 5,000 characters; nothing needs more


class RequestLimits:
    """Pure ASGI middleware: 413 for a body over ``max_body_bytes`` (declared or streamed), 400 for
    a NUL in the path, query, a form field or a JSON string. The body is read once, checked, and
    replayed to the app (it is small by construction)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await send_error(scope, send, 400, NUL_REFUSED)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"").strip()
        if declared and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await send_error(scope, send, 413, _too_large(self.max_body_bytes))
            return
        body, over = await _read_body(receive, self.max_body_bytes)
        if over:
            await send_error(scope, send, 413, _too_large(self.max_body_bytes))
            return
        if _body_has_nul(headers.get(b"content-type", b""), body):
            await send_error(scope, send, 400, NUL_REFUSED)
            return
        await self.app(scope, _replay(body, receive), send)


def _too_large(limit: int) -> ErrorText:
    kib = f"{limit / 1024:g} KiB"
    return ErrorText(BODY_TOO_LARGE.indonesian.format(limit=kib), BODY_TOO_LARGE.english.format(limit=kib))


def _has_nul(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    return b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(
        scope.get("query_string", b"")
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, or (what was read, True) as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app sees an empty body and the disconnect later
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _body_has_nul(content_type: bytes, body: bytes) -> bool:
    if not body:
        return False
    kind = content_type.split(b";")[0].strip().lower()
    if kind == b"application/x-www-form-urlencoded":
        text = body.decode("latin-1")
        return any("\x00" in k or "\x00" in v for k, v in parse_qsl(text, keep_blank_values=True))
    if kind in (b"", b"application/json") or kind.endswith(b"+json"):  # FastAPI reads JSON without a type
        try:
            return _json_has_nul(json.loads(body))
        except ValueError:
            pass  # not JSON: the route answers 422 for that, or it is raw bytes
    return b"\x00" in body


def _json_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_json_has_nul(k) or _json_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_nul(v) for v in value)
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then whatever the client sends next
    (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
