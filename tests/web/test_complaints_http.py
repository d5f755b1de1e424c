"""The public complaint desk over HTTP: the form and the API without an account, scoring with the app's
model (or visibly without one), merging, tracking codes, rate limits, CSRF, escaping, and the
reviewers' list with contacts for leads only."""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from support.tiny_models import KeywordBaseline
from support.web import SECRET, csrf_from, sign_in

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.model.meta import ModelMeta, save_meta
from pantau.queue import DecisionIn, ItemFilter
from pantau.queue.complaints import ComplaintPolicy
from pantau.queue.models import AuditEvent, Complaint, ComplaintReport
from pantau.queue.users import find_user
from pantau.web.app import WebConfig, create_app

COMPLAINTS = ItemFilter(source="complaint")
XSS = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"


def keyword_model(folder: Path) -> Path:
    """A baseline-kind model folder around the tests' KeywordBaseline (cebong/kadrun/kampret/usir…)."""
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(KeywordBaseline(), folder / "baseline.joblib")
    save_meta(
        folder,
        ModelMeta(
            labels=LABEL_KEYS,
            thresholds=dict.fromkeys(LABEL_KEYS, 0.5),
            kind="baseline",
            preprocessing="none",
            version="kw-1",
            name="keyword-test",
        ),
    )
    return folder


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return keyword_model(tmp_path / "model")


def make_app(engine: Engine, model: Path | None, **policy: float) -> FastAPI:
    config = WebConfig(
        claim_batch=1,
        complaints=ComplaintPolicy(**policy),
        complaint_model=str(model) if model else None,
    )
    return create_app(engine, secret_key=SECRET, config=config)


def public(app: FastAPI) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.csrf = csrf_from(client.get("/aduan").text)  # type: ignore[attr-defined]
    return client


def file_form(client: TestClient, **fields: object) -> object:
    data = {"csrf_token": client.csrf, **fields}  # type: ignore[attr-defined]
    return client.post("/aduan", data=data)


def code_from(location: str) -> str:
    match = re.match(r"^/aduan/([A-Za-z0-9_-]{22})\?baru=[12]$", location)
    assert match, location
    return match.group(1)


def test_the_form_files_a_scored_complaint_that_enters_the_queue(engine: Engine, model_dir: Path) -> None:
    app = make_app(engine, model_dir)
    client = public(app)
    form = client.get("/aduan")
    assert form.status_code == 200 and "unscored-notice" not in form.text
    for key in LABEL_KEYS:
        assert f'value="{key}"' in form.text
    assert (
        "Kata-kata kasar" in form.text and "abusive language" in form.text
    )  # plain Indonesian, English beside
    reply = file_form(
        client,
        text="usir kadrun dari kampung ini",
        labels=["incitement", "divisive_label"],
        contact="saya@example.org",
    )
    assert reply.status_code == 303
    code = code_from(reply.headers["location"])
    status = client.get(reply.headers["location"])
    assert status.status_code == 200 and code in status.text and 'data-state="received"' in status.text
    assert "unscored-notice" not in status.text
    [item] = queue.list_items(engine, filters=COMPLAINTS)[0]
    assert item.model_version == "kw-1" and item.risk > 0.5 and item.flags["incitement"]
    assert item.text == "usir kadrun dari kampung ini"
    # ranked by its own rule: above the floor, by its model risk; the list shows the same figure
    assert item.priority == pytest.approx(item.risk, abs=0.01)
    assert "saya@example.org" not in status.text


def test_without_a_model_the_report_is_filed_unscored_and_says_so(engine: Engine) -> None:
    app = make_app(engine, None)
    client = public(app)
    assert "unscored-notice" in client.get("/aduan").text
    reply = file_form(client, url="https://x.com/akun/status/1", labels=["abusive"])
    status = client.get(reply.headers["location"])
    assert "unscored-notice" in status.text and "not scored automatically" in status.text
    [item] = queue.list_items(engine, filters=COMPLAINTS)[0]
    assert item.model_version == "unscored" and "not scored" in (item.model_name or "")
    assert item.priority == pytest.approx(0.5, abs=0.01)  # the floor
    lead = sign_in(app, "lia")
    page = lead.get(f"/items/{item.id}")
    assert page.status_code == 200 and "not scored" in page.text  # the item page says it too


