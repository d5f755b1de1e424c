"""Case file and desk report downloads over HTTP: a lead gets them, a reviewer is refused; the PDFs'
text layer says what the case file says."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)


def decide_top(engine: Engine, reviewer: str = "rina", action: str = "takedown") -> int:
    """Decide the queue's top item (post "top": 'usir kadrun dari kampung ini') as ``reviewer``."""
    from pantau.queue.users import list_users

    users = {u.username: u.id for u in list_users(engine)}
    item = next(i for i in queue.list_items(engine, limit=100)[0] if i.post_id == "top")
    queue.claim_item(engine, users[reviewer], item.id)
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    queue.decide(
        engine,
        users[reviewer],
        item.id,
        DecisionIn(labels=labels, action=action, pasal_280=("280_1_d",), note="ajakan mengusir warga"),
    )
    return item.id


def test_a_lead_downloads_the_case_file(lead: TestClient, engine: Engine) -> None:
    item = decide_top(engine)
    reply = lead.get(f"/lead/items/{item}/case.json")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-disposition"] == f'attachment; filename="kasus-{item}.json"'
    case = json.loads(reply.content)
    assert case["post"]["sha256"] == hashlib.sha256(b"usir kadrun dari kampung ini").hexdigest()
    assert case["decisions"][0]["pasal_280"][0]["key"] == "280_1_d"

    reply = lead.get(f"/lead/items/{item}/case.pdf")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    assert reply.content.startswith(b"%PDF-")
    text = pdf_text(reply.content)
    for expected in (
        "Berkas kasus",
        "case file",
        "usir kadrun dari kampung ini",
        "https://example.org/p/1",
        "@akun<b>",  # the account, as text (escaped for ReportLab's markup, not interpreted)
        case["post"]["sha256"],
        "KELUARAN MODEL (MODEL OUTPUT)",
        "rina",
        "takedown",
        "ajakan mengusir warga",
        "huruf d",
        "Jejak keputusan",
        "decision trail",
    ):
        assert expected in text.replace("\n", " ") or expected in text, expected
    assert "tidak tersedia / not available" in text  # posted-at: the row had no time


def test_a_reviewer_is_refused(reviewer: TestClient, engine: Engine) -> None:
    item = decide_top(engine)
    for url in (
        f"/lead/items/{item}/case.pdf",
        f"/lead/items/{item}/case.json",
        "/lead/report",
        "/lead/report.pdf",
        "/lead/report.csv",
    ):
        assert reviewer.get(url).status_code == 403, url


def test_no_case_file_for_an_undecided_item(lead: TestClient, engine: Engine) -> None:
    item = queue.list_items(engine)[0][0].id
    reply = lead.get(f"/lead/items/{item}/case.pdf")
    assert reply.status_code == 409 and "is not a decided warn/takedown" in reply.text
    assert lead.get("/lead/items/99999999/case.json").status_code == 404


def test_hostile_post_in_a_case_pdf(lead: TestClient, engine: Engine) -> None:
    from pantau.queue.users import list_users

    users = {u.username: u.id for u in list_users(engine)}
    hostile = next(i for i in queue.list_items(engine, limit=100)[0] if i.post_id == "x-script")
    queue.claim_item(engine, users["rina"], hostile.id)
    labels = {k: k == "divisive_label" for k in LABEL_KEYS}
    queue.decide(engine, users["rina"], hostile.id, DecisionIn(labels=labels, action="warn"))
    reply = lead.get(f"/lead/items/{hostile.id}/case.pdf")
    assert reply.status_code == 200
    assert "<script>window.__pwned = 'script'</script> dasar kadrun" in pdf_text(reply.content)


@pytest.mark.parametrize("period", ["day", "week"])
def test_the_desk_report_page_and_exports(lead: TestClient, engine: Engine, period: str) -> None:
    item = decide_top(engine)
    page = lead.get(f"/lead/report?period={period}")
    assert page.status_code == 200
    html = page.text
    assert "Laporan meja" in html and "<svg" in html and "cdn" not in html.lower()
    assert f'href="/lead/items/{item}/case.pdf"' in html
    assert "&lt;b&gt;" in html or "@akun" not in html  # accounts are escaped
    rows = list(csv.reader(io.StringIO(lead.get(f"/lead/report.csv?period={period}").text)))
    assert ["totals", "decided", "1"] in rows and ["decided_by_action", "takedown", "1"] in rows
    reply = lead.get(f"/lead/report.pdf?period={period}")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    text = pdf_text(reply.content)
    assert "Laporan meja" in text and "desk report" in text and "takedown" in text


def test_report_refuses_a_bad_period_or_date(lead: TestClient) -> None:
    assert lead.get("/lead/report?period=month").status_code == 422
    assert lead.get("/lead/report?date=2026-13-45").status_code == 400
    assert lead.get("/lead/report.csv?date=9999-12-31").status_code == 400
