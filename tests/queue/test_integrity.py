"""A recorded decision is what a person decided (issue 15), on SQLite and PostgreSQL: the action agrees
with the labels, takedowns and overrides are confirmed, slips can be undone, a lead does not resolve
their own dispute, leases are renewed by work, and decisions recorded under the pre-ticked form are
kept out of the training export."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select, update

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, Forbidden, QueueError
from pantau.queue.db import make_engine, upgrade
from pantau.queue.export import export_decisions
from pantau.queue.models import Decision, Item, UndoneDecision
from pantau.queue.stats import label_precision

T0 = datetime(2026, 3, 1, 8, 0, 0)
NONE = dict.fromkeys(LABEL_KEYS, False)


def _row(post_id: str, risk: float = 0.6) -> dict:
    return {
        "id": post_id,
        "text": f"dasar kadrun {post_id}",
        "risk": risk,
        "probabilities": dict.fromkeys(LABEL_KEYS, risk),
        "flags": dict.fromkeys(LABEL_KEYS, True),  # the model flags everything
    }


def _labels(**on: bool) -> dict[str, bool]:
    return {**NONE, **on}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"labels": _labels(hate_speech=True), "action": "no_violation"}, "no violation cannot carry"),
        ({"labels": NONE, "pasal_280": ["280_1_c"], "action": "no_violation"}, "no violation cannot"),
        ({"labels": NONE, "action": "warn"}, "warn needs at least one"),
        ({"labels": NONE, "action": "takedown", "confirmed": True}, "takedown needs at least one"),
        ({"labels": _labels(incitement=True), "action": "takedown"}, "needs a confirmation or a note"),
    ],
)
def test_action_must_agree_with_labels(body: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecisionIn(**body)


def test_agreeing_decisions_are_accepted() -> None:
    DecisionIn(labels=NONE, action="no_violation")
    DecisionIn(labels=NONE, action="escalate")  # escalate may be empty
    DecisionIn(labels=_labels(abusive=True), action="escalate")
    DecisionIn(labels=NONE, pasal_280=["280_1_d"], action="warn")  # a clause alone is enough
    DecisionIn(labels=_labels(incitement=True), action="takedown", confirmed=True)
    DecisionIn(labels=_labels(incitement=True), action="takedown", note="ajakan mengusir")


def test_override_needs_a_confirmation_or_a_note(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("a")], model_version="v1", risk_threshold=0.5)
    [a] = queue.claim(engine, people["rina"], 1)
    queue.decide(engine, people["rina"], a, DecisionIn(labels=NONE, action="no_violation"))
    bare = DecisionIn(labels=_labels(abusive=True), action="warn")
    with pytest.raises(ValueError, match="override needs a confirmation"):
        queue.override(engine, people["lia"], a, bare)
    assert len(queue.item_decisions(engine, a)) == 1  # nothing recorded
    noted = DecisionIn(labels=_labels(abusive=True), action="warn", note="kata kasar jelas")
    assert queue.override(engine, people["lia"], a, noted).status == "decided"


def test_a_lead_does_not_resolve_their_own_dispute(
    engine: Engine, people: dict[str, int], password_hash: str
) -> None:
    from pantau.queue.users import add_user

    other = add_user(engine, "wati", None, "lead", password_hash=password_hash).id
    queue.enqueue(engine, [_row("d", 0.95)], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["lia"], 1)  # the lead reviews it herself
    queue.decide(engine, people["lia"], item, DecisionIn(labels=_labels(hate_speech=True), action="warn"))
    queue.claim_item(engine, people["budi"], item)
    result = queue.decide(engine, people["budi"], item, DecisionIn(labels=NONE, action="no_violation"))
    assert (result.status, result.escalation_reason) == ("escalated", "disagreement")
    assert queue.was_reviewer(engine, item, people["lia"]) and not queue.was_reviewer(engine, item, other)
    settle = DecisionIn(labels=_labels(hate_speech=True), action="warn")
    with pytest.raises(Forbidden, match="another lead or an admin"):
        queue.resolve(engine, people["lia"], item, settle)
    assert queue.get_item(engine, item).status == "escalated"
    assert queue.resolve(engine, other, item, settle).status == "decided"  # another lead may


def test_admin_resolves_when_the_lead_was_a_side(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("e")], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["lia"], 1)
    queue.decide(engine, people["lia"], item, DecisionIn(labels=NONE, action="escalate"))
    with pytest.raises(Forbidden):
        queue.resolve(engine, people["lia"], item, DecisionIn(labels=NONE, action="no_violation"))
    assert queue.resolve(engine, people["adi"], item, DecisionIn(labels=NONE, action="no_violation"))


def test_undo_a_review_gives_the_item_back_to_decide_again(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("u")], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["rina"], 1, now=T0)
    slip = DecisionIn(labels=NONE, action="no_violation")
    first = queue.decide(engine, people["rina"], item, slip, now=T0 + timedelta(seconds=1))
    assert queue.get_item(engine, item).status == "decided"
    with pytest.raises(QueueError, match="nothing to undo"):
        queue.undo_last(engine, people["budi"], item, now=T0 + timedelta(seconds=2))  # not budi's
    undone = queue.undo_last(engine, people["rina"], item, now=T0 + timedelta(seconds=3))
    assert (undone.decision_id, undone.status) == (first.decision_id, "claimed")
    back = queue.get_item(engine, item)
    assert (back.status, back.claimed_by, back.final_decision_id, back.decided_at) == (
        "claimed",
        people["rina"],
        None,
        None,
    )
    assert back.review_count == 0 and back.lease_expires_at is not None
    with pytest.raises(QueueError, match="nothing to undo"):  # twice is not allowed
        queue.undo_last(engine, people["rina"], item, now=T0 + timedelta(seconds=4))
    fixed = DecisionIn(labels=_labels(divisive_label=True), action="warn")
    second = queue.decide(engine, people["rina"], item, fixed, now=T0 + timedelta(seconds=5))
    assert queue.get_item(engine, item).final_decision_id == second.decision_id
    decisions = queue.item_decisions(engine, item)
    assert [(d.action, d.undone) for d in decisions] == [("no_violation", True), ("warn", False)]
    events = [e["event"] for e in queue.audit_log(engine, item_id=item)]
    assert events == ["decide", "undo", "decide", "claim"]
    undo_event = queue.audit_log(engine, item_id=item)[1]
    assert undo_event["actor"] == "rina" and undo_event["detail"]["decision_id"] == first.decision_id
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(update(UndoneDecision).values(undone_by=people["budi"]))


def test_undo_is_refused_once_someone_else_acts_or_the_window_passes(
    engine: Engine, people: dict[str, int]
) -> None:
    queue.enqueue(engine, [_row("dbl", 0.95), _row("late")], model_version="v1", risk_threshold=0.5)
    ids = {i.post_id: i.id for i in queue.list_items(engine)[0]}
    queue.claim_item(engine, people["rina"], ids["dbl"], now=T0)
    queue.decide(engine, people["rina"], ids["dbl"], DecisionIn(labels=NONE, action="no_violation"), now=T0)
    queue.claim_item(engine, people["budi"], ids["dbl"], now=T0 + timedelta(seconds=5))  # someone else acts
    with pytest.raises(QueueError, match="nothing to undo"):
        queue.undo_last(engine, people["rina"], ids["dbl"], now=T0 + timedelta(seconds=6))
    queue.claim_item(engine, people["rina"], ids["late"], now=T0)
    queue.decide(engine, people["rina"], ids["late"], DecisionIn(labels=NONE, action="no_violation"), now=T0)
    with pytest.raises(QueueError, match="undo window"):
        queue.undo_last(
            engine, people["rina"], ids["late"], within_seconds=10, now=T0 + timedelta(seconds=11)
        )
    assert queue.get_item(engine, ids["late"]).status == "decided"


def test_an_undone_first_review_is_not_compared_with_the_second(
    engine: Engine, people: dict[str, int]
) -> None:
    queue.enqueue(engine, [_row("dbl", 0.95)], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["rina"], 1)
    hs = DecisionIn(labels=_labels(hate_speech=True), action="warn")
    queue.decide(engine, people["rina"], item, DecisionIn(labels=NONE, action="no_violation"))
    queue.undo_last(engine, people["rina"], item)
    with engine.connect() as conn:
        assert conn.execute(select(Item.first_reviewer_id).where(Item.id == item)).scalar_one() is None
    assert queue.decide(engine, people["rina"], item, hs).status == "pending"
    queue.claim_item(engine, people["budi"], item)
    assert queue.decide(engine, people["budi"], item, hs).status == "decided"  # agrees with the redo


def test_undo_a_leads_override_restores_the_earlier_final(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("o")], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["rina"], 1)
    review = queue.decide(
        engine, people["rina"], item, DecisionIn(labels=_labels(abusive=True), action="warn")
    )
    before = queue.get_item(engine, item)
    over = DecisionIn(labels=NONE, action="no_violation", confirmed=True)
    queue.override(engine, people["lia"], item, over)
    assert queue.undo_last(engine, people["lia"], item).status == "decided"
    after = queue.get_item(engine, item)
    assert after.final_decision_id == review.decision_id and after.decided_at == before.decided_at


def test_work_on_an_item_renews_its_lease(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("l")], model_version="v1", risk_threshold=0.5)
    [item] = queue.claim(engine, people["rina"], 1, lease_minutes=15, now=T0)
    renewed = queue.extend_claim(
        engine, people["rina"], item, lease_minutes=15, now=T0 + timedelta(minutes=10)
    )
    assert renewed == T0 + timedelta(minutes=25) == queue.get_item(engine, item).lease_expires_at
    assert queue.extend_claim(engine, people["budi"], item, now=T0 + timedelta(minutes=11)) is None
    # Once the lease has run out it is not silently revived: the item may already be someone else's.
    assert queue.extend_claim(engine, people["rina"], item, now=T0 + timedelta(minutes=26)) is None


def test_decisions_from_the_pre_ticked_form_stay_out_of_the_export(
    db_url: str, password_hash: str, tmp_path: Path
) -> None:
    """Decisions recorded at revision 0001 (the form pre-ticked the model's labels) are marked legacy by
    migration 0002; export and precision leave them out, ``include_legacy`` takes the consistent ones."""
    from pantau.queue.users import add_user

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        rina = add_user(engine, "rina", None, "reviewer", password_hash=password_hash).id
        # Items as revision 0001 stored them, through 0001's columns only: today's enqueue writes columns
        # later revisions added (campaign_id, url_key).
        with engine.begin() as conn:
            for post in ("ok", "bad"):
                row = _row(post)
                conn.execute(
                    insert(Item.__table__).values(
                        post_id=post, text=row["text"], model_version="v1", probabilities=row["probabilities"],
                        flags=row["flags"], spans=[], risk=row["risk"], priority_key=-row["risk"],
                        required_reviews=1, review_count=0, status="pending", enqueued_at=T0, updated_at=T0,
                    )
                )
        with engine.connect() as conn:
            ids = {p: i for p, i in conn.execute(select(Item.post_id, Item.id))}
        # As the old page stored them: "bad" is a no-violation with the pre-ticked labels left on.
        old = {"ok": ("warn", True), "bad": ("no_violation", True)}
        with engine.begin() as conn:
            for post, (action, on) in old.items():
                did = conn.execute(
                    insert(Decision.__table__)  # only the 0001 columns: labels_entered does not exist yet
                    .values(
                        item_id=ids[post],
                        reviewer_id=rina,
                        kind="review",
                        action=action,
                        pasal_280=["280_1_c"],
                        model_version="v1",
                        created_at=T0,
                        **dict.fromkeys(LABEL_KEYS, on),
                    )
                    .returning(Decision.id)
                ).scalar_one()
                conn.execute(
                    update(Item)
                    .where(Item.id == ids[post])
                    .values(status="decided", final_decision_id=did, decided_at=T0, review_count=1)
                )
        upgrade(engine)
        marked = [e for e in queue.audit_log(engine) if e["event"] == "legacy_marked"]
        assert marked and marked[0]["detail"]["decisions"] == 2
        with engine.connect() as conn:
            assert conn.execute(select(Decision.labels_entered)).scalars().all() == [None, None]
        held: dict[str, int] = {}
        assert export_decisions(engine, tmp_path / "a.csv", held_back=held) == 0
        assert held == {"legacy": 1, "inconsistent": 1}
        assert export_decisions(engine, tmp_path / "b.csv", include_legacy=True) == 1
        assert pd.read_csv(tmp_path / "b.csv")["id"].tolist() == ["ok"]  # "bad" never: it contradicts itself
        assert all(p.flagged == 0 for p in label_precision(engine))  # not counted as confirmed flags
    finally:
        engine.dispose()
