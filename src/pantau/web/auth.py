"""Signing in and out: the one path the login page and ``/api/v1/session`` both take."""

from __future__ import annotations

import math

from fastapi import Request

from pantau.queue import sessions, throttle
from pantau.queue.audit import audit
from pantau.queue.users import UserView, authenticate
from pantau.web.deps import config_of, engine_of, forget_session_user


class SignInRefused(Exception):
    """Wrong credentials (401), or this client must wait before trying again (429, ``retry_after`` s)."""

    def __init__(self, status_code: int, retry_after: int = 0) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """``Retry-After`` for a 429, nothing otherwise."""
        return {"Retry-After": str(self.retry_after)} if self.status_code == 429 else {}


def client_of(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: what uvicorn's proxy headers say)."""
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, username: str, password: str, *, via: str | None = None) -> UserView:
    """Check the password under the login throttle, audit the attempt, open a fresh server-side session.

    The throttle is per (username, client) and per client, in the database: a wrong password delays
    further tries from that client only, so nobody elsewhere can lock a reviewer out. ``via`` ("api")
    is recorded in the audit events, so the log tells API sign-ins from page ones.
    """
    engine, config = engine_of(request), config_of(request)
    client = client_of(request)
    wait = throttle.wait_seconds(engine, username, client)
    if wait > 0:
        raise SignInRefused(429, retry_after=max(1, math.ceil(wait)))
    user = authenticate(engine, username, password)
    tag = {"via": via} if via else {}
    if user is None:
        throttle.record_failure(engine, username, client, policy=config.login_throttle)
        audit(engine, None, "login_failed", {"username": username[:64], "client": client[:64], **tag})
        raise SignInRefused(401)
    throttle.record_success(engine, username, client)
    end_session(request, why="relogin", record=False)  # never two live sessions in one cookie
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session["sid"] = sessions.start_session(
        engine, user.id, hours=config.session_hours, client=client
    )
    forget_session_user(request)
    audit(engine, user.id, "login", {"client": client[:64], **tag})
    return user


def end_session(
    request: Request, *, via: str | None = None, why: str = "logout", record: bool = True
) -> None:
    """Sign out: revoke this cookie's session in the store, so a copy of the cookie is worthless too,
    then empty the cookie. Audited as ``logout`` (the account's other sessions stay open)."""
    engine = engine_of(request)
    user_id = sessions.end_session(engine, request.session.get("sid"), why=why)
    request.session.clear()
    forget_session_user(request)
    if user_id is not None and record:
        tag = {"via": via} if via else {}
        audit(engine, user_id, "logout", {"client": client_of(request)[:64], **tag})
