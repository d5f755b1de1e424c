"""Request-scoped helpers shared by the HTML pages and the JSON API: engine, current user, roles, CSRF."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Header, HTTPException, Request
from sqlalchemy import Engine

from pantau.queue.errors import QueueError
from pantau.queue.users import UserView, get_user
from pantau.web.security import csrf_ok


@dataclass(frozen=True)
class WebConfig:
    """What the app needs from the queue and serve settings."""

    lease_minutes: float = 15
    aging_per_hour: float = 0.01
    claim_batch: int = 1  # `c` claims the next item (each item's lease then runs on its own)
    undo_seconds: float = 300.0  # how long "undo my last decision" is offered (until someone else acts)
    secure_cookies: bool = False
    session_hours: float = 12.0
    page_size: int = 50
    max_body_bytes: int = 256 * 1024  # serve.max_body_bytes: larger request bodies get 413


class LoginRequired(Exception):
    """No valid session on an HTML page: the handler redirects to the login page."""


class CsrfFailed(Exception):
    """A form or API write without the session's CSRF token."""


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def config_of(request: Request) -> WebConfig:
    return request.app.state.config


def session_user(request: Request) -> UserView | None:
    """The signed-in, still active user whose session epoch is current, else None (session cleared)."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    try:
        user = get_user(engine_of(request), uid)
    except QueueError:
        user = None
    if user is None or not user.active or request.session.get("epoch") != user.session_epoch:
        request.session.pop("uid", None)
        request.session.pop("epoch", None)
        return None
    return user


def page_user(request: Request) -> UserView:
    user = session_user(request)
    if user is None:
        raise LoginRequired
    return user


def api_user(request: Request) -> UserView:
    user = session_user(request)
    if user is None:
        raise HTTPException(status_code=401, detail="not signed in: POST /api/v1/session first")
    return user


def _role_checker(role: str, base: Callable[[Request], UserView]) -> Callable[..., UserView]:
    def check(user: Annotated[UserView, Depends(base)]) -> UserView:
        if not user.at_least(role):
            raise HTTPException(status_code=403, detail=f"needs role {role} or higher")
        return user

    return check


def page_role(role: str) -> Callable[..., UserView]:
    """Dependency: a signed-in user with at least ``role`` (HTML pages)."""
    return _role_checker(role, page_user)


def api_role(role: str) -> Callable[..., UserView]:
    """Dependency: a signed-in user with at least ``role`` (JSON API)."""
    return _role_checker(role, api_user)


def api_csrf(
    request: Request,
    _user: Annotated[UserView, Depends(api_user)],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> None:
    """Every API write carries the session's token in ``X-CSRF-Token`` (checked after sign-in, so a
    request without a session gets 401, not 403)."""
    if not csrf_ok(request.session, x_csrf_token):
        raise CsrfFailed


def form_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every form post carries the session's token in ``csrf_token`` (the login form too, so a
    signed-out post elsewhere is sent to the login page rather than told its token is wrong)."""
    if request.url.path != "/login" and session_user(request) is None:
        raise LoginRequired
    if not csrf_ok(request.session, csrf_token):
        raise CsrfFailed


# Route dependencies: ``dependencies=FORM_WRITE`` on every page that takes a form post.
FORM_WRITE = [Depends(form_csrf)]
