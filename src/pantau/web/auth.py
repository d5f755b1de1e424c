"""Signing in: the one path the login page and ``POST /api/v1/session`` both take."""

from __future__ import annotations

from fastapi import Request

from pantau.queue.audit import audit
from pantau.queue.users import UserView, authenticate
from pantau.web.deps import engine_of
from pantau.web.security import LoginThrottle


class SignInRefused(Exception):
    """Wrong credentials (401) or too many recent failures for this username (429)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


def sign_in(request: Request, username: str, password: str, *, via: str | None = None) -> UserView:
    """Check the password under the login throttle, audit the attempt, start a fresh session.

    ``via`` ("api") is recorded in the audit events, so the log tells API sign-ins from page ones.
    """
    throttle: LoginThrottle = request.app.state.throttle
    if throttle.blocked(username):
        raise SignInRefused(429)
    user = authenticate(engine_of(request), username, password)
    tag = {"via": via} if via else {}
    if user is None:
        throttle.failed(username)
        audit(engine_of(request), None, "login_failed", {"username": username[:64], **tag})
        raise SignInRefused(401)
    throttle.succeeded(username)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session.update(uid=user.id, epoch=user.session_epoch)
    audit(engine_of(request), user.id, "login", tag)
    return user
