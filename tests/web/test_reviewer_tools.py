"""Issue 15, item 13, over HTTP with the real app: my decisions today / my history, search, previous page
and page count, recently decided by time, "0,8" in the risk filter, a case-insensitive source filter,
readable audit times (ISO in the title) with the client address and a logout entry, and a double-review
item saved for a second reviewer and not offered back to its first."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import SECRET, scored, sign_in

from pantau import queue
from pantau.web.app import WebConfig, create_app


def _ids(html: str, table: str) -> list[int]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'<tr data-item="(\d+)"', body)]


def _decide(client: TestClient, item_id: int) -> str:
    assert client.post(f"/items/{item_id}/claim", data={"csrf_token": client.csrf}).status_code == 303
    reply = client.post(
        f"/items/{item_id}/decide", data={"csrf_token": client.csrf, "action": "no_violation"}
    )
    assert reply.status_code == 303, reply.text
    return client.get(reply.headers["location"]).text


def test_my_decisions_today_and_my_history(reviewer: TestClient, engine: Engine) -> None:
    top = queue.list_items(engine)[0][0]
    _decide(reviewer, top.id)
    today = reviewer.get("/mine?today=1").text
    assert "Keputusan saya hari ini" in today and _ids(today, "my-decisions") == [top.id]
    assert "Hari ini <small>(today)</small>: 1" in today
    history = reviewer.get("/mine").text
    assert "Riwayat keputusan saya" in history and _ids(history, "my-decisions") == [top.id]
    assert "Tidak melanggar" in history and "<time datetime=" in history
    assert 'href="/mine?today=1"' in reviewer.get("/queue").text  # in the navigation


def test_search_by_post_id_account_or_text(reviewer: TestClient, engine: Engine) -> None:
    queue.enqueue(
        engine,
        [scored("cari-1", "harga naik 50% minggu ini", 0.6, author="@Toko_Maju")],
        model_version="v1",
        risk_threshold=0.5,
    )
    item = next(i for i in queue.list_items(engine, limit=100)[0] if i.post_id == "cari-1")
    for q in ("cari-1", "toko_maju", "50%", "HARGA NAIK"):
        assert _ids(reviewer.get("/search", params={"q": q}).text, "search-results") == [item.id], q
    top = next(i for i in queue.list_items(engine, limit=100)[0] if i.post_id == "top")
    assert _ids(reviewer.get("/search", params={"q": "kampung"}).text, "search-results") == [top.id]
    assert "Tidak ditemukan" in reviewer.get("/search", params={"q": "%%__"}).text  # wildcards are literal
    empty = reviewer.get("/search")
    assert empty.status_code == 200 and 'id="search-results"' not in empty.text
    assert reviewer.get("/search", params={"q": "<script>x</script>"}).text.count("<script>x") == 0


def test_previous_page_and_page_count(engine: Engine) -> None:
    client = sign_in(
        create_app(engine, secret_key=SECRET, config=WebConfig(claim_batch=1, page_size=2)), "rina"
    )
    total = queue.list_items(engine)[1]
    pages = -(-total // 2)
    first = client.get("/queue").text
    assert f"Halaman 1 dari {pages}" in first and 'rel="prev"' not in first and "page=2" in first
    second = client.get("/queue?page=2").text
    assert f"Halaman 2 dari {pages}" in second and 'rel="prev"' in second and "page=1" in second
    last = client.get(f"/queue?page={pages}").text
    assert 'rel="next"' not in last


def test_risk_filter_takes_a_decimal_comma_and_source_ignores_case(
    reviewer: TestClient, engine: Engine
) -> None:
    comma = _ids(reviewer.get("/queue", params={"min_risk": "0,8"}).text, "queue-table")
    dot = _ids(reviewer.get("/queue", params={"min_risk": "0.8"}).text, "queue-table")
    assert comma == dot and comma and all(queue.get_item(engine, i).risk >= 0.8 for i in comma)
    assert reviewer.get("/queue", params={"min_risk": "0,8,1"}).status_code == 400
    every = _ids(reviewer.get("/queue").text, "queue-table")
    for spelling in ("twitter", "Twitter", "TWITTER"):
        assert _ids(reviewer.get("/queue", params={"source": spelling}).text, "queue-table") == every


def test_audit_log_reads_as_times_with_the_client_and_logout(app: object, engine: Engine) -> None:
    rina = sign_in(app, "rina")
    rina.post("/logout", data={"csrf_token": rina.csrf})
    html = sign_in(app, "adi").get("/admin/audit").text
    row = html.split('<tr data-event="logout">', 1)[1].split("</tr>", 1)[0]
    assert re.search(
        r'<time datetime="(\d{4}-\d\d-\d\dT[\d:.]+Z)" title="\1">\d{1,2} \w{3} \d{4} \d\d:\d\d UTC</time>',
        row,
    )
    assert "rina" in row and '<td class="client">testclient</td>' in row  # TestClient's address
    assert '<tr data-event="login">' in html


def test_a_first_review_of_a_double_review_item_waits_and_is_not_offered_back(
    app: object, engine: Engine
) -> None:
    queue.enqueue(
        engine,
        [scored("dua-1", "dasar kadrun semua", 0.99)],
        model_version="v1",
        risk_threshold=0.5,
        double_review_risk=0.9,
    )
    item = next(i for i in queue.list_items(engine, limit=100)[0] if i.post_id == "dua-1")
    rina, budi = sign_in(app, "rina"), sign_in(app, "budi")
    after = _decide(rina, item.id)
    assert "tersimpan — menunggu peninjau kedua (saved — waiting for a second reviewer)" in after
    assert item.id not in _ids(rina.get("/queue").text, "queue-table")
    page = rina.get(f"/items/{item.id}").text
    assert 'id="awaiting-second"' in page and 'id="claim-one"' not in page
    assert item.id in _ids(budi.get("/queue").text, "queue-table")
    assert 'id="claim-one"' in budi.get(f"/items/{item.id}").text
    refused = rina.post(f"/items/{item.id}/claim", data={"csrf_token": rina.csrf})
    assert refused.status_code == 409


def test_recently_decided_is_sorted_by_time(app: object, engine: Engine) -> None:
    rina = sign_in(app, "rina")
    order = [i.id for i in queue.list_items(engine)[0][:3]][::-1]  # decide lowest priority first
    for item_id in order:
        _decide(rina, item_id)
    html = sign_in(app, "lia").get("/lead").text
    recent = [int(i) for i in re.findall(r'<li data-item="(\d+)">', html.split('id="recent-decided"', 1)[1])]
    assert recent[:3] == order[::-1]  # the latest decision first
