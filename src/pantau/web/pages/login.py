"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from pantau.web.auth import SignInRefused, end_session, sign_in
from pantau.web.deps import FORM_WRITE, session_user
from pantau.web.templating import back, local, page

router = APIRouter(include_in_schema=False)

REFUSED = {
    429: "Terlalu banyak percobaan gagal dari perangkat ini; coba lagi dalam {s} detik "
    "(too many failed attempts from this device; try again in {s} s)",
    401: "Nama pengguna atau kata sandi salah (wrong username or password)",
}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/queue") -> Response:
    """The sign-in form; ``next`` is where to go afterwards (same-site paths only)."""
    return page(request, "login.html", session_user(request), next=local(next), error=None)


@router.post("/login", dependencies=FORM_WRITE)
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    """Sign in and go to ``next``, or show the form again with why not."""
    try:
        sign_in(request, username, password)
    except SignInRefused as exc:
        reply = page(
            request,
            "login.html",
            None,
            status_code=exc.status_code,
            next=local(next),
            error=REFUSED[exc.status_code].format(s=exc.retry_after),
        )
        reply.headers.update(exc.headers)
        return reply
    return back(local(next))


@router.post("/logout", dependencies=FORM_WRITE)
def logout(request: Request) -> Response:
    """End the session on the server (a copied cookie stops working too) and empty the cookie."""
    end_session(request)
    return back("/login")
