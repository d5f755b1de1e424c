"""Password rules and the last active admin through the admin pages (issue 15 item 8)."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import PASSWORD

from pantau.queue.users import find_user, set_role


def add(admin: TestClient, username: str, password: str) -> tuple[int, str]:
    reply = admin.post(
        "/admin/users",
        data={"csrf_token": admin.csrf, "username": username, "password": password, "role": "reviewer"},  # type: ignore[attr-defined]
    )
    return reply.status_code, html.unescape(reply.text)


def test_the_admin_form_refuses_weak_passwords_with_a_bilingual_reason(
    admin: TestClient, engine: Engine
) -> None:
    for username, password, reason in (
        (
            "wati",
            "12345678",
            "Kata sandi minimal 10 karakter (the password must have at least 10 characters)",
        ),
        ("wati", "1234567890", "(this password is on a list of common passwords; choose another)"),
        ("wati", "Qwertyuiop", "paling sering dipakai"),
        ("sandiwara99", "SANDIWARA99", "(the password must not be the username)"),
    ):
        status, body = add(admin, username, password)
        assert status == 400 and reason in body, (password, status)
        assert find_user(engine, username) is None
    assert 'minlength="10"' in admin.get("/admin/users").text
    assert add(admin, "wati", PASSWORD)[0] == 303


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin: TestClient, engine: Engine) -> None:
    token = admin.csrf  # type: ignore[attr-defined]
    for change in ({"role": "lead"}, {"role": "admin", "active": "0"}):
        reply = admin.post("/admin/users/adi", data={"csrf_token": token, **change})
        assert reply.status_code == 400
        assert "Admin aktif terakhir" in reply.text and "last active admin" in reply.text
    user = find_user(engine, "adi")
    assert user is not None and user.role == "admin" and user.active
    assert admin.get("/admin/users").status_code == 200  # still signed in: nothing changed
    set_role(engine, "lia", "admin")
    assert admin.post("/admin/users/adi", data={"csrf_token": token, "role": "lead"}).status_code == 303
