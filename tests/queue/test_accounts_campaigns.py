"""Accounts and campaigns in the store (issue 18 §1–2), on SQLite and PostgreSQL: the account page's data,
the ranking by confirmed violations in a period, the account boost at enqueue, campaigns recorded and
linked (idempotently, merges followed), and a lead deciding a whole campaign in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from test_store import T0, row, yes

from pantau import queue
from pantau.queue.accounts import account_view, top_accounts
from pantau.queue.campaigns_store import campaign_of_item, decide_campaign, get_campaign, record_campaigns
from pantau.queue.errors import Invalid
from pantau.queue.models import AuditEvent, Decision, Item


def ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Item.post_id, Item.id)).all())


def decide_as(engine: Engine, user: int, item_id: int, decision) -> None:
    queue.claim_item(engine, user, item_id, lease_minutes=15)
    queue.decide(engine, user, item_id, decision)


def test_account_page_ranking_and_boost(engine: Engine, people: dict[str, int]) -> None:
    rows = [row(f"a{i}", 0.6, author="@buzzer") for i in range(3)] + [row("b0", 0.6, author="@warga")]
    rows.append(row("n0", 0.6, author=None, created_at=None))
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    item = ids(engine)
    decide_as(engine, people["rina"], item["a0"], yes(hate_speech=True))
    decide_as(engine, people["rina"], item["a1"], yes(abusive=True, hate_speech=True))
    decide_as(engine, people["rina"], item["b0"], yes())  # no violation
    decide_as(engine, people["rina"], item["n0"], yes(abusive=True))

    view = account_view(engine, "@buzzer")
    assert [p.post_id for p in view.posts] and {p.post_id for p in view.posts} == {"a0", "a1", "a2"}
    assert view.confirmed == 2 and view.labels_confirmed["hate_speech"] == 2 and view.labels_confirmed["abusive"] == 1
    assert view.first_seen is not None and view.missing == ()
    assert view.per_month and sum(m[3] for m in view.per_month) == 2

    ranking, unknown = top_accounts(engine)
    assert [(r.account, r.confirmed) for r in ranking] == [("@buzzer", 2)]
    assert unknown == 1  # the post without an account is counted, not dropped
    later, _ = top_accounts(engine, since=T0 + timedelta(days=3650))
    assert later == []

    # a new post of @buzzer ranks above an equally risky one of a clean account
    queue.enqueue(
        engine, [row("a9", 0.6, author="@buzzer"), row("c9", 0.6, author="@baru")],
        model_version="v1", risk_threshold=0.5, now=T0, account_boost=0.05, account_boost_max=0.08,
    )
    with engine.connect() as conn:
        keys = dict(conn.execute(select(Item.post_id, Item.priority_key).where(Item.post_id.in_(["a9", "c9"]))).all())
        risks = dict(conn.execute(select(Item.post_id, Item.risk).where(Item.post_id.in_(["a9", "c9"]))).all())
        event = conn.execute(select(AuditEvent.detail).where(AuditEvent.event == "enqueue").order_by(AuditEvent.id.desc())).scalar()
    assert keys["a9"] - keys["c9"] == pytest.approx(0.08)  # 2 × 0.05, capped at 0.08
    assert risks["a9"] == pytest.approx(0.6)  # the shown risk stays the model's
    assert event["account_boosted"] == 1


def test_times_missing_are_said(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("t0", 0.6, author="@anon", created_at=None)], model_version="v1", risk_threshold=0.5, now=T0)
    view = account_view(engine, "@anon")
    assert "posting times unknown" in view.missing[0] and view.first_seen == T0


def campaign(key: str, post_ids: list[str]) -> dict:
    return {"key": key, "post_ids": post_ids, "accounts": ["@a", "@b", "@c"], "posts_total": len(post_ids),
            "posts_without_account": 0, "posts_without_time": 0, "first_seen": T0, "last_seen": T0, "basis": "accounts"}


def test_campaigns_recorded_linked_merged_and_decided_in_one_action(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row(f"c{i}", 0.6, author=f"@{i}") for i in range(5)], model_version="v1",
                  risk_threshold=0.5, now=T0)
    item = ids(engine)
    first = record_campaigns(engine, [campaign("run1-C000001", ["c0", "c1", "zz"]), campaign("run1-C000002", ["c2"])])
    again = record_campaigns(engine, [campaign("run1-C000001", ["c0", "c1", "c3"])],
                             {"run1-C000002": "run1-C000001"})
    assert first["run1-C000001"] == again["run1-C000001"]
    cid = first["run1-C000001"]
    assert campaign_of_item(engine, item["c2"]) == (cid, "run1-C000001")  # followed the merge
    decide_as(engine, people["rina"], item["c3"], yes())  # decided before the campaign action: kept
    with pytest.raises(Invalid):  # a whole campaign needs a confirmation
        decide_campaign(engine, people["lia"], cid, yes(incitement=True).model_copy(update={"confirmed": False}))
    with pytest.raises(queue.Forbidden):
        decide_campaign(engine, people["rina"], cid, yes(incitement=True))
    done = decide_campaign(engine, people["lia"], cid, yes(incitement=True))
    assert sorted(done.decided) == sorted(item[p] for p in ("c0", "c1", "c2"))
    assert done.left == ((item["c3"], "already decided"),)
    view = get_campaign(engine, cid)
    by_post = {i.post_id: i for i in view.items}
    assert by_post["c0"].decided_by == "lia" and by_post["c0"].action == "warn" and by_post["c0"].decision_kind == "campaign"
    assert by_post["c3"].decided_by == "rina" and by_post["c3"].action == "no_violation"
    with engine.connect() as conn:
        events = conn.execute(select(AuditEvent.item_id, AuditEvent.actor_id, AuditEvent.detail).where(AuditEvent.event == "campaign")).all()
        kinds = conn.execute(select(Decision.kind).where(Decision.item_id == item["c1"])).scalars().all()
    assert sorted(e.item_id for e in events) == sorted(done.decided)
    assert all(e.actor_id == people["lia"] and e.detail["campaign"] == "run1-C000001" for e in events)
    assert kinds == ["campaign"]
