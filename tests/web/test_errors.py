"""Error answers (issue 15, items 9–10): a bilingual page for HTML routes, JSON for the API, the
security headers on every one of them (a 500 too), no exception text for the person, a body limit."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import PASSWORD, SECRET, sign_in

from pantau import queue
from pantau.config import ConfigError, ServeSettings
from pantau.web.app import WebConfig, create_app
from pantau.web.security import CONTENT_SECURITY_POLICY


def _headers_ok(response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unhandled_error_is_a_logged_500_with_the_headers(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(engine, secret_key=SECRET)

    def boom() -> None:
        raise RuntimeError("secret-internal-detail")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    client = TestClient(app)  # raises server exceptions: the boundary must have handled it
    with caplog.at_level(logging.ERROR, logger="pantau.web"):
        page = client.get("/boom")
        api = client.get("/api/v1/boom")
    for response in (page, api):
        assert response.status_code == 500
        _headers_ok(response)
        assert "secret-internal-detail" not in response.text and "Traceback" not in response.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Terjadi kesalahan di server" in page.text and "(server error)" in page.text
    assert api.json()["title"] == "Terjadi kesalahan di server (server error)"
    ref = re.search(r"rujukan ([0-9a-f]{8})", page.text)
    assert ref, page.text
    logged = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert logged and "secret-internal-detail" in str(logged[0].exc_info[1])  # the log has the detail


def test_invalid_parameters_on_pages_are_a_bilingual_page_and_json_on_the_api(reviewer: TestClient) -> None:
    page = reviewer.get("/queue", params={"page": "abc"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "Isian tidak valid" in page.text and "(invalid parameters)" in page.text and "page:" in page.text
    _headers_ok(page)
    api = reviewer.get("/api/v1/items", params={"limit": "abc"})
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/json")
    assert api.json()["detail"][0]["loc"] == ["query", "limit"]
    assert "input" not in api.json()["detail"][0]  # the input is not echoed back
    missing = reviewer.get("/items/abc")
    assert missing.status_code == 404 and "Tidak ditemukan" in missing.text and "(not found)" in missing.text
    unknown = reviewer.get("/no/such/page")
    assert unknown.status_code == 404 and "Tidak ditemukan" in unknown.text
    _headers_ok(unknown)


def test_no_exception_text_reaches_the_person(reviewer: TestClient) -> None:
    page = reviewer.get("/queue", params={"since": "kemarin"})
    assert page.status_code == 400
    assert "Invalid isoformat" not in page.text  # Python's own sentence
    assert "bukan tanggal/waktu ISO-8601" in page.text and "(not an ISO-8601 date/time)" in page.text
    api = reviewer.post(
        "/api/v1/claims",
        content=b"{not json",
        headers={"X-CSRF-Token": reviewer.csrf, "content-type": "application/json"},
    )  # type: ignore[attr-defined]
    assert api.status_code == 422
    assert "Expecting property name" not in api.text  # the JSON parser's exception text


def test_queue_refusals_are_bilingual(app: FastAPI, engine: Engine) -> None:
    rina, budi = sign_in(app, "rina"), sign_in(app, "budi")
    item = queue.list_items(engine)[0][0].id
    assert rina.post(f"/items/{item}/claim", data={"csrf_token": rina.csrf}).status_code == 303  # type: ignore[attr-defined]
    taken = budi.post(f"/items/{item}/claim", data={"csrf_token": budi.csrf})  # type: ignore[attr-defined]
    assert taken.status_code == 409 and taken.headers["content-type"].startswith("text/html")
    assert "Tindakan ini tidak bisa dilakukan" in taken.text and "(not possible in the item" in taken.text
    api = budi.post(f"/api/v1/items/{item}/release", headers={"X-CSRF-Token": budi.csrf})  # type: ignore[attr-defined]
    assert api.status_code == 409 and api.json()["title"].startswith("Tindakan ini tidak bisa dilakukan")


def test_request_bodies_are_limited(engine: Engine) -> None:
    app = create_app(engine, secret_key=SECRET, config=WebConfig(max_body_bytes=4096))
    client = TestClient(app)
    reply = client.post("/api/v1/session", json={"username": "rina", "password": PASSWORD})
    assert reply.status_code == 200
    headers = {"X-CSRF-Token": reply.json()["csrf_token"], "content-type": "application/json"}
    big = b'{"n": 1, "source": "' + b"x" * 5000 + b'"}'
    declared = client.post("/api/v1/claims", content=big, headers=headers)
    assert declared.status_code == 413 and declared.json()["title"].startswith("Permintaan terlalu besar")
    _headers_ok(declared)

    def chunks():
        yield big[:3000]
        yield big[3000:]

    streamed = client.post("/api/v1/claims", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    form = client.post("/logout", data={"csrf_token": "x" * 5000})
    assert form.status_code == 413 and "Permintaan terlalu besar" in form.text and "4 KiB" in form.text
    assert queue.status_counts(engine)["claimed"] == 0
    small = client.post("/api/v1/claims", json={"n": 1}, headers=headers)
    assert small.status_code == 200


def test_the_body_limit_is_a_checked_setting() -> None:
    assert ServeSettings().max_body_bytes == WebConfig().max_body_bytes == 256 * 1024
    with pytest.raises(ConfigError, match="serve.max_body_bytes"):
        ServeSettings(max_body_bytes=0)


def test_nul_anywhere_is_refused(reviewer: TestClient, engine: Engine) -> None:
    before = queue.status_counts(engine)
    headers = {"X-CSRF-Token": reviewer.csrf}  # type: ignore[attr-defined]
    assert reviewer.get("/queue", params={"source": "a\x00b"}).status_code == 400
    assert reviewer.get("/items/1%00").status_code == 400
    form = reviewer.post("/claim", data={"csrf_token": reviewer.csrf, "source": "a\x00"})  # type: ignore[attr-defined]
    assert form.status_code == 400 and "NUL" in form.text
    body = reviewer.post(
        "/api/v1/claims", json={"n": 1, "label": None, "source": ["x", {"k": "\x00"}]}, headers=headers
    )
    assert body.status_code == 400 and "NUL" in body.json()["detail"]
    assert queue.status_counts(engine) == before
