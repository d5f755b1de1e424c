"""Public reports of a post batch scoring already queued, on SQLite and PostgreSQL: linked to that item
(no second item), tracked by its status, counted on it, and nothing recorded as anyone's decision."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn
from pantau.queue import complaints as desk
from pantau.queue.db import downgrade, upgrade
from pantau.queue.links import link_key
from pantau.queue.models import AuditEvent, Complaint, Decision, Item, aged_priority, priority_key

T0 = datetime(2026, 3, 1, 8, 0, 0)
POLICY = desk.ComplaintPolicy(per_client_per_hour=1000, total_per_hour=1000, aging_per_hour=0.0)
LINK = "https://twitter.com/akun/status/123?s=20&utm_source=wa"
SAME_LINK = "http://www.X.com/akun/status/123/#balasan"


def scored(post_id: str, risk: float, url: str | None) -> dict:
    probs = {k: risk if k == "hate_speech" else 0.1 for k in LABEL_KEYS}
    return {
        "id": post_id,
        "text": f"dasar kadrun {post_id}",
        "source": "twitter",
        "author": "@x",
        "url": url,
        "created_at": "2026-02-27T10:00:00+07:00",
        "probabilities": probs,
        "flags": {k: v >= 0.5 for k, v in probs.items()},
        "risk": risk,
        "spans": [],
        "model_name": "tiny",
        "model_version": None,
    }


def batch(engine: Engine, *rows: dict, version: str = "v1") -> dict[str, int]:
    queue.enqueue(engine, list(rows), model_version=version, risk_threshold=0.5, aging_per_hour=0.0, now=T0)
    with engine.connect() as conn:
        return dict(conn.execute(select(Item.post_id, Item.id)).tuples().all())


def file(engine: Engine, url: str | None = None, text: str | None = None, *labels: str, client: str = "c"):
    rep = desk.ComplaintIn(labels or ("hate_speech",), url=url, text=text)
    return desk.file_complaint(
        engine, rep, client=client, policy=POLICY, score=None, now=T0 + timedelta(hours=1)
    )


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_enqueue_keys_links_the_way_complaints_do(engine: Engine) -> None:
    ids = batch(engine, scored("p1", 0.9, LINK), scored("p2", 0.9, None), scored("p3", 0.9, "ftp://x/y"))
    with engine.connect() as conn:
        keys = dict(conn.execute(select(Item.id, Item.url_key)).tuples().all())
    assert keys[ids["p1"]] == link_key(SAME_LINK) and keys[ids["p1"]] is not None
    assert keys[ids["p2"]] is None and keys[ids["p3"]] is None  # no link / not an http(s) link
    batch(engine, scored("p1", 0.8, "https://example.org/baru"), version="v2")  # a rescore moves the key
    with engine.connect() as conn:
        assert conn.execute(select(Item.url_key).where(Item.id == ids["p1"])).scalar_one() == link_key(
            "https://example.org/baru"
        )


def test_a_report_of_a_batch_post_is_linked_not_queued_twice(engine: Engine) -> None:
    ids = batch(engine, scored("p1", 0.9, LINK), scored("p2", 0.9, "https://x.com/lain/status/9"))
    assert not desk.needs_score(engine, desk.ComplaintIn(("abusive",), url=SAME_LINK))  # batch scored it
    assert desk.needs_score(engine, desk.ComplaintIn(("abusive",), url="https://x.com/baru/status/1"))
    items_before = count(engine, Item)
    filed = file(engine, SAME_LINK, "teks yang ditempel pelapor", "hate_speech", "incitement")
    assert filed.item_id == ids["p1"] and not filed.merged and filed.reports == 1
    assert filed.scored  # batch scoring's model scored the post
    assert count(engine, Item) == items_before  # no source=complaint item
    with engine.connect() as conn:
        c = conn.execute(select(Complaint.__table__)).one()
        it = conn.execute(select(Item.__table__).where(Item.id == ids["p1"])).one()
        event = conn.execute(select(AuditEvent.__table__).where(AuditEvent.event == "complaint")).one()
    assert c.item_id == ids["p1"] and c.linked_at is not None and c.url_key == it.url_key
    assert it.source == "twitter" and it.text == "dasar kadrun p1" and it.risk == 0.9  # the post as scored
    assert event.item_id == ids["p1"] and event.actor_id is None and event.detail["linked"] is True
    assert count(engine, Decision) == 0  # filing is never anyone's decision
    assert desk.public_reports(engine, ids["p1"]) == desk.PublicReports(c.id, 1, True)
    assert desk.public_reports(engine, ids["p2"]) is None


def test_later_reports_merge_and_only_ever_raise_the_batch_rank(engine: Engine) -> None:
    ids = batch(engine, scored("p1", 0.9, LINK))
    file(engine, LINK)
    with engine.connect() as conn:
        key = conn.execute(select(Item.priority_key).where(Item.id == ids["p1"])).scalar_one()
    assert aged_priority(key, 0.0, T0) == pytest.approx(0.9)  # max(0.9, floor 0.5), one report
    second = file(engine, SAME_LINK, client="d")
    assert second.merged and second.reports == 2 and second.item_id == ids["p1"]
    with engine.begin() as conn:
        key = conn.execute(select(Item.priority_key).where(Item.id == ids["p1"])).scalar_one()
        assert aged_priority(key, 0.0, T0) == pytest.approx(0.95)  # + one report's boost
        # batch scoring ranked it higher (an account boost, say): a report must not lower that
        conn.execute(update(Item).where(Item.id == ids["p1"]).values(priority_key=priority_key(3.0, T0, 0.0)))
    file(engine, LINK, client="e")
    with engine.connect() as conn:
        key = conn.execute(select(Item.priority_key).where(Item.id == ids["p1"])).scalar_one()
    assert aged_priority(key, 0.0, T0) == pytest.approx(3.0)
    rows, total = desk.list_complaints(engine, item_id=ids["p1"], policy=POLICY, now=T0)
    assert total == 1 and rows[0].linked and rows[0].reports == 3 and rows[0].priority == pytest.approx(3.0)
    assert desk.list_complaints(engine, item_id=ids["p1"] + 1, policy=POLICY)[1] == 0


def test_the_tracking_code_follows_the_batch_item_and_its_reviewers(
    engine: Engine, people: dict[str, int]
) -> None:
    ids = batch(engine, scored("p1", 0.6, LINK))
    filed = file(engine, SAME_LINK)
    assert desk.status_by_code(engine, filed.code).state == "received"
    assert queue.claim(engine, people["rina"], 1) == [ids["p1"]]
    assert desk.status_by_code(engine, filed.code).state == "in_review"
    labels = {k: k == "hate_speech" for k in LABEL_KEYS}
    queue.decide(engine, people["rina"], ids["p1"], DecisionIn(labels=labels, action="warn", confirmed=True))
    status = desk.status_by_code(engine, filed.code)
    assert status.state == "decided" and status.outcome == "warn" and "rina" not in repr(status)
    with engine.connect() as conn:  # exactly the one decision rina made
        assert conn.execute(select(Decision.reviewer_id)).scalars().all() == [people["rina"]]


def test_a_report_of_a_post_already_decided_shows_that_decision(
    engine: Engine, people: dict[str, int]
) -> None:
    ids = batch(engine, scored("p1", 0.6, LINK))
    queue.claim(engine, people["rina"], 1)
    queue.decide(
        engine,
        people["rina"],
        ids["p1"],
        DecisionIn(labels=dict.fromkeys(LABEL_KEYS, False), action="no_violation"),
    )
    with engine.connect() as conn:
        before = conn.execute(select(Item.priority_key, Item.updated_at).where(Item.id == ids["p1"])).one()
    filed = file(engine, LINK)
    status = desk.status_by_code(engine, filed.code)
    assert status.state == "decided" and status.outcome == "no_violation"
    with engine.connect() as conn:  # a decided item is left as it is
        assert (
            conn.execute(select(Item.priority_key, Item.updated_at).where(Item.id == ids["p1"])).one()
            == before
        )
    assert count(engine, Decision) == 1


def test_complaint_items_are_not_link_targets_and_an_earlier_complaint_keeps_its_item(engine: Engine) -> None:
    first = file(engine, LINK)  # nothing scored yet: its own item
    assert desk.public_reports(engine, first.item_id).linked is False
    ids = batch(engine, scored("p1", 0.9, SAME_LINK))  # batch scoring queues the same post afterwards
    second = file(engine, SAME_LINK, client="d")
    assert second.merged and second.item_id == first.item_id != ids["p1"]
    assert desk.public_reports(engine, ids["p1"]) is None


def test_a_linked_item_whose_link_changed_keeps_one_complaint(engine: Engine) -> None:
    ids = batch(engine, scored("p1", 0.9, LINK))
    first = file(engine, LINK)
    batch(engine, scored("p1", 0.9, "https://example.org/pindah"), version="v2")  # rescored, new link
    moved = file(engine, "https://example.org/pindah", client="d")
    assert moved.merged and moved.complaint_id == first.complaint_id and moved.item_id == ids["p1"]
    assert count(engine, Complaint) == 1


def test_migration_0006_keys_items_queued_before_it(engine: Engine) -> None:
    ids = batch(engine, scored("p1", 0.9, LINK), scored("p2", 0.9, None))
    downgrade(engine, "0005")
    upgrade(engine)
    with engine.connect() as conn:
        keys = dict(conn.execute(select(Item.id, Item.url_key)).tuples().all())
    assert keys == {ids["p1"]: link_key(LINK), ids["p2"]: None}
    assert file(engine, SAME_LINK).item_id == ids["p1"]
