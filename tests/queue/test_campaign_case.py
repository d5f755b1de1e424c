"""Campaign case files (queue/campaign_case.py) and the desk report's top campaigns, on SQLite and
PostgreSQL: every queued post of the campaign with the same evidence an item's case file gives, the
decisions as people made them (a post decided ``no_violation`` stays so), and what is missing said."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from test_store import T0, row, yes

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, NotFound
from pantau.queue.campaign_case import campaign_case_file, posts_digest
from pantau.queue.campaigns_store import decide_campaign, record_campaigns
from pantau.queue.casefile import NotACase, case_file
from pantau.queue.models import Item
from pantau.queue.reports import TopCampaign, desk_report, period_of, report_csv

PUSHED = "ayo kepung kantor mereka besok pagi"


def _campaign(engine: Engine) -> tuple[int, dict[str, int]]:
    """Four posts of one campaign (c2 without account or time, c3 already decided no_violation by rina)
    and one post outside it."""
    rows = [
        row("c0", 0.7, text=PUSHED, author="@a", created_at="2026-03-01T01:00:00Z"),
        row("c1", 0.7, text=PUSHED, author="@b", created_at="2026-03-01T02:00:00Z"),
        row("c2", 0.7, text=PUSHED + " sekarang", author=None, created_at=None),
        row("c3", 0.7, text=PUSHED, author="@a", created_at="2026-03-01T03:00:00Z"),
        row("solo", 0.7, text="pos lain", author="@solo"),
    ]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Item.post_id, Item.id)).all())
    found = {
        "key": "run9-C000001",
        "post_ids": ["c0", "c1", "c2", "c3", "below-threshold"],
        "accounts": ["@a", "@b", "@c"],
        "posts_total": 6,
        "posts_without_account": 1,
        "posts_without_time": 1,
        "first_seen": T0 - timedelta(days=1),
        "last_seen": T0,
        "basis": "accounts",
    }
    return record_campaigns(engine, [found], now=T0)["run9-C000001"], ids


def _decide(engine: Engine, user: int, item: int, decision: DecisionIn) -> None:
    queue.claim_item(engine, user, item, now=T0)
    queue.decide(engine, user, item, decision, now=T0 + timedelta(minutes=5))


def test_campaign_case_file(engine: Engine, people: dict[str, int]) -> None:
    cid, ids = _campaign(engine)
    _decide(engine, people["rina"], ids["c3"], yes())  # no violation, by a person
    with pytest.raises(NotACase):  # nothing decided warn/takedown yet: no case
        campaign_case_file(engine, cid)
    with pytest.raises(NotFound):
        campaign_case_file(engine, 10**6)

    takedown = DecisionIn(
        labels={k: k == "incitement" for k in LABEL_KEYS},
        action="takedown",
        pasal_280=("280_1_d",),
        note="ajakan mengepung",
        confirmed=True,
    )
    done = decide_campaign(engine, people["lia"], cid, takedown)
    assert sorted(done.decided) == sorted(ids[p] for p in ("c0", "c1", "c2"))

    case = campaign_case_file(engine, cid)
    assert case["format"] == "pantau.campaign_case_file"
    c = case["campaign"]
    assert c["id"] == cid and c["key"] == "run9-C000001"
    assert c["shared_text"] == PUSHED and c["posts_found"] == 6 and c["posts_in_queue"] == 4
    assert case["accounts"] == {"campaign": ["@a", "@b", "@c"], "in_queue": ["@a", "@b"]}
    assert case["time_span"]["first_seen"] == "2026-02-28T08:00:00Z"
    assert case["time_span"]["first_queued_post"] == "2026-03-01T01:00:00Z"
    assert case["time_span"]["last_queued_post"] == "2026-03-01T03:00:00Z"
    assert case["counts"] == {"no_violation": 1, "takedown": 3}
    assert sorted(case["violations"]) == sorted(done.decided)

    posts = {p["post"]["post_id"]: p for p in case["posts"]}
    assert set(posts) == {"c0", "c1", "c2", "c3"}  # the post outside the campaign is not in it
    for post_id, p in posts.items():
        assert p["post"]["sha256"] == hashlib.sha256(p["post"]["text"].encode()).hexdigest(), post_id
    assert case["posts_sha256"] == posts_digest([(p["post"]["post_id"], p["post"]["sha256"]) for p in case["posts"]])

    # each post reads as its own case file does (the same code builds both)
    alone = case_file(engine, ids["c0"])
    for part in ("post", "times", "model", "decisions", "trail", "missing", "final_action"):
        assert posts["c0"][part] == alone[part], part
    [d] = posts["c0"]["decisions"]
    assert d["reviewer"] == "lia" and d["kind"] == "campaign" and d["action"] == "takedown"
    assert d["labels"] == ["incitement"] and [x["key"] for x in d["pasal_280"]] == ["280_1_d"]
    campaign_events = [e for e in posts["c0"]["trail"] if e["event"] == "campaign"]
    assert campaign_events and campaign_events[0]["actor"] == "lia"
    assert campaign_events[0]["detail"]["campaign"] == "run9-C000001"
    # rina's no-violation stays hers: the campaign action did not touch it or relabel it
    [kept] = posts["c3"]["decisions"]
    assert kept["reviewer"] == "rina" and kept["action"] == "no_violation" and kept["labels"] == []
    assert posts["c3"]["final_action"] == "no_violation"
    assert ids["c3"] not in case["violations"]

    # what the evidence lacks is said, at the campaign and at the post
    assert {"author", "posted_at"} <= set(posts["c2"]["missing"])
    said = " ".join(case["missing"])
    assert "1 post(s) without an account" in said and "1 post(s) without a posting time" in said
    assert "queued post(s) without an account" in said and "queued post(s) without a posting time" in said


def test_campaign_case_file_of_a_campaign_without_accounts_or_times(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(
        engine,
        [row(f"n{i}", 0.7, text=PUSHED, author=None, created_at=None) for i in range(2)],
        model_version="v1",
        risk_threshold=0.5,
        now=T0,
    )
    bare = {"key": "run9-C000002", "post_ids": ["n0", "n1"], "accounts": [], "posts_total": 2,
            "posts_without_account": 2, "posts_without_time": 2, "first_seen": None, "last_seen": None,
            "basis": "posts"}
    cid = record_campaigns(engine, [bare], now=T0)["run9-C000002"]
    decide_campaign(engine, people["lia"], cid, yes(abusive=True))
    case = campaign_case_file(engine, cid)
    said = " ".join(case["missing"])
    assert "accounts are unknown" in said and "time span is unknown" in said
    assert case["accounts"] == {"campaign": [], "in_queue": []}
    assert case["time_span"] == {"first_seen": None, "last_seen": None, "first_queued_post": None,
                                 "last_queued_post": None}
    assert case["counts"] == {"warn": 2}


def test_desk_report_lists_top_campaigns(engine: Engine, people: dict[str, int]) -> None:
    cid, ids = _campaign(engine)
    _decide(engine, people["rina"], ids["c3"], yes())
    decide_campaign(engine, people["lia"], cid, yes(incitement=True))
    report = desk_report(engine, period_of("day", T0.date()))
    assert report.top_campaigns == [TopCampaign(cid, "run9-C000001", 4, 2, 1, 4, 3)]
    assert report.to_dict()["top_campaigns"][0]["violations"] == 3
    table = list(csv.reader(io.StringIO(report_csv(report))))
    assert ["top_campaigns_key", str(cid), "run9-C000001"] in table
    assert ["top_campaigns_posts", str(cid), "4"] in table
    assert ["top_campaigns_decided", str(cid), "4"] in table
    assert desk_report(engine, period_of("day", (T0 + timedelta(days=2)).date())).top_campaigns == []
