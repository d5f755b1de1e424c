"""Issue 15 over HTTP: unticked forms, confirmations, undo, separation of duties, leases that survive work."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from support.web import PASSWORD, sign_in

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue.models import Item, utcnow


def _claim(client: TestClient, engine: Engine, user_id: int) -> int:
    assert client.post("/claim", data={"csrf_token": client.csrf}).status_code == 303
    [item_id] = queue.claimed_by_user(engine, user_id)
    return item_id


def test_decision_form_arrives_unticked(reviewer: TestClient, engine: Engine) -> None:
    item_id = _claim(reviewer, engine, 1)
    assert all(queue.get_item(engine, item_id).flags.values())  # the model flagged every label
    html = reviewer.get(f"/items/{item_id}").text
    form = html.split('id="decision-form"', 1)[1].split("</form>", 1)[0]
    assert "checked" not in form  # no label, clause or confirmation pre-ticked
    assert form.count('class="model-view"') == len(LABEL_KEYS) and "disarankan model" in form
    assert 'id="lease"' in html and "sisa" in html


def test_the_action_must_agree_with_the_labels_on_the_page(reviewer: TestClient, engine: Engine) -> None:
    item_id = _claim(reviewer, engine, 1)
    data = {"csrf_token": reviewer.csrf, "label_hate_speech": "1", "action": "no_violation"}
    reply = reviewer.post(f"/items/{item_id}/decide", data=data)
    assert reply.status_code == 400 and "no violation cannot carry labels" in reply.text
    reply = reviewer.post(f"/items/{item_id}/decide", data={"csrf_token": reviewer.csrf, "action": "warn"})
    assert reply.status_code == 400 and "at least one label" in reply.text
    take = {"csrf_token": reviewer.csrf, "label_incitement": "1", "action": "takedown"}
    assert reviewer.post(f"/items/{item_id}/decide", data=take).status_code == 400  # not confirmed
    assert queue.item_decisions(engine, item_id) == []
    noted = {**take, "note": "ajakan mengusir"}
    assert reviewer.post(f"/items/{item_id}/decide", data=noted).status_code == 303


def test_undo_on_the_page_and_in_the_api(app: FastAPI, reviewer: TestClient, engine: Engine) -> None:
    item_id = _claim(reviewer, engine, 1)
    slip = {"csrf_token": reviewer.csrf, "action": "no_violation"}
    reviewer.post(f"/items/{item_id}/decide", data=slip)
    queue_page = reviewer.get("/queue").text
    assert f'action="/items/{item_id}/undo"' in queue_page  # offered on the next page
    assert reviewer.post(f"/items/{item_id}/undo", data={"csrf_token": reviewer.csrf}).status_code == 303
    assert queue.get_item(engine, item_id).status == "claimed"
    assert f'action="/items/{item_id}/undo"' not in reviewer.get("/queue").text
    # Through the API: undo works until someone else acts on the item.
    client = TestClient(app)
    token = client.post("/api/v1/session", json={"username": "rina", "password": PASSWORD}).json()
    headers = {"X-CSRF-Token": token["csrf_token"]}
    body = {"labels": dict.fromkeys(LABEL_KEYS, False), "action": "no_violation"}
    assert client.post(f"/api/v1/items/{item_id}/decision", json=body, headers=headers).status_code == 200
    undone = client.post(f"/api/v1/items/{item_id}/undo", headers=headers)
    assert undone.status_code == 200 and undone.json()["status"] == "claimed"
    assert client.post(f"/api/v1/items/{item_id}/decision", json=body, headers=headers).status_code == 200
    lia = sign_in(app, "lia")
    over = {"csrf_token": lia.csrf, "label_abusive": "1", "action": "warn", "confirmed": "1"}
    assert lia.post(f"/items/{item_id}/override", data=over).status_code == 303  # someone else acts
    reply = client.post(f"/api/v1/items/{item_id}/undo", headers=headers)
    assert reply.status_code == 409 and "nothing to undo" in reply.json()["detail"]


def test_override_on_the_page_needs_a_confirmation(
    app: FastAPI, reviewer: TestClient, engine: Engine
) -> None:
    item_id = _claim(reviewer, engine, 1)
    reviewer.post(f"/items/{item_id}/decide", data={"csrf_token": reviewer.csrf, "action": "no_violation"})
    lia = sign_in(app, "lia")
    page = lia.get(f"/items/{item_id}").text
    override_form = page.split('id="override-form"', 1)[1].split("</form>", 1)[0]
    assert override_form.count('data-confirm="1"') == 3  # every action of an override asks twice
    over = {"csrf_token": lia.csrf, "label_abusive": "1", "action": "warn"}
    reply = lia.post(f"/items/{item_id}/override", data=over)
    assert reply.status_code == 400 and "override needs a confirmation" in reply.text
    assert lia.post(f"/items/{item_id}/override", data={**over, "confirmed": "1"}).status_code == 303


def test_a_lead_is_not_offered_their_own_dispute(app: FastAPI, engine: Engine) -> None:
    lia, budi = sign_in(app, "lia"), sign_in(app, "budi")
    item_id = _claim(lia, engine, 3)
    lia.post(f"/items/{item_id}/decide", data={"csrf_token": lia.csrf, "action": "escalate"})
    page = lia.get(f"/items/{item_id}").text
    assert 'id="own-dispute"' in page and 'id="resolve-form"' not in page
    resolve = {"csrf_token": lia.csrf, "action": "no_violation"}
    reply = lia.post(f"/items/{item_id}/resolve", data=resolve)
    assert reply.status_code == 403 and "another lead or an admin" in reply.text
    adi = sign_in(app, "adi")
    assert 'id="resolve-form"' in adi.get(f"/items/{item_id}").text
    assert adi.post(f"/items/{item_id}/resolve", data={**resolve, "csrf_token": adi.csrf}).status_code == 303
    assert budi.get("/queue").status_code == 200


def _expire(engine: Engine, item_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Item).where(Item.id == item_id).values(lease_expires_at=utcnow() - timedelta(minutes=1))
        )


def test_a_lost_claim_keeps_the_decision_or_the_note(
    app: FastAPI, reviewer: TestClient, engine: Engine
) -> None:
    item_id = _claim(reviewer, engine, 1)
    _expire(engine, item_id)
    data = {"csrf_token": reviewer.csrf, "label_abusive": "1", "action": "warn", "note": "kasar"}
    assert reviewer.post(f"/items/{item_id}/decide", data=data).status_code == 303  # taken back, recorded
    assert [d.note for d in queue.item_decisions(engine, item_id)] == ["kasar"]
    # This time someone else takes it after the lease runs out: the typed note comes back on the page.
    other = _claim(reviewer, engine, 1)
    _expire(engine, other)
    budi = sign_in(app, "budi")
    assert budi.post(f"/items/{other}/claim", data={"csrf_token": budi.csrf}).status_code == 303
    lost = {**data, "note": "catatan panjang <b>saya</b>"}
    reply = reviewer.post(f"/items/{other}/decide", data=lost)
    assert reply.status_code == 409 and "belum tersimpan" in reply.text
    kept = re.search(r'<textarea id="kept-note"[^>]*>([^<]*)</textarea>', reply.text)
    assert kept and kept.group(1) == "catatan panjang &lt;b&gt;saya&lt;/b&gt;"
    assert queue.item_decisions(engine, other) == []


def test_working_on_an_item_renews_its_lease(reviewer: TestClient, engine: Engine) -> None:
    item_id = _claim(reviewer, engine, 1)
    with engine.begin() as conn:
        soon = utcnow() + timedelta(minutes=2)
        conn.execute(update(Item).where(Item.id == item_id).values(lease_expires_at=soon))
    reply = reviewer.post(f"/items/{item_id}/lease", data={"csrf_token": reviewer.csrf})
    assert reply.status_code == 200
    assert queue.get_item(engine, item_id).lease_expires_at > utcnow() + timedelta(minutes=14)
    reviewer.get(f"/items/{item_id}")  # opening it renews too
    assert queue.get_item(engine, item_id).lease_expires_at > utcnow() + timedelta(minutes=14)
    queue.release(engine, 1, item_id)
    assert reviewer.post(f"/items/{item_id}/lease", data={"csrf_token": reviewer.csrf}).status_code == 409


def test_a_first_review_says_it_waits_for_a_second(app: FastAPI, engine: Engine) -> None:
    from support.web import scored

    queue.enqueue(engine, [scored("dbl", "cebong", 0.99)], model_version="v1", risk_threshold=0.5)
    rina = sign_in(app, "rina")
    item_id = _claim(rina, engine, 1)
    rina.post(f"/items/{item_id}/decide", data={"csrf_token": rina.csrf, "action": "no_violation"})
    assert "menunggu peninjau kedua" in rina.get("/queue").text
