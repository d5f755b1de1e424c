"""Admin pages: user accounts and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from pantau.queue.reads import audit_log
from pantau.queue.users import UserView, add_user, list_users, set_active, set_role
from pantau.web.deps import FORM_WRITE, engine_of, page_role
from pantau.web.params import ItemIdFilter
from pantau.web.templating import back, page

router = APIRouter(include_in_schema=False)

Admin = Annotated[UserView, Depends(page_role("admin"))]


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: Admin) -> Response:
    """Every account with its role and state."""
    return page(request, "admin_users.html", user, users=list_users(engine_of(request)))


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


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Admin, item: ItemIdFilter = None) -> Response:
    """The latest audit events, optionally for one item."""
    events = audit_log(engine_of(request), item_id=item, limit=300)
    return page(request, "audit.html", user, events=events, item=item)
