"""The reviewer app over HTTP: sessions, roles, CSRF, headers, escaping, the decision flow."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import HOSTILE, HOSTILE_URL, PASSWORD, csrf_from, sign_in

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue.users import set_password
from pantau.web.security import CONTENT_SECURITY_POLICY, load_or_create_secret

LEAD_ROUTES = ["/lead", "/stats"]
ADMIN_ROUTES = ["/admin/users", "/admin/audit"]


@pytest.mark.parametrize("path", ["/", "/queue", "/items/1", *LEAD_ROUTES, *ADMIN_ROUTES])
def test_no_session_goes_to_login(app: FastAPI, path: str) -> None:
    response = TestClient(app, follow_redirects=False).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/items"),
        ("get", "/api/v1/items/1"),
        ("post", "/api/v1/claims"),
        ("get", "/api/v1/stats"),
    ],
)
def test_api_without_session_is_401(app: FastAPI, method: str, path: str) -> None:
    assert getattr(TestClient(app), method)(path).status_code == 401


def test_reviewer_cannot_reach_lead_or_admin_routes(reviewer: TestClient, engine: Engine) -> None:
    for path in LEAD_ROUTES + ADMIN_ROUTES:
        assert reviewer.get(path).status_code == 403, path
    item = queue.list_items(engine)[0][0].id
    for path in (f"/items/{item}/resolve", f"/items/{item}/override", "/admin/users", "/admin/users/budi"):
        response = reviewer.post(path, data={"csrf_token": reviewer.csrf, "role": "admin", "action": "warn"})
        assert response.status_code == 403, path
    assert queue.list_items(engine, status=None, limit=100)[1] == len(HOSTILE) + 1  # nothing changed
    headers = {"X-CSRF-Token": reviewer.csrf}
    assert reviewer.get("/api/v1/stats").status_code == 403
    assert reviewer.get("/api/v1/audit").status_code == 403
    assert reviewer.get(f"/api/v1/items/{item}/decisions").status_code == 403
    body = {"labels": dict.fromkeys(LABEL_KEYS, False), "action": "warn"}
    assert reviewer.post(f"/api/v1/items/{item}/override", json=body, headers=headers).status_code == 403
    nav = reviewer.get("/queue").text
    assert 'href="/stats"' not in nav and 'href="/admin/users"' not in nav


def test_lead_is_not_admin(lead: TestClient) -> None:
    for path in LEAD_ROUTES:
        assert lead.get(path).status_code == 200
    for path in ADMIN_ROUTES:
        assert lead.get(path).status_code == 403
    assert lead.get("/api/v1/audit").status_code == 403


def test_admin_adds_a_user_who_can_sign_in(admin: TestClient, app: FastAPI) -> None:
    response = admin.post(
        "/admin/users",
        data={"csrf_token": admin.csrf, "username": "wati", "password": PASSWORD, "role": "lead"},
    )
    assert response.status_code == 303
    assert "wati" in admin.get("/admin/users").text
    assert sign_in(app, "wati").get("/lead").status_code == 200
    audit = admin.get("/admin/audit").text
    assert "user_add" in audit and "login" in audit


def test_csrf_required_on_forms_and_api(reviewer: TestClient, engine: Engine) -> None:
    for token in (None, "", "forged-token-" + "x" * 30):
        data = {} if token is None else {"csrf_token": token}
        assert reviewer.post("/claim", data=data).status_code == 403
    assert queue.status_counts(engine)["claimed"] == 0
    assert reviewer.post("/api/v1/claims", json={"n": 1}).status_code == 403
    bad = {"X-CSRF-Token": "nope"}
    assert reviewer.post("/api/v1/claims", json={"n": 1}, headers=bad).status_code == 403
    # A login form posted from elsewhere (no token) does not sign anyone in.
    fresh = TestClient(reviewer.app, follow_redirects=False)
    assert fresh.post("/login", data={"username": "rina", "password": PASSWORD}).status_code == 403


def test_cookie_and_security_headers(app: FastAPI, engine: Engine) -> None:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    response = client.post(
        "/login", data={"csrf_token": csrf_from(page.text), "username": "rina", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"].lower()
    # Lax (issue 15): a link from another site arrives signed in; writes still need the CSRF token.
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert PASSWORD not in response.headers["set-cookie"]
    from pantau.web.app import WebConfig, create_app

    secure = TestClient(create_app(engine, secret_key="s" * 40, config=WebConfig(secure_cookies=True)))
    page = secure.get("/login")
    reply = secure.post(
        "/login",
        data={"csrf_token": csrf_from(page.text), "username": "rina", "password": PASSWORD},
        follow_redirects=False,
    )
    assert "; secure" in reply.headers["set-cookie"].lower()
    assert '<script src="/static/app.js"' in page.text and "<script>" not in page.text  # no inline script


def test_docs_are_offline_and_openapi_lists_the_api(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/docs").status_code in (303, 404)
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/v1/session", "/api/v1/claims", "/api/v1/items/{item_id}/decision", "/api/v1/stats"):
        assert path in schema["paths"]


def test_wrong_password_and_open_redirect(app: FastAPI) -> None:
    # The login throttle (growing delays per username+client and per client) is in test_auth_throttle.py.
    client = TestClient(app, follow_redirects=False)
    token = csrf_from(client.get("/login").text)
    reply = client.post("/login", data={"csrf_token": token, "username": "budi", "password": "salah-salah"})
    assert reply.status_code == 401
    ok = client.post(
        "/login",
        data={"csrf_token": token, "username": "rina", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert ok.headers["location"] == "/queue"


def test_password_change_ends_sessions(reviewer: TestClient, engine: Engine) -> None:
    assert reviewer.get("/queue").status_code == 200
    set_password(engine, "rina", "sandi-baru-123")
    assert reviewer.get("/queue").status_code == 303


def test_hostile_posts_are_escaped_in_pages(lead: TestClient, engine: Engine) -> None:
    queue_page = lead.get("/queue").text
    for page in [queue_page] + [lead.get(f"/items/{i.id}").text for i in queue.list_items(engine)[0]]:
        body = page.split("<main>", 1)[1]
        # No tag from post text survives (our own charts are <svg class="bar|chart">).
        assert not re.search(r"<(script|img|iframe|b|i)[\s>]|<svg(?! class=\"(bar|chart)\")", body)
        assert not re.search(r"\son(error|load|focus)=[\"']", body)  # no event-handler attribute
        assert not re.search(r"href=[\"']?\s*javascript:", body, flags=re.IGNORECASE)
    first = next(i for i in queue.list_items(engine)[0] if i.post_id == "x-script")
    page = lead.get(f"/items/{first.id}").text
    assert "&lt;script&gt;window.__pwned = &#39;script&#39;&lt;/script&gt;" in page
    assert '<mark class="span span--b-divisive--b-"' in page and ">kadrun</mark>" in page  # escaped highlight
    assert f'href="{HOSTILE_URL}' not in page and "javascript:window.__pwned=&#39;url&#39;" in page
    assert "&lt;script&gt;alert(&#39;author&#39;)&lt;/script&gt;" in page
    safe = next(i for i in queue.list_items(engine)[0] if i.post_id == "top")
    assert (
        'href="https://example.org/p/1" rel="noopener noreferrer nofollow ugc"'
        in lead.get(f"/items/{safe.id}").text
    )


def test_claim_decide_flow_and_independence(app: FastAPI, engine: Engine) -> None:
    queue.enqueue(
        engine,
        [
            {
                "id": "dbl",
                "text": "cebong",
                "risk": 0.99,
                "probabilities": dict.fromkeys(LABEL_KEYS, 0.99),
                "flags": dict.fromkeys(LABEL_KEYS, True),
            }
        ],
        model_version="v1",
        risk_threshold=0.5,
    )
    rina, budi, lia = sign_in(app, "rina"), sign_in(app, "budi"), sign_in(app, "lia")
    top = rina.post("/claim", data={"csrf_token": rina.csrf})
    item_id = int(top.headers["location"].rsplit("/", 1)[1])
    assert queue.get_item(engine, item_id).post_id == "dbl"  # highest priority first
    page = rina.get(f"/items/{item_id}").text
    assert 'id="decision-form"' in page and "280_1_c" in page
    form = {
        "csrf_token": rina.csrf,
        "label_hate_speech": "1",
        "label_divisive_label": "1",
        "action": "warn",
        "pasal_280": ["280_1_c", "280_1_d"],
        "hs_target": "group",
        "hs_category": "other",
        "note": "<b>catatan</b>",
    }
    assert rina.post(f"/items/{item_id}/decide", data=form).status_code == 303
    assert queue.get_item(engine, item_id).status == "pending"  # waits for a second reviewer
    # rina cannot review it again; budi can, and does not see rina's decision.
    assert rina.post(f"/items/{item_id}/claim", data={"csrf_token": rina.csrf}).status_code == 409
    assert budi.post(f"/items/{item_id}/claim", data={"csrf_token": budi.csrf}).status_code == 303
    budi_page = budi.get(f"/items/{item_id}").text
    assert "catatan" not in budi_page and "rina" not in budi_page.split("<main>", 1)[1]
    other = {**form, "csrf_token": budi.csrf, "label_divisive_label": "", "note": ""}
    assert budi.post(f"/items/{item_id}/decide", data=other).status_code == 303
    assert queue.get_item(engine, item_id).status == "escalated"
    lead_page = lia.get("/lead").text
    assert f'data-item="{item_id}"' in lead_page and "disagreement" in lead_page
    detail = lia.get(f"/items/{item_id}").text
    assert "&lt;b&gt;catatan&lt;/b&gt;" in detail and 'id="resolve-form"' in detail
    resolve = {"csrf_token": lia.csrf, "label_hate_speech": "1", "action": "takedown"}
    assert lia.post(f"/items/{item_id}/resolve", data=resolve).status_code == 400  # takedown: confirm it
    resolve["confirmed"] = "1"
    assert lia.post(f"/items/{item_id}/resolve", data=resolve).status_code == 303
    final = queue.get_item(engine, item_id)
    assert final.status == "decided"
    assert [d.kind for d in queue.item_decisions(engine, item_id)] == ["review", "review", "resolve"]
    assert "Skor per versi model" in lia.get(f"/items/{item_id}").text
    stats = lia.get("/stats").text
    assert "<svg" in stats and "Cohen" in stats


def test_bad_decision_is_a_clear_400(reviewer: TestClient, engine: Engine) -> None:
    reviewer.post("/claim", data={"csrf_token": reviewer.csrf})
    [item_id] = queue.claimed_by_user(engine, 1)
    reply = reviewer.post(f"/items/{item_id}/decide", data={"csrf_token": reviewer.csrf, "action": "ban"})
    assert reply.status_code == 400 and "action must be" in reply.text
    assert queue.get_item(engine, item_id).status == "claimed"


def test_secret_file_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = load_or_create_secret(path)
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert load_or_create_secret(path, "e" * 40) == "e" * 40
    with pytest.raises(ValueError, match="at least"):
        load_or_create_secret(path, "short")
    path.chmod(0o644)
    load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_queue_filters_by_date_label_and_source(reviewer: TestClient, engine: Engine) -> None:
    from support.web import scored

    rows = [
        scored("feb1", "pos satu", 0.7, created_at="2026-02-01T23:30:00", source="tiktok"),
        scored("feb3", "pos tiga", 0.7, created_at="2026-02-03T08:00:00", source="tiktok"),
    ]
    rows[1]["flags"] = {**rows[1]["flags"], "incitement": False}
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5)
    ids = {i.post_id: i.id for i in queue.list_items(engine, limit=100)[0]}

    def shown(**params: str) -> set[int]:
        page = reviewer.get("/queue", params=params)
        assert page.status_code == 200, page.text
        return {int(x) for x in re.findall(r'<tr data-item="(\d+)"', page.text)}

    assert shown(since="2026-02-01", until="2026-02-01") == {ids["feb1"]}  # the whole day, inclusive
    assert shown(source="tiktok") == {ids["feb1"], ids["feb3"]}
    assert shown(source="tiktok", label="incitement") == {ids["feb1"]}
    assert reviewer.get("/queue", params={"min_risk": "banyak"}).status_code == 400
