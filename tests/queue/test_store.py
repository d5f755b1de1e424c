"""The queue store on SQLite and PostgreSQL: enqueue, claim, decide, double review, audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, Forbidden, ItemFilter, QueueError
from pantau.queue.db import current_revision, downgrade, upgrade
from pantau.queue.models import AuditEvent, Decision, Item, Prediction
from pantau.queue.synthetic import synthetic_rows

T0 = datetime(2026, 3, 1, 8, 0, 0)


def row(post_id: str, risk: float, **extra):
    probs = {k: risk if k == "hate_speech" else 0.1 for k in LABEL_KEYS}
    base = {
        "id": post_id,
        "text": f"dasar kadrun {post_id}",
        "source": "twitter",
        "author": "@x",
        "url": None,
        "created_at": "2026-02-27T10:00:00+07:00",
        "probabilities": probs,
        "flags": {k: v >= 0.5 for k, v in probs.items()},
        "risk": risk,
        "spans": [{"start": 6, "end": 12, "term": "kadrun", "category": "divisive"}],
        "model_name": "tiny",
        "model_version": None,
    }
    base.update(extra)
    return base


def yes(**labels: bool) -> DecisionIn:
    """A warning with these labels, or "no violation" when none is ticked (an action must agree with
    its labels); confirmed, so a lead may use it as an override."""
    chosen = {k: labels.get(k, False) for k in LABEL_KEYS}
    return DecisionIn(labels=chosen, action="warn" if any(chosen.values()) else "no_violation", confirmed=True)


def test_migrations_match_models_and_round_trip(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pantau.queue.models import Base

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert current_revision(engine) == "0006"  # 0006: complaints linked to batch-scored posts
    downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    downgrade(engine)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == "0006"


def test_enqueue_threshold_idempotence_and_rejects(engine: Engine) -> None:
    rows = [
        row("a", 0.9),
        row("b", 0.3),
        row("c", 0.6),
        {"id": "bad", "text": "x"},
        row("", 0.7),
        row("d", 0.7, spans=[{"start": 0, "end": 999}]),
        row("e", 0.8, created_at="kemarin"),
    ]
    result = queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    assert (result.inserted, result.updated, result.skipped) == (2, 0, 1)
    reasons = dict(result.rejected)
    assert set(reasons) == {"bad", "#5", "d", "e"}
    assert (
        "probabilities" in reasons["bad"]
        and "outside the text" in reasons["d"]
        and "created_at" in reasons["e"]
    )
    again = queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    assert (again.inserted, again.updated, again.skipped) == (0, 0, 3)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Item)).scalar_one() == 2
        created = conn.execute(select(Item.created_at).where(Item.post_id == "a")).scalar_one()
    assert created == datetime(2026, 2, 27, 3, 0)  # stored in UTC
    item = queue.list_items(engine)[0][0]
    assert item.post_id == "a" and item.required_reviews == 2  # 0.9 ≥ double_review_risk 0.85
    assert queue.list_items(engine)[0][1].required_reviews == 1


def test_row_model_version_must_match(engine: Engine) -> None:
    result = queue.enqueue(
        engine, [row("a", 0.9, model_version="v0")], model_version="v1", risk_threshold=0.5
    )
    assert result.inserted == 0 and "differs" in result.rejected[0][1]


def test_newer_model_updates_pending_only_and_never_decisions(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(
        engine, [row("a", 0.6), row("b", 0.7), row("c", 0.8)], model_version="v1", risk_threshold=0.5
    )
    ids = {i.post_id: i.id for i in queue.list_items(engine, limit=10)[0]}
    queue.claim_item(engine, people["rina"], ids["b"])
    queue.claim_item(engine, people["rina"], ids["c"])
    queue.decide(engine, people["rina"], ids["c"], yes(hate_speech=True))
    result = queue.enqueue(
        engine,
        [row("a", 0.95), row("b", 0.95), row("c", 0.95), row("n", 0.55)],
        model_version="v2",
        risk_threshold=0.5,
    )
    assert (result.inserted, result.updated, result.skipped) == (1, 1, 2)
    a, b, c = (queue.get_item(engine, ids[k]) for k in "abc")
    assert (a.model_version, a.risk, a.required_reviews) == ("v2", 0.95, 2)
    assert (b.model_version, b.status) == ("v1", "claimed")
    assert (c.model_version, c.status, c.risk) == ("v1", "decided", 0.8)
    assert [d.labels["hate_speech"] for d in queue.item_decisions(engine, ids["c"])] == [True]
    with engine.connect() as conn:  # every score is kept for drift, even when the item was not touched
        assert conn.execute(select(func.count()).select_from(Prediction)).scalar_one() == 7
    [rescore] = [e for e in queue.audit_log(engine, item_id=ids["a"]) if e["event"] == "rescore"]
    assert rescore["detail"] == {"from": "v1", "to": "v2", "risk_before": 0.6, "risk": 0.95}
    # Replaying the old version changes nothing.
    replay = queue.enqueue(engine, [row("a", 0.6)], model_version="v1", risk_threshold=0.5)
    assert (replay.inserted, replay.updated, replay.skipped) == (0, 0, 1)
    assert queue.get_item(engine, ids["a"]).model_version == "v2"


def test_claim_by_priority_with_aging(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("old", 0.6)], model_version="v1", risk_threshold=0.5, now=T0)
    later = T0 + timedelta(hours=100)
    queue.enqueue(
        engine, [row("new", 0.8), row("mid", 0.7)], model_version="v1", risk_threshold=0.5, now=later
    )
    got = queue.claim(engine, people["rina"], 3, now=later)
    order = [queue.get_item(engine, i).post_id for i in got]
    assert order == ["old", "new", "mid"]  # 0.6 + 100 h × 0.01 beats 0.8


def test_claim_filters(engine: Engine, people: dict[str, int]) -> None:
    rows = [row("tw", 0.6), row("fb", 0.9, source="facebook"), row("ab", 0.7)]
    rows[2]["flags"] = {**rows[2]["flags"], "abusive": True}
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5)
    by_source = queue.claim(engine, people["rina"], 5, filters=ItemFilter(source="facebook"))
    assert [queue.get_item(engine, i).post_id for i in by_source] == ["fb"]
    by_label = queue.claim(engine, people["rina"], 5, filters=ItemFilter(label="abusive"))
    assert [queue.get_item(engine, i).post_id for i in by_label] == ["ab"]
    assert queue.claim(engine, people["budi"], 5, filters=ItemFilter(min_risk=0.65)) == []
    with pytest.raises(ValueError, match="unknown label"):
        ItemFilter(label="spam")


def test_expired_claim_returns_to_pending(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("a", 0.6)], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["rina"], 1, lease_minutes=15, now=T0)
    assert queue.claim(engine, people["budi"], 1, now=T0 + timedelta(minutes=10)) == []
    assert queue.claim(engine, people["budi"], 1, now=T0 + timedelta(minutes=16)) == [item]
    with pytest.raises(QueueError, match="not claimed by you"):
        queue.decide(engine, people["rina"], item, yes())
    events = [e["event"] for e in queue.audit_log(engine, item_id=item)]
    assert events == ["claim", "expire", "claim"]


def test_single_review_decides_and_release(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("a", 0.6), row("b", 0.55)], model_version="v1", risk_threshold=0.5)
    a, b = queue.claim(engine, people["rina"], 2)
    queue.release(engine, people["rina"], b)
    assert queue.get_item(engine, b).status == "pending"
    decision = DecisionIn(
        labels={"hate_speech": True, "abusive": True, "divisive_label": True, "incitement": False},
        action="takedown",
        pasal_280=["280_1_c"],
        hs_target="group",
        hs_category="other",
        hs_strength="moderate",
        note="  memakai label kadrun untuk merendahkan  ",
    )
    result = queue.decide(engine, people["rina"], a, decision)
    assert result.status == "decided"
    item = queue.get_item(engine, a)
    assert item.final_decision_id == result.decision_id and item.decided_at is not None
    [d] = queue.item_decisions(engine, a)
    assert (
        d.reviewer == "rina"
        and d.hs_category == "other"
        and d.note == "memakai label kadrun untuk merendahkan"
    )
    with pytest.raises(QueueError):
        queue.decide(engine, people["rina"], a, yes())  # already decided


def test_double_review_agreement_and_disagreement(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("agree", 0.95), row("differ", 0.9)], model_version="v1", risk_threshold=0.5)
    ids = {i.post_id: i.id for i in queue.list_items(engine)[0]}
    for post in ("agree", "differ"):
        queue.claim_item(engine, people["rina"], ids[post])
        assert queue.decide(engine, people["rina"], ids[post], yes(hate_speech=True)).status == "pending"
    # The first reviewer never gets the item again; independence.
    assert queue.claim(engine, people["rina"], 5) == []
    with pytest.raises(QueueError, match="second, independent"):
        queue.claim_item(engine, people["rina"], ids["agree"])
    assert sorted(queue.claim(engine, people["budi"], 5)) == sorted(ids.values())
    assert queue.decide(engine, people["budi"], ids["agree"], yes(hate_speech=True)).status == "decided"
    result = queue.decide(engine, people["budi"], ids["differ"], yes(abusive=True))
    assert (result.status, result.escalation_reason) == ("escalated", "disagreement")
    # Only a lead resolves.
    with pytest.raises(Forbidden):
        queue.resolve(engine, people["rina"], ids["differ"], yes(abusive=True))
    resolved = queue.resolve(engine, people["lia"], ids["differ"], yes(abusive=True, hate_speech=True))
    assert resolved.status == "decided"
    assert queue.get_item(engine, ids["differ"]).final_decision_id == resolved.decision_id
    kinds = [d.kind for d in queue.item_decisions(engine, ids["differ"])]
    assert kinds == ["review", "review", "resolve"]


def test_escalate_action_and_lead_override(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("a", 0.6), row("b", 0.6)], model_version="v1", risk_threshold=0.5)
    a, b = queue.claim(engine, people["rina"], 2)
    esc = queue.decide(engine, people["rina"], a, DecisionIn(labels=yes().labels, action="escalate"))
    assert (esc.status, esc.escalation_reason) == ("escalated", "reviewer")
    first = queue.decide(engine, people["rina"], b, yes())
    with pytest.raises(QueueError, match="override needs decided"):
        queue.override(engine, people["lia"], a, yes())
    with pytest.raises(ValueError, match="final"):
        queue.override(engine, people["lia"], b, DecisionIn(labels=yes().labels, action="escalate"))
    over = queue.override(engine, people["adi"], b, yes(incitement=True))
    item = queue.get_item(engine, b)
    assert item.final_decision_id == over.decision_id != first.decision_id
    events = [e["event"] for e in queue.audit_log(engine, item_id=b)]
    assert events == ["override", "decide", "claim"]  # newest first


def test_decisions_and_audit_are_append_only(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("a", 0.6)], model_version="v1", risk_threshold=0.5)
    [a] = queue.claim(engine, people["rina"], 1)
    queue.decide(engine, people["rina"], a, yes())
    for statement in (update(Decision).values(abusive=True), update(AuditEvent).values(event="x")):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM decisions"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": {"hate_speech": True}}, "labels missing"),
        ({"labels": {**dict.fromkeys(LABEL_KEYS, False), "spam": True}}, "unknown label"),
        ({"labels": dict.fromkeys(LABEL_KEYS, "yes")}, "true or false"),
        ({"action": "ban"}, "action must be"),
        ({"pasal_280": ["280_9_z"]}, "Pasal 280"),
        ({"hs_category": "religion"}, "only applies"),
        (
            {"labels": {**dict.fromkeys(LABEL_KEYS, False), "hate_speech": True}, "hs_strength": "huge"},
            "hs_strength",
        ),
        ({"note": "x" * 5001}, "note longer"),
    ],
)
def test_decision_validation(kwargs: dict, message: str) -> None:
    base = {"labels": dict.fromkeys(LABEL_KEYS, False), "action": "no_violation"}
    with pytest.raises(ValueError, match=message):
        DecisionIn(**{**base, **kwargs})


def test_deactivated_reviewer_cannot_claim(engine: Engine, people: dict[str, int]) -> None:
    from pantau.queue.users import authenticate, set_active

    queue.enqueue(engine, synthetic_rows(3, min_risk=0.5), model_version="synthetic-v1", risk_threshold=0.5)
    set_active(engine, "budi", False)
    with pytest.raises(Forbidden):
        queue.claim(engine, people["budi"], 1)
    assert authenticate(engine, "budi", "rahasia-123") is None
    assert authenticate(engine, "rina", "rahasia-123").role == "reviewer"
    assert authenticate(engine, "rina", "salah-sandi") is None
    assert authenticate(engine, "nobody", "rahasia-123") is None


def test_expiry_sweep_runs_at_most_once_per_interval(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [row("a", 0.6), row("b", 0.7)], model_version="v1", risk_threshold=0.5)
    [first] = queue.claim(engine, people["rina"], 1, lease_minutes=0.01, now=T0)  # lease: 0.6 s
    # 1 s later the lease has run out, but the last sweep was under EXPIRY_SWEEP_SECONDS ago.
    soon = T0 + timedelta(seconds=1)
    assert queue.EXPIRY_SWEEP_SECONDS > 1
    [second] = queue.claim(engine, people["budi"], 1, now=soon)
    assert second != first
    assert queue.get_item(engine, first).status == "claimed"
    later = T0 + timedelta(seconds=queue.EXPIRY_SWEEP_SECONDS + 1)
    assert queue.claim(engine, people["budi"], 1, now=later) == [first]


def test_claim_by_deactivated_user_is_refused_even_on_an_empty_queue(
    engine: Engine, people: dict[str, int]
) -> None:
    from pantau.queue.users import set_active

    set_active(engine, "rina", False)
    with pytest.raises(Forbidden):
        queue.claim(engine, people["rina"], 1)
    queue.enqueue(engine, [row("a", 0.6)], model_version="v1", risk_threshold=0.5)
    with pytest.raises(Forbidden):
        queue.claim(engine, people["rina"], 1)
    assert queue.get_item(engine, queue.list_items(engine)[0][0].id).status == "pending"
