"""The JSON API: sign-in, claims, decisions, lead resolution/override, stats and audit, as each role."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import PASSWORD

from pantau.labels import LABEL_KEYS


def api_client(app: FastAPI, username: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app)
    reply = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    assert reply.json()["username"] == username
    return client, {"X-CSRF-Token": reply.json()["csrf_token"]}


def labels(**on: bool) -> dict[str, bool]:
    return {k: on.get(k, False) for k in LABEL_KEYS}


def test_wrong_password_and_bad_bodies(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.post("/api/v1/session", json={"username": "rina", "password": "salah"}).status_code == 401
    client, headers = api_client(app, "rina")
    assert client.post("/api/v1/claims", json={"n": 0}, headers=headers).status_code == 422
    assert client.post("/api/v1/claims", json={"label": "spam"}, headers=headers).status_code == 400
    [item] = client.post("/api/v1/claims", json={"n": 1}, headers=headers).json()["items"]
    bad = {"labels": {"hate_speech": True}, "action": "warn"}
    reply = client.post(f"/api/v1/items/{item['id']}/decision", json=bad, headers=headers)
    assert reply.status_code == 400 and "labels missing" in reply.json()["detail"]
    assert client.get("/api/v1/items/99999").status_code == 404


def test_claim_filters_release_decide_and_list(app: FastAPI, engine: Engine) -> None:
    client, headers = api_client(app, "rina")
    listed = client.get("/api/v1/items", params={"min_risk": 0.7, "sort": "risk"}).json()
    assert listed["total"] == 1 and listed["items"][0]["post_id"] == "top"
    claimed = client.post("/api/v1/claims", json={"n": 2, "min_risk": 0.62}, headers=headers).json()["items"]
    assert [i["post_id"] for i in claimed] == ["top", "x-template"]
    assert all(i["status"] == "claimed" for i in claimed)
    released = client.post(f"/api/v1/items/{claimed[1]['id']}/release", headers=headers).json()
    assert released["status"] == "pending"
    body = {
        "labels": labels(incitement=True),
        "action": "takedown",
        "pasal_280": ["280_1_d"],
        "note": "hasutan",
    }
    decided = client.post(f"/api/v1/items/{claimed[0]['id']}/decision", json=body, headers=headers).json()
    assert decided["status"] == "decided"
    assert client.get("/api/v1/items", params={"status": "decided"}).json()["total"] == 1
    # Someone else's claim cannot be decided.
    budi, budi_headers = api_client(app, "budi")
    [other] = budi.post("/api/v1/claims", json={"n": 1}, headers=budi_headers).json()["items"]
    reply = client.post(f"/api/v1/items/{other['id']}/decision", json=body, headers=headers)
    assert reply.status_code == 409


def test_lead_resolves_overrides_and_reads_stats_admin_reads_audit(app: FastAPI) -> None:
    rina, rh = api_client(app, "rina")
    [a, b] = rina.post("/api/v1/claims", json={"n": 2}, headers=rh).json()["items"]
    esc = rina.post(
        f"/api/v1/items/{a['id']}/decision", json={"labels": labels(), "action": "escalate"}, headers=rh
    )
    assert esc.json() | {"decision_id": 0} == {
        "item_id": a["id"],
        "decision_id": 0,
        "status": "escalated",
        "escalation_reason": "reviewer",
    }
    rina.post(
        f"/api/v1/items/{b['id']}/decision", json={"labels": labels(), "action": "no_violation"}, headers=rh
    )
    lia, lh = api_client(app, "lia")
    body = {
        "labels": labels(hate_speech=True),
        "action": "warn",
        "hs_target": "group",
        "hs_category": "religion",
    }
    assert (
        lia.post(f"/api/v1/items/{a['id']}/resolution", json=body, headers=lh).json()["status"] == "decided"
    )
    unconfirmed = lia.post(f"/api/v1/items/{b['id']}/override", json=body, headers=lh)
    assert unconfirmed.status_code == 400 and "confirmation" in unconfirmed.json()["detail"]  # issue 15
    confirmed = {**body, "confirmed": True}
    assert lia.post(f"/api/v1/items/{b['id']}/override", json=confirmed, headers=lh).status_code == 200
    history = lia.get(f"/api/v1/items/{b['id']}/decisions").json()
    assert [(d["kind"], d["reviewer"]) for d in history] == [("review", "rina"), ("override", "lia")]
    stats = lia.get("/api/v1/stats").json()
    assert stats["counts"]["decided"] == 2 and len(stats["decisions_per_day"]) == 30
    assert {p["label"] for p in stats["precision"]} == set(LABEL_KEYS)
    assert stats["versions"][0]["model_version"] == "v1"
    assert lia.get("/api/v1/audit").status_code == 403
    adi, _ = api_client(app, "adi")
    events = [e["event"] for e in adi.get("/api/v1/audit", params={"item_id": b["id"]}).json()]
    assert events == ["override", "decide", "claim"]
