"""The public complaint desk's store on SQLite and PostgreSQL: filing, merging, priority, tracking codes,
rate limits, size limits, contacts for leads and their erasure."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, Invalid, NotFound
from pantau.queue import complaints as desk
from pantau.queue.models import (
    AuditEvent,
    Complaint,
    ComplaintReport,
    ComplaintThrottleRow,
    Item,
    Prediction,
    aged_priority,
)

T0 = datetime(2026, 3, 1, 8, 0, 0)
POLICY = desk.ComplaintPolicy(per_client_per_hour=3, total_per_hour=5, aging_per_hour=0.0)
LENIENT = desk.ComplaintPolicy(per_client_per_hour=1000, total_per_hour=1000, aging_per_hour=0.0)


def report(*labels: str, **fields: str | None) -> desk.ComplaintIn:
    return desk.ComplaintIn(labels or ("abusive",), **fields)


def score(risk: float) -> desk.ComplaintScore:
    return desk.ComplaintScore(
        probabilities=dict.fromkeys(LABEL_KEYS, risk),
        flags=dict.fromkeys(LABEL_KEYS, risk >= 0.5),
        thresholds=dict.fromkeys(LABEL_KEYS, 0.5),
        risk=risk,
        spans=[{"start": 6, "end": 12, "term": "kadrun", "category": "divisive"}],
        model_name="tiny",
        model_version="v-tiny",
    )


def file(engine: Engine, rep: desk.ComplaintIn, *, client: str = "10.0.0.1", policy=LENIENT, s=None, now=T0):
    return desk.file_complaint(engine, rep, client=client, policy=policy, score=s, now=now)


def item_of(engine: Engine, item_id: int) -> Item:
    with engine.connect() as conn:
        return conn.execute(select(Item.__table__).where(Item.id == item_id)).one()


def test_an_unscored_report_becomes_a_complaint_item_and_says_so(engine: Engine) -> None:
    filed = file(engine, report("hate_speech", "incitement", text="usir mereka semua", contact="wa 0812"))
    assert not filed.merged and filed.reports == 1 and not filed.scored
    assert len(filed.code) == desk.CODE_CHARS
    it = item_of(engine, filed.item_id)
    assert it.source == "complaint" and it.status == "pending" and it.text == "usir mereka semua"
    assert it.model_version == desk.UNSCORED and "not scored" in it.model_name
    assert it.risk == 0.0 and it.probabilities == dict.fromkeys(LABEL_KEYS, 0.0)
    # priority: max(risk 0, floor 0.5) with no extra reports
    assert aged_priority(it.priority_key, 0.0, T0) == pytest.approx(0.5)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Prediction)).scalar_one() == 0  # no score kept
        stored = conn.execute(select(ComplaintReport.code_hash, ComplaintReport.contact)).one()
        event = conn.execute(select(AuditEvent.__table__).where(AuditEvent.event == "complaint")).one()
    assert stored.code_hash != filed.code and filed.code not in stored.code_hash  # only the hash is kept
    assert stored.contact == "wa 0812"
    assert (
        event.item_id == filed.item_id
        and "contact" not in event.detail
        and event.detail["labels"]
        == [
            "hate_speech",
            "incitement",
        ]
    )
    status = desk.status_by_code(engine, filed.code)
    assert status.state == "received" and status.outcome is None and not status.scored
    assert status.labels == ("hate_speech", "incitement") and status.reports == 1


def test_a_scored_report_keeps_the_model_risk_and_ranks_by_the_rule(engine: Engine) -> None:
    low = file(engine, report(text="dasar kadrun 1"), s=score(0.2))
    high = file(engine, report(text="dasar kadrun 2"), s=score(0.9))
    lo, hi = item_of(engine, low.item_id), item_of(engine, high.item_id)
    assert lo.risk == pytest.approx(0.2) and hi.risk == pytest.approx(0.9)  # the model's own figure
    assert aged_priority(lo.priority_key, 0, T0) == pytest.approx(0.5)  # the floor
    assert aged_priority(hi.priority_key, 0, T0) == pytest.approx(0.9)
    assert hi.required_reviews == 2 and lo.required_reviews == 1  # the queue's double-review rule
    assert hi.model_version == "v-tiny" and hi.spans[0]["term"] == "kadrun"
    with engine.connect() as conn:
        versions = conn.execute(select(Prediction.post_id, Prediction.model_version)).all()
    assert {v for _, v in versions} == {"v-tiny"} and len(versions) == 2
    assert desk.status_by_code(engine, high.code).scored


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://twitter.com/akun/status/123", "http://www.x.com/akun/status/123/?s=20&utm_source=wa#top"),
        ("https://m.facebook.com/p/1?ref=share", "https://facebook.com/p/1"),
    ],
)
def test_reports_of_one_link_merge_with_a_count(engine: Engine, first: str, second: str) -> None:
    a = file(engine, report("abusive", url=first))
    b = file(engine, report("abusive", "hate_speech", url=second), client="10.0.0.2")
    assert b.merged and b.complaint_id == a.complaint_id and b.item_id == a.item_id and b.reports == 2
    assert a.code != b.code  # each reporter follows their own report
    with engine.connect() as conn:
        c = conn.execute(select(Complaint.__table__)).one()
        assert conn.execute(select(func.count()).select_from(Item)).scalar_one() == 1
    assert c.reports == 2 and c.label_counts == {"abusive": 2, "hate_speech": 1}
    assert desk.status_by_code(engine, a.code).reports == 2
    assert desk.status_by_code(engine, a.code).labels == ("abusive",)  # their own labels, not the others'


def test_reports_of_one_text_merge_and_raise_priority_up_to_the_cap(engine: Engine) -> None:
    policy = desk.ComplaintPolicy(per_client_per_hour=100, total_per_hour=100, aging_per_hour=0.0)
    first = file(engine, report(text="Dasar  KADRUN\n semua"), s=score(0.6), policy=policy)
    for n, spelling in enumerate(
        ["dasar kadrun semua", "DASAR kadrun   SEMUA", "ｄａｓａｒ kadrun semua"] * 3
    ):
        filed = file(engine, report(text=spelling), policy=policy, client=f"c{n}")
        assert filed.merged and filed.item_id == first.item_id
    it = item_of(engine, first.item_id)
    assert it.risk == pytest.approx(0.6)  # merging never rescoring
    # 10 reports: 0.6 + min(0.25, 0.05 × 9)
    assert aged_priority(it.priority_key, 0, T0) == pytest.approx(0.85)
    # a link given later attaches to the same complaint, and then matches by itself
    linked = file(
        engine, report(text="dasar kadrun semua", url="https://x.com/a/1"), policy=policy, client="z"
    )
    by_link = file(engine, report(url="https://twitter.com/a/1"), policy=policy, client="y")
    assert linked.item_id == by_link.item_id == first.item_id


def test_merging_leaves_a_claimed_item_as_it_is(engine: Engine, people: dict[str, int]) -> None:
    a = file(engine, report(text="kampret semua"), s=score(0.7))
    before = item_of(engine, a.item_id).priority_key
    assert queue.claim(engine, people["rina"], 1) == [a.item_id]
    file(engine, report(text="kampret semua"), client="x")
    assert (
        item_of(engine, a.item_id).priority_key == before and item_of(engine, a.item_id).status == "claimed"
    )


def test_status_follows_the_item_and_shows_the_outcome_never_the_reviewer(
    engine: Engine, people: dict[str, int]
) -> None:
    a = file(engine, report("incitement", text="serang kantor mereka"), s=score(0.7))
    assert desk.status_by_code(engine, a.code).state == "received"
    assert queue.claim(engine, people["rina"], 1) == [a.item_id]
    assert desk.status_by_code(engine, a.code).state == "in_review"
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    queue.decide(
        engine, people["rina"], a.item_id, DecisionIn(labels=labels, action="takedown", confirmed=True)
    )
    status = desk.status_by_code(engine, a.code)
    assert status.state == "decided" and status.outcome == "takedown" and status.decided_at is not None
    # what a reporter may see, and nothing else: no reviewer, no labels decided, no scores
    assert set(vars(status)) == {
        "state",
        "outcome",
        "reported_at",
        "decided_at",
        "labels",
        "reports",
        "scored",
    }
    assert "rina" not in repr(status)


def test_a_double_review_item_halfway_is_in_review(engine: Engine, people: dict[str, int]) -> None:
    a = file(engine, report(text="kadrun kadrun"), s=score(0.95))
    queue.claim(engine, people["rina"], 1)
    queue.decide(
        engine,
        people["rina"],
        a.item_id,
        DecisionIn(labels=dict.fromkeys(LABEL_KEYS, False), action="no_violation"),
    )
    assert item_of(engine, a.item_id).status == "pending"
    assert desk.status_by_code(engine, a.code).state == "in_review"


@pytest.mark.parametrize(
    "code",
    ["", "short", "x" * 22, "a" * 21 + "!", "a" * 23, "é" * 22, "' OR 1=1 --", "aaaaaaaaaaaaaaaaaaaaa\x00"],
)
def test_unknown_or_malformed_codes_name_nothing(engine: Engine, code: str) -> None:
    file(engine, report(text="sesuatu"))
    with pytest.raises(NotFound):
        desk.status_by_code(engine, code)


def test_rate_limits_per_client_and_for_everyone_in_the_database(engine: Engine) -> None:
    for i in range(3):
        file(engine, report(text=f"post {i}"), policy=POLICY, now=T0 + timedelta(minutes=i))
    with pytest.raises(desk.RateLimited) as refused:
        file(engine, report(text="post 3"), policy=POLICY, now=T0 + timedelta(minutes=10))
    assert 0 < refused.value.retry_after <= 3000  # until the window that began at T0 ends
    # another client may still report, until everyone together reaches total_per_hour (5)
    file(engine, report(text="post 4"), policy=POLICY, client="10.0.0.9", now=T0 + timedelta(minutes=11))
    file(engine, report(text="post 5"), policy=POLICY, client="10.0.0.8", now=T0 + timedelta(minutes=12))
    with pytest.raises(desk.RateLimited):
        file(engine, report(text="post 6"), policy=POLICY, client="10.0.0.7", now=T0 + timedelta(minutes=13))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 5
        rows = {r.client: r.count for r in conn.execute(select(ComplaintThrottleRow.__table__))}
    assert rows[desk.EVERYONE] == 5  # refused reports are not counted
    assert "10.0.0.1" not in rows and rows[desk.hash_client("10.0.0.1")] == 3  # the address is not stored
    # a new hour, a new window
    file(engine, report(text="post 7"), policy=POLICY, now=T0 + timedelta(minutes=61))


@pytest.mark.parametrize(
    ("rep", "why"),
    [
        (desk.ComplaintIn(("abusive",)), "link"),
        (desk.ComplaintIn(("abusive",), url="  ", text="\n"), "link"),
        (desk.ComplaintIn(("abusive",), url="javascript:alert(1)"), "http"),
        (desk.ComplaintIn(("abusive",), url="https://" + "a" * 2000 + ".id"), "2000"),
        (desk.ComplaintIn(("abusive",), text="x" * 5001), "5000"),
        (desk.ComplaintIn(("abusive",), text="x", details="y" * 1001), "1000"),
        (desk.ComplaintIn(("abusive",), text="x", contact="z" * 201), "200"),
        (desk.ComplaintIn((), text="x"), "at least one"),
        (desk.ComplaintIn(("abusive", "<b>other</b>"), text="x"), "at least one"),
        (desk.ComplaintIn(("abusive",), text="x", contact="a\x1b[31m"), "control"),
    ],
)
def test_reports_that_break_the_rules_are_refused_with_nothing_stored(
    engine: Engine, rep: desk.ComplaintIn, why: str
) -> None:
    with pytest.raises(Invalid, match=why):
        file(engine, rep)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Complaint)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(ComplaintThrottleRow)).scalar_one() == 0


def test_contacts_for_leads_only_and_erased_after_retention(engine: Engine) -> None:
    old = file(engine, report(text="lama", contact="old@example.org"), now=T0)
    new = file(engine, report(text="baru", contact="new@example.org"), now=T0 + timedelta(days=80))
    rows, total = desk.list_complaints(engine, now=T0 + timedelta(days=80))
    assert total == 2 and all(r.contact is None for c in rows for r in c.report_list)
    rows, _ = desk.list_complaints(engine, contacts=True, now=T0 + timedelta(days=80))
    assert {r.contact for c in rows for r in c.report_list} == {"old@example.org", "new@example.org"}
    assert rows[0].item_id == new.item_id  # the most recently reported first
    erased = desk.purge_contacts(engine, 90, now=T0 + timedelta(days=91))
    assert erased == 1
    rows, _ = desk.list_complaints(engine, contacts=True)
    by_item = {c.item_id: c.report_list[0] for c in rows}
    assert by_item[old.item_id].contact is None and by_item[old.item_id].contact_purged
    assert by_item[new.item_id].contact == "new@example.org"
    assert desk.purge_contacts(engine, 90, now=T0 + timedelta(days=91)) == 0  # nothing left to erase
    with engine.connect() as conn:
        events = (
            conn.execute(select(AuditEvent.detail).where(AuditEvent.event == "complaint_purge"))
            .scalars()
            .all()
        )
        assert conn.execute(select(func.count()).select_from(ComplaintThrottleRow)).scalar_one() == 0
    assert events == [{"contacts": 1, "days": 90}]
    assert desk.status_by_code(engine, old.code).state == "received"  # the report itself stays


def test_filing_purges_expired_contacts_too(engine: Engine) -> None:
    file(engine, report(text="lama", contact="old@example.org"), now=T0)
    file(engine, report(text="baru"), now=T0 + timedelta(days=LENIENT.retention_days + 1))
    with engine.connect() as conn:
        assert (
            conn.execute(select(ComplaintReport.contact).where(ComplaintReport.contact.is_not(None))).all()
            == []
        )


def test_concurrent_first_reports_of_one_post_make_one_complaint(engine: Engine) -> None:
    errors: list[BaseException] = []
    codes: list[str] = []

    def worker(i: int) -> None:
        try:
            codes.append(file(engine, report(url="https://x.com/a/status/9"), client=f"c{i}", now=None).code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with engine.connect() as conn:
        assert conn.execute(select(Complaint.reports)).scalars().all() == [6]
        assert conn.execute(select(func.count()).select_from(Item)).scalar_one() == 1
    assert len(set(codes)) == 6


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://WWW.Twitter.com/Akun/status/1?s=20", "https://x.com/Akun/status/1"),
        ("http://mobile.twitter.com/a/status/1/", "https://x.com/a/status/1"),
        ("https://www.tiktok.com/@a/video/9?is_from_webapp=1&sender_device=pc", None),
        ("https://example.org:8443/p?b=2&a=1&utm_medium=x#frag", "https://example.org:8443/p?a=1&b=2"),
        ("ftp://example.org/x", None),
        ("https://", None),
        ("https://[::1", None),
    ],
)
def test_normalise_url(url: str, normal: str | None) -> None:
    got = desk.normalise_url(url)
    if normal is None and url.startswith("https://www.tiktok"):
        assert got == "https://tiktok.com/@a/video/9?is_from_webapp=1&sender_device=pc"
    else:
        assert got == normal
