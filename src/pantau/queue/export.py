"""Export final decisions as labelled data in the sample-corpus format (corpus kind ``reviewed``).

Only what a person decided is written: a final decision whose action disagrees with its labels (a
"no violation" with labels ticked, a warning with none) is held back, and so are decisions recorded
before migration 0002, when the form arrived with the model's labels pre-ticked (``labels_entered`` is
NULL), unless ``include_legacy`` asks for those that are at least consistent."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from pantau.labels import HS_DETAIL_COLUMNS, LABEL_KEYS
from pantau.queue.models import Decision, Item, Status, UndoneDecision, User
from pantau.queue.schemas import action_problem, iso, parse_datetime

EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "text",
    *LABEL_KEYS,
    *HS_DETAIL_COLUMNS,
    "source",
    "reviewers",
    "agreement",
    "decided_at",
)
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")


def decision_rows(
    engine: Engine,
    *,
    since: datetime | str | None = None,
    include_legacy: bool = False,
    held_back: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """One row per decided item (its final decision), oldest decision first; ``held_back`` (if given)
    gets the number of items left out per reason (``legacy``, ``inconsistent``).

    ``reviewers``: everyone who decided on the item, in order, ';'-joined. ``agreement``: share of the
    four labels on which the first two independent reviews agreed (empty for single-review items).
    """
    since_dt = parse_datetime(since) if since is not None else None
    where = [Item.status == Status.DECIDED]
    if since_dt is not None:
        where.append(Item.decided_at >= since_dt)
    final = [getattr(Decision, k) for k in LABEL_KEYS]
    with engine.connect() as conn:
        items = conn.execute(
            select(
                Item.id,
                Item.post_id,
                Item.text,
                Item.decided_at,
                *final,
                Decision.hs_target,
                Decision.hs_category,
                Decision.hs_strength,
                Decision.action,
                Decision.pasal_280,
                Decision.labels_entered,
            )
            .join(Decision, Decision.id == Item.final_decision_id)
            .where(*where)
            .order_by(Item.decided_at, Item.id)
        ).all()
        ids = [r.id for r in items]
        history: dict[int, list[Any]] = defaultdict(list)
        # Chunked IN lists keep the statement small on both databases.
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for row in conn.execute(
                select(Decision.item_id, Decision.kind, Decision.action, User.username, *final)
                .join(User, User.id == Decision.reviewer_id)
                .where(
                    Decision.item_id.in_(chunk), Decision.id.not_in(select(UndoneDecision.decision_id))
                )
                .order_by(Decision.item_id, Decision.id)
            ):
                history[row.item_id].append(row)
    out = []
    skipped = {"legacy": 0, "inconsistent": 0}
    for r in items:
        if action_problem(r.action, {k: bool(getattr(r, k)) for k in LABEL_KEYS}, r.pasal_280 or []):
            skipped["inconsistent"] += 1
            continue
        if r.labels_entered is not True and not include_legacy:
            skipped["legacy"] += 1
            continue
        decisions = history[r.id]
        reviewers = list(dict.fromkeys(d.username for d in decisions))
        reviews = [d for d in decisions if d.kind == "review" and d.action != "escalate"][:2]
        agreement = (
            sum(1 for k in LABEL_KEYS if getattr(reviews[0], k) == getattr(reviews[1], k)) / len(LABEL_KEYS)
            if len(reviews) == 2
            else None
        )
        out.append(
            {
                "id": r.post_id,
                "text": r.text,
                **{k: int(bool(getattr(r, k))) for k in LABEL_KEYS},
                "hs_target": r.hs_target or "",
                "hs_category": r.hs_category or "",
                "hs_strength": r.hs_strength or "",
                "source": "reviewed",
                "reviewers": ";".join(reviewers),
                "agreement": agreement,
                "decided_at": iso(r.decided_at),
            }
        )
    if held_back is not None:
        held_back.update(skipped)
    return out


def export_decisions(
    database_url: str | Engine,
    out: str | os.PathLike[str],
    *,
    since: datetime | str | None = None,
    fmt: str | None = None,
    include_legacy: bool = False,
    held_back: dict[str, int] | None = None,
) -> int:
    """Write decided items to ``out`` as csv, jsonl or parquet (default: from the suffix); returns rows written.

    The file is written next to ``out`` and renamed into place, so readers never see half a file.
    """
    import pandas as pd

    from pantau.queue.db import make_engine

    path = Path(out)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"format must be one of {', '.join(FORMATS)} (got {fmt!r}); pass fmt= or use a known suffix"
        )
    engine = make_engine(database_url) if isinstance(database_url, str) else database_url
    try:
        rows = decision_rows(engine, since=since, include_legacy=include_legacy, held_back=held_back)
    finally:
        if isinstance(database_url, str):
            engine.dispose()
    frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    for key in LABEL_KEYS:
        frame[key] = frame[key].astype("int64")
    frame["agreement"] = frame["agreement"].astype("float64")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "csv":
        frame.to_csv(tmp, index=False)
    elif fmt == "jsonl":
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return len(frame)
