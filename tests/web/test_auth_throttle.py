"""The login throttle over HTTP (issue 15 item 7): nobody can lock a reviewer out from elsewhere, one
client guessing many usernames is slowed, the delays hold across workers and restarts, and an admin
sees and clears them."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import PASSWORD, SECRET, csrf_from

from pantau.queue.throttle import ThrottlePolicy
from pantau.web.app import WebConfig, create_app

ATTACKER = ("198.51.100.7", 40000)
RINA_PC = ("10.0.0.2", 40000)
# A long first delay keeps the test independent of how slow argon2 is on a busy machine.
SLOW = WebConfig(claim_batch=1, login_throttle=ThrottlePolicy(base_seconds=60))


def attempt(app: FastAPI, username: str, password: str, client: tuple[str, int]) -> TestClient:
    """One page sign-in from ``client``; the client's last response is in ``.reply``."""
    browser = TestClient(app, follow_redirects=False, client=client)
    token = csrf_from(browser.get("/login").text)
    browser.reply = browser.post(  # type: ignore[attr-defined]
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )
    return browser


def test_wrong_passwords_elsewhere_do_not_lock_the_reviewer_out(engine: Engine) -> None:
    app = create_app(engine, secret_key=SECRET, config=SLOW)
    for _ in range(3):  # three free tries
        assert attempt(app, "rina", "salah-salah-1", ATTACKER).reply.status_code == 401  # type: ignore[attr-defined]
    assert attempt(app, "rina", "salah-salah-1", ATTACKER).reply.status_code == 401  # type: ignore[attr-defined]
    blocked = attempt(app, "rina", PASSWORD, ATTACKER).reply  # type: ignore[attr-defined]
    assert blocked.status_code == 429  # the attacker's client waits, even with the right password
    assert 55 <= int(blocked.headers["retry-after"]) <= 60
    assert "coba lagi dalam" in blocked.text and "try again in" in blocked.text
    # Before: five failures locked the *correct* password out for everyone, from anywhere.
    assert attempt(app, "rina", PASSWORD, RINA_PC).reply.status_code == 303  # type: ignore[attr-defined]


def test_one_client_trying_many_usernames_is_slowed(engine: Engine) -> None:
    app = create_app(engine, secret_key=SECRET, config=SLOW)
    for i in range(11):  # ten free for the client as a whole, then a delay
        assert attempt(app, f"tebak{i}", "salah-salah-1", ATTACKER).reply.status_code == 401  # type: ignore[attr-defined]
    assert attempt(app, "budi", PASSWORD, ATTACKER).reply.status_code == 429  # type: ignore[attr-defined]
    assert attempt(app, "budi", PASSWORD, RINA_PC).reply.status_code == 303  # type: ignore[attr-defined]


def test_the_delay_holds_across_workers_and_restarts_and_the_api(engine: Engine) -> None:
    worker_a = create_app(engine, secret_key=SECRET, config=SLOW)
    for _ in range(4):
        attempt(worker_a, "rina", "salah-salah-1", ATTACKER)
    worker_b = create_app(engine, secret_key=SECRET, config=SLOW)  # another worker, or after a restart
    assert attempt(worker_b, "rina", PASSWORD, ATTACKER).reply.status_code == 429  # type: ignore[attr-defined]
    api = TestClient(worker_b, client=ATTACKER)
    reply = api.post("/api/v1/session", json={"username": "rina", "password": PASSWORD})
    assert reply.status_code == 429 and int(reply.headers["retry-after"]) > 0


def test_an_admin_sees_and_clears_the_delays(engine: Engine, admin: TestClient) -> None:
    app = admin.app
    app.state.config = SLOW
    for _ in range(4):
        attempt(app, "rina", "salah-salah-1", ATTACKER)
    page = admin.get("/admin/users").text
    assert 'id="throttles"' in page and "198.51.100.7" in page and "Penundaan masuk" in page
    token = admin.csrf  # type: ignore[attr-defined]
    reply = admin.post(
        "/admin/throttle/clear", data={"csrf_token": token, "username": "rina", "client": ATTACKER[0]}
    )
    assert reply.status_code == 303
    assert attempt(app, "rina", PASSWORD, ATTACKER).reply.status_code == 303  # type: ignore[attr-defined]
    everything = admin.post("/admin/throttle/clear", data={"csrf_token": token, "everything": "1"})
    assert everything.status_code == 303
    assert 'id="no-throttles"' in admin.get("/admin/users").text
    audit = admin.get("/admin/audit").text
    assert "throttle_clear" in audit and "login_failed" in audit
