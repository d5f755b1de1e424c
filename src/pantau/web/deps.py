"""Request-scoped helpers shared by the HTML pages and the JSON API: engine, current user, roles, CSRF."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Form, Header, HTTPException, Request
from sqlalchemy import Engine

from pantau.queue import sessions
from pantau.queue.complaints import ComplaintPolicy
from pantau.queue.throttle import ThrottlePolicy
from pantau.queue.users import UserView
from pantau.web.security import cross_site, csrf_ok


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
    login_throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    complaints: ComplaintPolicy = field(default_factory=ComplaintPolicy)  # the public desk, /aduan
    # The model folder (or models:/name@alias) that scores complaints; None: filed unscored, and said so.
    complaint_model: str | None = None


class LoginRequired(Exception):
    """No valid session on an HTML page: the handler redirects to the login page."""


class CsrfFailed(Exception):
    """A form or API write without the session's CSRF token."""


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def config_of(request: Request) -> WebConfig:
    return request.app.state.config


_USER_KEY = "pantau.user"  # request.scope: the session's user, looked up once per request


def session_user(request: Request) -> UserView | None:
    """The active user whose server-side session the cookie names, else None.

    The cookie alone proves nothing: its session must still be open in the store (not signed out, not
    ended by a password, role or account change, not expired), so a copied cookie dies with the
    session it came from."""
    if _USER_KEY in request.scope:
        return request.scope[_USER_KEY]
    token = request.session.get("sid")
    user = sessions.session_user(engine_of(request), token) if token is not None else None
    if user is None and token is not None:
        request.session.pop("sid", None)  # ended or expired: the cookie stops naming it
    request.scope[_USER_KEY] = user
    return user


def forget_session_user(request: Request) -> None:
    """Look the user up again on the next :func:`session_user` (after signing in or out)."""
    request.scope.pop(_USER_KEY, None)


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
    request without a session gets 401, not 403). A request another site started is refused even
    with a token."""
    if cross_site(request.headers) or not csrf_ok(request.session, x_csrf_token):
        raise CsrfFailed


def form_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every form post carries the session's token in ``csrf_token`` (the login form too, so a
    signed-out post elsewhere is sent to the login page rather than told its token is wrong)."""
    if request.url.path != "/login" and session_user(request) is None:
        raise LoginRequired
    # The session cookie is SameSite=Lax, so a post from another site arrives without it anyway; this
    # refuses one that another site started even if a browser did send it (the role Strict played).
    if cross_site(request.headers) or not csrf_ok(request.session, csrf_token):
        raise CsrfFailed


# Route dependencies: ``dependencies=FORM_WRITE`` on every page that takes a form post.
FORM_WRITE = [Depends(form_csrf)]
