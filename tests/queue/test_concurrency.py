"""≥ 8 reviewers claiming in parallel: every item is claimed at most once and none is lost."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine, func, select

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue.models import AuditEvent, Decision
from pantau.queue.synthetic import synthetic_rows
from pantau.queue.users import add_user

N_ITEMS, N_REVIEWERS = 1000, 8


def test_parallel_reviewers_never_share_an_item(engine: Engine, password_hash: str) -> None:
    result = queue.enqueue(
        engine,
        synthetic_rows(N_ITEMS, min_risk=0.5),
        model_version="synthetic-v1",
        risk_threshold=0.5,
        double_review_risk=1.01,  # one review each, so each item is claimed exactly once
    )
    assert result.inserted == N_ITEMS
    reviewers = [
        add_user(engine, f"rev{i}", None, password_hash=password_hash).id for i in range(N_REVIEWERS)
    ]
    claimed: dict[int, list[int]] = {r: [] for r in reviewers}
    errors: list[BaseException] = []
    start = threading.Barrier(N_REVIEWERS)
    decision = queue.DecisionIn(labels=dict.fromkeys(LABEL_KEYS, False), action="no_violation")

    def work(user_id: int) -> None:
        try:
            start.wait()
            while True:
                ids = queue.claim(engine, user_id, 7)
                if not ids:
                    return
                claimed[user_id].extend(ids)
                for item_id in ids:
                    queue.decide(engine, user_id, item_id, decision)
        except BaseException as exc:  # noqa: BLE001 - surfaced below; a thread must not swallow failures
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    everything = [i for ids in claimed.values() for i in ids]
    counts = Counter(everything)
    assert len(everything) == N_ITEMS and max(counts.values()) == 1  # at most once
    assert set(everything) == {
        i.id for i in queue.list_items(engine, status=None, limit=1000)[0]
    }  # none lost
    assert sum(1 for ids in claimed.values() if ids) >= 2  # the reviewers really did work side by side
    assert queue.status_counts(engine) == {"pending": 0, "claimed": 0, "decided": N_ITEMS, "escalated": 0}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Decision)).scalar_one() == N_ITEMS
        claims = conn.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "claim"))
        assert claims.scalar_one() == N_ITEMS


def test_concurrent_enqueuers_never_duplicate_a_post(engine: Engine) -> None:
    from pantau.queue.models import Item, Prediction

    rows = list(synthetic_rows(600, min_risk=0.5))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            queue.enqueue(engine, rows, model_version="synthetic-v1", risk_threshold=0.5, batch_size=100)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Item)).scalar_one() == 600
        assert conn.execute(select(func.count()).select_from(Prediction)).scalar_one() == 600
