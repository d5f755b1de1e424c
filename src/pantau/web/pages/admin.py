"""Admin pages: user accounts (with their open sessions and the login throttle) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from pantau.queue.reads import audit_log
from pantau.queue.sessions import open_session_counts, revoke_all
from pantau.queue.throttle import clear_throttle, list_throttles
from pantau.queue.users import UserView, add_user, find_user, list_users, set_active, set_role
from pantau.web.deps import FORM_WRITE, engine_of, page_role
from pantau.web.params import ItemIdFilter
from pantau.web.templating import back, page

router = APIRouter(include_in_schema=False)

Admin = Annotated[UserView, Depends(page_role("admin"))]


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: Admin) -> Response:
    """Every account with its role, state and open sessions; the clients the login throttle delays."""
    engine = engine_of(request)
    return page(
        request,
        "admin_users.html",
        user,
        users=list_users(engine),
        sessions=open_session_counts(engine),
        throttles=list_throttles(engine),
    )


@router.post("/admin/users", dependencies=FORM_WRITE)
def users_add(
    request: Request,
    user: Admin,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "reviewer",
) -> Response:
    """Create an account."""
    add_user(engine_of(request), username, password, role, actor_id=user.id)
    return back("/admin/users", f"Pengguna {username} ditambahkan (added)", request)


@router.post("/admin/users/{username}", dependencies=FORM_WRITE)
def users_change(
    request: Request,
    user: Admin,
    username: str,
    role: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    """Change an account's role, or deactivate/reactivate it."""
    if role:
        set_role(engine_of(request), username, role, actor_id=user.id)
    if active in ("0", "1"):
        set_active(engine_of(request), username, active == "1", actor_id=user.id)
    return back("/admin/users", f"Pengguna {username} diperbarui (updated)", request)


@router.post("/admin/users/{username}/sessions", dependencies=FORM_WRITE)
def users_sign_out(request: Request, user: Admin, username: str) -> Response:
    """End every open session of one account (it signs in again; nothing else changes)."""
    target = find_user(engine_of(request), username)
    if target is None:
        return back("/admin/users", f"Pengguna {username} tidak ada (no such user)", request)
    n = revoke_all(engine_of(request), target.id)
    return back("/admin/users", f"{n} sesi {username} diakhiri ({n} session(s) ended)", request)


@router.post("/admin/throttle/clear", dependencies=FORM_WRITE)
def throttle_clear(
    request: Request,
    user: Admin,
    username: Annotated[str, Form()] = "",
    client: Annotated[str, Form()] = "",
    everything: Annotated[str, Form()] = "",
) -> Response:
    """Forget failed sign-ins: one key (username + client, or a client's own key), or all of them."""
    if everything == "1":
        n = clear_throttle(engine_of(request), actor_id=user.id)
    elif client:
        n = clear_throttle(engine_of(request), username=username, client=client, actor_id=user.id)
    else:
        return back("/admin/users", "Pilih kunci yang dihapus (choose what to clear)", request)
    return back("/admin/users", f"Penundaan masuk dihapus: {n} (login delays cleared: {n})", request)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Admin, item: ItemIdFilter = None) -> Response:
    """The latest audit events, optionally for one item."""
    events = audit_log(engine_of(request), item_id=item, limit=300)
    return page(request, "audit.html", user, events=events, item=item)