def test_the_api_files_and_tracks_and_merges_duplicates(engine: Engine, model_dir: Path) -> None:
    app = make_app(engine, model_dir)
    client = TestClient(app)
    one = client.post(
        "/api/v1/complaints", json={"url": "https://twitter.com/a/status/7?s=20", "labels": ["abusive"]}
    )
    assert one.status_code == 201, one.text
    body = one.json()
    assert not body["merged"] and body["reports"] == 1 and not body["scored"]  # a link alone is not scored
    assert body["status_url"] == f"/aduan/{body['code']}"
    two = client.post(
        "/api/v1/complaints",
        json={
            "url": "http://www.x.com/a/status/7/",
            "text": "dasar kampret",
            "labels": ["abusive", "hate_speech"],
        },
    )
    assert two.status_code == 201 and two.json()["merged"] and two.json()["reports"] == 2
    status = client.get(f"/api/v1/complaints/{body['code']}")
    assert status.status_code == 200
    assert status.json() == {
        "state": "received",
        "state_text": "Diterima — menunggu ditinjau / received, waiting for review",
        "outcome": None,
        "outcome_text": None,
        "reported_at": status.json()["reported_at"],
        "decided_at": None,
        "labels": ["abusive"],
        "reports": 2,
        "scored": False,
    }
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 1
    assert client.get("/api/v1/complaints/" + "A" * 22).status_code == 404
    assert client.get("/api/v1/complaints/bad!code").status_code == 404
    assert client.get("/api/v1/complaints/" + "x" * 100).status_code == 404


def test_the_whole_path_to_an_outcome_without_the_reviewer(engine: Engine, model_dir: Path) -> None:
    app = make_app(engine, model_dir, double_review_risk=1.0)  # one review decides it
    client = public(app)
    code = code_from(file_form(client, text="serang cebong", labels=["incitement"]).headers["location"])
    [item] = queue.list_items(engine, filters=COMPLAINTS)[0]
    rina = find_user(engine, "rina")
    assert rina is not None
    queue.claim_item(engine, rina.id, item.id)
    assert 'data-state="in_review"' in client.get(f"/aduan/{code}").text
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    queue.decide(engine, rina.id, item.id, DecisionIn(labels=labels, action="warn", confirmed=True))
    page = client.get(f"/aduan/{code}").text
    assert 'data-state="decided"' in page and 'data-outcome="warn"' in page and "peringatan" in page
    assert "rina" not in page and "incitement" not in re.sub(r"<ul>.*?</ul>", "", page, flags=re.DOTALL)
    api = TestClient(app).get(f"/api/v1/complaints/{code}").json()
    assert api["state"] == "decided" and api["outcome"] == "warn" and "rina" not in str(api)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"labels": ["abusive"]}, "link or paste"),
        ({"text": "x"}, "at least one"),
        ({"text": "x", "labels": ["<b>other</b>"]}, "at least one"),
        ({"url": "javascript:alert(1)", "labels": ["abusive"]}, "http"),
        ({"text": "y" * 5001, "labels": ["abusive"]}, "5000"),
        ({"text": "x", "details": "d" * 1001, "labels": ["abusive"]}, "1000"),
    ],
)
def test_the_form_refuses_bad_reports_and_keeps_the_input(engine: Engine, fields: dict, why: str) -> None:
    client = public(make_app(engine, None))
    reply = file_form(client, **fields)
    assert reply.status_code == 400 and why.replace("'", "&#39;") in reply.text
    assert "Kembali" in reply.text and 'id="complaint-form"' in reply.text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0


def test_the_api_refuses_bad_reports(engine: Engine) -> None:
    client = TestClient(make_app(engine, None))
    assert client.post("/api/v1/complaints", json={"text": "x", "labels": []}).status_code == 422
    assert client.post("/api/v1/complaints", json={"text": "x", "labels": ["nope"]}).status_code == 400
    assert client.post("/api/v1/complaints", json={"labels": ["abusive"]}).status_code == 400
    assert (
        client.post("/api/v1/complaints", json={"text": "x" * 100_001, "labels": ["abusive"]}).status_code
        == 422
    )
    big = b'{"labels": ["abusive"], "text": "' + b"x" * 300_000 + b'"}'
    reply = client.post("/api/v1/complaints", content=big, headers={"content-type": "application/json"})
    assert reply.status_code == 413  # serve.max_body_bytes before anything reads it


