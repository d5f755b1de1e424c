"""Sessions over HTTP (issue 15 items 5 and 6): signing out ends the session on the server, so a
copied cookie is worthless afterwards; a link from another site keeps the real session; CSRF holds."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import PASSWORD, csrf_from, sign_in

from pantau import queue
from pantau.queue.reads import audit_log

CROSS_SITE_LINK = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
CROSS_SITE_FORM = {**CROSS_SITE_LINK, "origin": "https://chat.example"}


def replay(app: FastAPI, client: TestClient) -> TestClient:
    """A second client holding a copy of ``client``'s session cookie (as an attacker would)."""
    return TestClient(
        app, follow_redirects=False, cookies={"pantau_session": client.cookies["pantau_session"]}
    )


def test_a_cookie_copied_before_page_logout_no_longer_reads_or_writes(
    app: FastAPI, reviewer: TestClient, engine: Engine
) -> None:
    copy = replay(app, reviewer)
    assert copy.get("/queue").status_code == 200  # the copy works while the session is open
    token = reviewer.csrf  # type: ignore[attr-defined]
    assert reviewer.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    read = copy.get("/queue")
    assert read.status_code == 303 and read.headers["location"].startswith("/login")
    write = copy.post("/claim", data={"csrf_token": token})
    assert write.status_code == 303 and write.headers["location"] == "/login"
    assert all(i.status == "pending" for i in queue.list_items(engine)[0])  # nothing was claimed
    assert copy.get("/api/v1/items").status_code == 401
    events = [e for e in audit_log(engine, limit=20) if e["event"] == "logout"]
    assert len(events) == 1 and events[0]["detail"]["client"] == "testclient"


def test_a_cookie_copied_before_api_sign_out_no_longer_reads_or_writes(app: FastAPI, engine: Engine) -> None:
    api = TestClient(app, follow_redirects=False)
    signed = api.post("/api/v1/session", json={"username": "rina", "password": PASSWORD})
    token = signed.json()["csrf_token"]
    copy = replay(app, api)
    assert copy.get("/api/v1/items").status_code == 200
    assert api.delete("/api/v1/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert copy.get("/api/v1/items").status_code == 401
    assert copy.post("/api/v1/claims", json={}, headers={"X-CSRF-Token": token}).status_code == 401
    assert copy.get("/queue").status_code == 303
    assert all(i.status == "pending" for i in queue.list_items(engine)[0])


def test_signing_out_ends_only_that_session(app: FastAPI) -> None:
    laptop, phone = sign_in(app, "rina"), sign_in(app, "rina")
    laptop.post("/logout", data={"csrf_token": laptop.csrf})  # type: ignore[attr-defined]
    assert laptop.get("/queue").status_code == 303
    assert phone.get("/queue").status_code == 200


def test_role_change_and_deactivation_by_an_admin_end_sessions(app: FastAPI, admin: TestClient) -> None:
    rina, budi = sign_in(app, "rina"), sign_in(app, "budi")
    rina_copy = replay(app, rina)
    token = admin.csrf  # type: ignore[attr-defined]
    assert admin.post("/admin/users/rina", data={"csrf_token": token, "role": "lead"}).status_code == 303
    assert rina.get("/queue").status_code == 303 and rina_copy.get("/queue").status_code == 303
    assert sign_in(app, "rina").get("/lead").status_code == 200  # signs in again with the new role
    reply = admin.post("/admin/users/budi", data={"csrf_token": token, "role": "reviewer", "active": "0"})
    assert reply.status_code == 303
    assert budi.get("/api/v1/items").status_code == 401
    page = admin.get("/admin/users").text
    assert re.search(r'data-user="rina">.*?class="sessions">1', page, flags=re.DOTALL)


def test_an_admin_ends_every_session_of_one_account(app: FastAPI, admin: TestClient) -> None:
    rina = sign_in(app, "rina")
    reply = admin.post("/admin/users/rina/sessions", data={"csrf_token": admin.csrf})  # type: ignore[attr-defined]
    assert reply.status_code == 303
    assert rina.get("/queue").status_code == 303


def test_the_session_cookie_is_lax_and_a_cross_site_link_opens_the_item(
    reviewer: TestClient, engine: Engine
) -> None:
    fresh = TestClient(reviewer.app, follow_redirects=False)
    token = csrf_from(fresh.get("/login").text)
    signed = fresh.post("/login", data={"csrf_token": token, "username": "budi", "password": PASSWORD})
    cookie = signed.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie and "httponly" in cookie  # was samesite=strict
    item = queue.list_items(engine)[0][0]
    # A pasted link clicked in chat: a top-level cross-site GET, which now carries the Lax cookie.
    opened = reviewer.get(f"/items/{item.id}", headers=CROSS_SITE_LINK)
    assert opened.status_code == 200 and f'action="/items/{item.id}/claim"' in opened.text


def test_a_request_another_site_sent_never_overwrites_the_session(reviewer: TestClient) -> None:
    # The browser withholds the Lax cookie from a form another site posts: it arrives signed out.
    # Before, the answer carried a fresh anonymous Set-Cookie that replaced the real session.
    stranger = TestClient(reviewer.app, follow_redirects=False)
    for path, data in (("/login", {"username": "rina", "password": "x"}), ("/logout", {}), ("/claim", {})):
        reply = stranger.post(path, data=data, headers=CROSS_SITE_FORM)
        assert "set-cookie" not in reply.headers, path
    # A cross-site top-level GET without a cookie really has none: the login form may start one.
    login = stranger.get("/login", headers=CROSS_SITE_LINK)
    assert login.status_code == 200 and "set-cookie" in login.headers
    assert reviewer.get("/queue").status_code == 200


def test_csrf_still_guards_every_write(reviewer: TestClient, engine: Engine) -> None:
    token = reviewer.csrf  # type: ignore[attr-defined]
    assert reviewer.post("/claim", data={}).status_code == 403  # no token
    assert reviewer.post("/claim", data={"csrf_token": "x" * 43}).status_code == 403  # wrong token
    # With the right token and the cookie, but started by another site: refused all the same.
    assert reviewer.post("/claim", data={"csrf_token": token}, headers=CROSS_SITE_FORM).status_code == 403
    foreign = {"origin": "https://chat.example"}  # a browser without Sec-Fetch-* headers
    assert reviewer.post("/claim", data={"csrf_token": token}, headers=foreign).status_code == 403
    assert all(i.status == "pending" for i in queue.list_items(engine)[0])
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    assert reviewer.post("/claim", data={"csrf_token": token}, headers=same).status_code == 303
    api = TestClient(reviewer.app)
    csrf = api.post("/api/v1/session", json={"username": "budi", "password": PASSWORD}).json()["csrf_token"]
    cross = {"X-CSRF-Token": csrf, "sec-fetch-site": "cross-site"}
    assert api.post("/api/v1/claims", json={}, headers=cross).status_code == 403
    assert api.post("/api/v1/claims", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
