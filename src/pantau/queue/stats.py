"""Queue statistics: reviewer agreement (Cohen's kappa), decisions per day, precision, score drift."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import aliased

from pantau.labels import LABEL_KEYS
from pantau.queue.models import Decision, Item, Prediction, UndoneDecision, utcnow

# Decisions that count as a person's labels: entered on a blank form (not legacy) and not undone.
PERSON_DECIDED = (
    Decision.labels_entered.is_(True),
    Decision.id.not_in(select(UndoneDecision.decision_id)),
)


def cohen_kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters on binary judgements; None when chance agreement is total
    (both raters always gave the same single answer), where kappa is undefined."""
    if not pairs:
        return None
    a = [bool(x) for x, _ in pairs]
    b = [bool(y) for _, y in pairs]
    if len(set(a) | set(b)) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(a, b, labels=[False, True]))


@dataclass(frozen=True)
class LabelAgreement:
    label: str
    n: int  # items with two independent reviews
    observed: float | None  # share of items where both reviewers gave the same answer
    kappa: float | None


def review_pairs(engine: Engine) -> dict[int, tuple[dict[str, bool], dict[str, bool]]]:
    """For each item with two independent reviews: the first two reviews' labels."""
    cols = [getattr(Decision, k) for k in LABEL_KEYS]
    with engine.connect() as conn:
        rows = conn.execute(
            select(Decision.item_id, Decision.id, *cols)
            .where(Decision.kind == "review", Decision.action != "escalate", *PERSON_DECIDED)
            .order_by(Decision.item_id, Decision.id)
        ).all()
    first: dict[int, list[dict[str, bool]]] = defaultdict(list)
    for row in rows:
        if len(first[row.item_id]) < 2:
            first[row.item_id].append({k: bool(getattr(row, k)) for k in LABEL_KEYS})
    return {item: (a[0], a[1]) for item, a in first.items() if len(a) == 2}


def agreement(engine: Engine) -> list[LabelAgreement]:
    """Cohen's kappa per label between the first two independent reviews of double-reviewed items."""
    pairs = list(review_pairs(engine).values())
    out = []
    for key in LABEL_KEYS:
        judgements = [(a[key], b[key]) for a, b in pairs]
        observed = sum(1 for x, y in judgements if x == y) / len(judgements) if judgements else None
        out.append(LabelAgreement(key, len(judgements), observed, cohen_kappa(judgements)))
    return out


def decisions_per_day(
    engine: Engine, *, days: int = 30, now: datetime | None = None
) -> list[tuple[str, int]]:
    """(YYYY-MM-DD, number of decisions) for each of the last ``days`` days, zeros included."""
    now = now or utcnow()
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date(Decision.created_at)
    with engine.connect() as conn:
        rows = conn.execute(select(day, func.count()).where(Decision.created_at >= start).group_by(day)).all()
    counts = {str(d)[:10]: n for d, n in rows}
    return [
        (
            (start + timedelta(days=i)).strftime("%Y-%m-%d"),
            counts.get((start + timedelta(days=i)).strftime("%Y-%m-%d"), 0),
        )
        for i in range(days)
    ]


@dataclass(frozen=True)
class LabelPrecision:
    label: str
    flagged: int  # reviewed items the model flagged with this label
    confirmed: int  # … of which the final decision says the label is true
    precision: float | None


def label_precision(engine: Engine) -> list[LabelPrecision]:
    """Precision of each label's model flag among decided items (final decision = truth)."""
    cols = [getattr(Decision, k) for k in LABEL_KEYS]
    with engine.connect() as conn:
        rows = conn.execute(
            select(Item.flags, *cols)
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(Item.status == "decided", *PERSON_DECIDED)
        ).all()
    out = []
    for key in LABEL_KEYS:
        flagged = [r for r in rows if (r.flags or {}).get(key)]
        confirmed = sum(1 for r in flagged if getattr(r, key))
        out.append(
            LabelPrecision(key, len(flagged), confirmed, confirmed / len(flagged) if flagged else None)
        )
    return out


@dataclass(frozen=True)
class VersionScores:
    model_version: str
    n: int
    first_scored: datetime
    mean_risk: float
    mean: dict[str, float]


@dataclass(frozen=True)
class Drift:
    old: str
    new: str
    n_common: int  # posts scored by both versions
    mean_delta: dict[str, float]  # new - old, per label and "risk"
    mean_abs_delta: dict[str, float]


def score_drift(engine: Engine) -> tuple[list[VersionScores], list[Drift]]:
    """Mean scores per model version, and the change between each consecutive pair of versions
    on the posts both scored (versions ordered by when they were first enqueued)."""
    prob_cols = [getattr(Prediction, f"p_{k}") for k in LABEL_KEYS]
    with engine.connect() as conn:
        per_version = conn.execute(
            select(
                Prediction.model_version,
                func.count(),
                func.min(Prediction.scored_at),
                func.avg(Prediction.risk),
                *(func.avg(c) for c in prob_cols),
            ).group_by(Prediction.model_version)
        ).all()
        versions = sorted(
            (
                VersionScores(
                    r[0],
                    r[1],
                    r[2],
                    float(r[3]),
                    {k: float(v) for k, v in zip(LABEL_KEYS, r[4:], strict=True)},
                )
                for r in per_version
            ),
            key=lambda v: (v.first_scored, v.model_version),
        )
        drifts = []
        old_p, new_p = aliased(Prediction), aliased(Prediction)
        for a, b in pairwise(versions):
            fields: list[Any] = [("risk", new_p.risk, old_p.risk)] + [
                (k, getattr(new_p, f"p_{k}"), getattr(old_p, f"p_{k}")) for k in LABEL_KEYS
            ]
            row = conn.execute(
                select(
                    func.count(),
                    *(func.avg(n - o) for _, n, o in fields),
                    *(func.avg(func.abs(n - o)) for _, n, o in fields),
                )
                .select_from(new_p)
                .join(old_p, and_(old_p.post_id == new_p.post_id, old_p.model_version == a.model_version))
                .where(new_p.model_version == b.model_version)
            ).one()
            names = [name for name, _, _ in fields]
            k = len(names)
            drifts.append(
                Drift(
                    a.model_version,
                    b.model_version,
                    row[0],
                    {name: float(v or 0.0) for name, v in zip(names, row[1 : 1 + k], strict=True)},
                    {name: float(v or 0.0) for name, v in zip(names, row[1 + k :], strict=True)},
                )
            )
    return versions, drifts