def test_rate_limits_answer_429_with_retry_after(engine: Engine) -> None:
    app = make_app(engine, None, per_client_per_hour=2, total_per_hour=100)
    client = public(app)
    for i in range(2):
        assert file_form(client, text=f"post {i}", labels=["abusive"]).status_code == 303
    refused = file_form(client, text="post 2", labels=["abusive"])
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "too many reports" in refused.text and "post 2" in refused.text  # the input is kept
    api = TestClient(app).post("/api/v1/complaints", json={"text": "post 3", "labels": ["abusive"]})
    assert api.status_code == 429 and "retry-after" in api.headers  # the same client, by address


@pytest.mark.parametrize("token", [None, "", "forged-" + "x" * 40])
def test_the_form_needs_its_csrf_token(engine: Engine, token: str | None) -> None:
    client = public(make_app(engine, None))
    data = {"text": "dasar kadrun", "labels": ["abusive"]}
    if token is not None:
        data["csrf_token"] = token
    assert client.post("/aduan", data=data).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0


def test_another_site_cannot_file_through_the_form_or_the_api(engine: Engine) -> None:
    app = make_app(engine, None)
    client = public(app)
    cross = {"sec-fetch-site": "cross-site"}
    data = {"csrf_token": client.csrf, "text": "x", "labels": ["abusive"]}  # type: ignore[attr-defined]
    assert client.post("/aduan", data=data, headers=cross).status_code == 403
    api = client.post("/api/v1/complaints", json={"text": "x", "labels": ["abusive"]}, headers=cross)
    assert api.status_code == 403
    evil = {"origin": "https://evil.example"}
    assert (
        client.post("/api/v1/complaints", json={"text": "x", "labels": ["abusive"]}, headers=evil).status_code
        == 403
    )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0


def test_hostile_input_is_escaped_everywhere_it_is_shown(engine: Engine) -> None:
    app = make_app(engine, None)
    client = public(app)
    reply = file_form(
        client, url="https://x.com/a?q=" + XSS, text=XSS, details=XSS, contact=XSS, labels=["abusive"]
    )
    assert reply.status_code == 303
    refused = file_form(client, text=XSS, details="d" * 2000, contact=XSS, labels=["abusive"])
    assert refused.status_code == 400 and XSS not in refused.text and "&lt;script&gt;" in refused.text
    lead = sign_in(app, "lia")
    for page in (
        lead.get("/complaints"),
        lead.get(f"/items/{queue.list_items(engine, filters=COMPLAINTS)[0][0].id}"),
    ):
        assert page.status_code == 200 and XSS not in page.text and "&lt;script&gt;" in page.text


def test_the_complaints_list_shows_contacts_to_leads_only(engine: Engine) -> None:
    app = make_app(engine, None)
    client = public(app)
    file_form(client, text="kampret semua", labels=["abusive"], contact="wa 0812-0000")
    file_form(client, text="KAMPRET   semua", labels=["hate_speech"], contact="b@example.org")
    reviewer, lead = sign_in(app, "rina"), sign_in(app, "lia")
    seen = reviewer.get("/complaints")
    assert seen.status_code == 200 and "kampret semua" in seen.text
    assert "wa 0812-0000" not in seen.text and "b@example.org" not in seen.text
    assert "leads only" in seen.text
    lead_page = lead.get("/complaints")
    assert "wa 0812-0000" in lead_page.text and "b@example.org" in lead_page.text
    assert re.search(r"<td>2</td>", lead_page.text)  # two reports, one post
    assert TestClient(app, follow_redirects=False).get("/complaints").status_code == 303  # sign in first
    # the audit log records the complaint, never the contact
    with engine.connect() as conn:
        details = (
            conn.execute(select(AuditEvent.detail).where(AuditEvent.event == "complaint")).scalars().all()
        )
        assert conn.execute(select(func.count()).select_from(ComplaintReport)).scalar_one() == 2
    assert len(details) == 2 and all("0812" not in str(d) for d in details)


def test_a_status_lookup_box_goes_to_the_code(engine: Engine) -> None:
    client = public(make_app(engine, None))
    code = code_from(file_form(client, text="x", labels=["abusive"]).headers["location"])
    assert client.get(f"/aduan?kode={code}").headers["location"] == f"/aduan/{code}"
    bad = client.get("/aduan?kode=%3Cscript%3E")
    assert bad.status_code == 404 and "<script>" not in bad.text and "unknown tracking code" in bad.text
    assert client.get("/aduan/" + "B" * 22).status_code == 404
