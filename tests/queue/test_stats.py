"""Agreement (Cohen's kappa), decisions per day, label precision and score drift."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import Engine

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, stats


def _decision(**labels: bool) -> DecisionIn:
    chosen = {k: labels.get(k, False) for k in LABEL_KEYS}  # the action agrees with the labels
    return DecisionIn(labels=chosen, action="warn" if any(chosen.values()) else "no_violation")


@pytest.mark.parametrize(
    "pairs",
    [
        [(True, True), (False, False), (True, False), (False, False), (True, True), (False, True)],
        [(True, False), (False, True), (True, False)],
        [(True, True), (True, True), (False, False)],
    ],
)
def test_cohen_kappa_matches_sklearn(pairs: list[tuple[bool, bool]]) -> None:
    a, b = zip(*pairs, strict=True)
    assert stats.cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_undefined_when_everyone_always_agrees_on_one_answer() -> None:
    assert stats.cohen_kappa([(False, False)] * 4) is None
    assert stats.cohen_kappa([]) is None


def _probs(p: float) -> dict:
    return {"probabilities": dict.fromkeys(LABEL_KEYS, p), "flags": dict.fromkeys(LABEL_KEYS, p >= 0.5)}


def _row(post_id: str, risk: float) -> dict:
    return {"id": post_id, "text": f"teks {post_id}", "risk": risk, **_probs(risk)}


def test_agreement_precision_and_decisions_per_day(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row(f"p{i}", 0.9) for i in range(4)], model_version="v1", risk_threshold=0.5)
    ids = [i.id for i in queue.list_items(engine)[0]]
    # Reviewer pairs per item: (rina, budi) on hate_speech: agree T, agree F, disagree, agree T.
    first = [True, False, True, True]
    second = [True, False, False, True]
    for item_id, label in zip(ids, first, strict=True):
        queue.claim_item(engine, people["rina"], item_id)
        queue.decide(engine, people["rina"], item_id, _decision(hate_speech=label))
    for item_id, label in zip(ids, second, strict=True):
        queue.claim_item(engine, people["budi"], item_id)
        queue.decide(engine, people["budi"], item_id, _decision(hate_speech=label))
    agreement = {a.label: a for a in stats.agreement(engine)}
    assert agreement["hate_speech"].n == 4
    assert agreement["hate_speech"].observed == pytest.approx(0.75)
    assert agreement["hate_speech"].kappa == pytest.approx(cohen_kappa_score(first, second))
    assert agreement["abusive"].kappa is None  # always both "no"
    precision = {p.label: p for p in stats.label_precision(engine)}
    # Three items decided (one escalated); the model flagged every label on all of them.
    assert precision["hate_speech"].flagged == 3 and precision["hate_speech"].confirmed == 2
    assert precision["abusive"].precision == 0.0
    per_day = stats.decisions_per_day(engine, days=3)
    assert len(per_day) == 3 and per_day[-1] == (queue.utcnow().strftime("%Y-%m-%d"), 8)
    assert per_day[0][1] == 0


def test_score_drift_between_versions(engine: Engine) -> None:
    t0 = datetime(2026, 1, 1)
    queue.enqueue(engine, [_row("a", 0.6), _row("b", 0.8)], model_version="v1", risk_threshold=0.5, now=t0)
    queue.enqueue(
        engine,
        [_row("a", 0.7), _row("b", 0.6), _row("c", 0.9)],
        model_version="v2",
        risk_threshold=0.5,
        now=t0 + timedelta(days=1),
    )
    versions, drifts = stats.score_drift(engine)
    assert [(v.model_version, v.n) for v in versions] == [("v1", 2), ("v2", 3)]
    assert versions[1].mean_risk == pytest.approx(0.7333, abs=1e-3)
    [drift] = drifts
    assert (drift.old, drift.new, drift.n_common) == ("v1", "v2", 2)
    assert drift.mean_delta["risk"] == pytest.approx(-0.05)
    assert drift.mean_abs_delta["hate_speech"] == pytest.approx(0.15)
