"""Case files (queue/casefile.py) and the desk report (queue/reports.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, NotFound
from pantau.queue.casefile import NOT_AVAILABLE, NotACase, case_file
from pantau.queue.reports import desk_report, period_of, report_csv

T0 = datetime(2026, 3, 2, 8, 0)  # a Monday


def _row(post_id: str, risk: float, **extra: object) -> dict:
    row = {
        "id": post_id,
        "text": f"teks {post_id} usir kadrun",
        "risk": risk,
        "probabilities": dict.fromkeys(LABEL_KEYS, risk),
        "flags": dict.fromkeys(LABEL_KEYS, risk >= 0.5),
        "spans": [
            {
                "start": len(f"teks {post_id} usir "),
                "end": len(f"teks {post_id} usir kadrun"),
                "category": "divisive",
            }
        ],
    }
    row.update(extra)
    return row


def _labels(**on: bool) -> dict[str, bool]:
    return {k: on.get(k, False) for k in LABEL_KEYS}


def _decide(engine: Engine, user: int, item: int, action: str, at: datetime, **labels: bool) -> None:
    queue.claim_item(engine, user, item, now=at)
    clauses = ("280_1_c",) if action in ("warn", "takedown") else ()
    d = DecisionIn(
        labels=_labels(**labels),
        action=action,
        pasal_280=clauses,
        note="catatan" if action == "takedown" else None,
    )
    queue.decide(engine, user, item, d, now=at)


def _ids(engine: Engine) -> dict[str, int]:
    return {i.post_id: i.id for i in queue.list_items(engine, limit=100)[0]}


def test_case_file_of_a_takedown(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(
        engine,
        [
            _row(
                "a",
                0.7,
                author="@akun_a",
                url="https://x.example/a",
                source="twitter",
                created_at="2026-03-01T10:00:00Z",
            ),
            _row("b", 0.6),
        ],
        model_version="v1",
        risk_threshold=0.5,
        now=T0,
    )
    ids = _ids(engine)
    _decide(engine, people["rina"], ids["a"], "takedown", T0 + timedelta(hours=2), incitement=True)
    case = case_file(engine, ids["a"])
    assert case["post"]["text"] == "teks a usir kadrun"
    assert case["post"]["sha256"] == hashlib.sha256(b"teks a usir kadrun").hexdigest()
    assert case["post"]["account"] == "@akun_a" and case["post"]["url"] == "https://x.example/a"
    assert case["times"] == {
        "posted_at": "2026-03-01T10:00:00Z",
        "enqueued_at": "2026-03-02T08:00:00Z",
        "decided_at": "2026-03-02T10:00:00Z",
    }
    assert case["final_action"] == "takedown"
    assert "model output" in case["model"]["note"]
    assert case["model"]["highlighted_terms"][0]["term"] == "kadrun"
    [d] = case["decisions"]
    assert d["reviewer"] == "rina" and d["labels"] == ["incitement"] and d["final"]
    assert [c["key"] for c in d["pasal_280"]] == ["280_1_c"]  # the clause the reviewer chose
    events = [(e["event"], e["actor"]) for e in case["trail"]]
    assert events == [("enqueue", "sistem (system)"), ("claim", "rina"), ("decide", "rina")]
    assert case["missing"] == []
    # Undecided, or decided otherwise: no case; no such item: not found.
    with pytest.raises(NotACase):
        case_file(engine, ids["b"])
    _decide(engine, people["budi"], ids["b"], "no_violation", T0 + timedelta(hours=3))
    with pytest.raises(NotACase):
        case_file(engine, ids["b"])
    with pytest.raises(NotFound):
        case_file(engine, 10**12)


def test_case_file_says_what_the_post_lacks(engine: Engine, people: dict[str, int]) -> None:
    queue.enqueue(engine, [_row("c", 0.7)], model_version="v1", risk_threshold=0.5, now=T0)
    item = _ids(engine)["c"]
    _decide(engine, people["rina"], item, "warn", T0 + timedelta(minutes=5), abusive=True)
    case = case_file(engine, item)
    assert case["post"]["account"] is None and case["post"]["posted_at"] is None
    assert {"author", "url", "posted_at", "source"} <= set(case["missing"])
    assert case["not_available"] == NOT_AVAILABLE


def test_desk_report_day_and_week(engine: Engine, people: dict[str, int]) -> None:
    rows = [_row(f"p{i}", 0.7, author="@ramai" if i < 3 else None) for i in range(4)] + [_row("low", 0.2)]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    queue.enqueue(engine, [_row("dbl", 0.9, author="@dua")], model_version="v1", risk_threshold=0.5, now=T0)
    ids = _ids(engine)
    _decide(engine, people["rina"], ids["p0"], "takedown", T0 + timedelta(hours=1), incitement=True)
    _decide(engine, people["rina"], ids["p1"], "warn", T0 + timedelta(hours=3), abusive=True)
    _decide(engine, people["rina"], ids["p2"], "no_violation", T0 + timedelta(days=1))  # Tuesday
    # double review: both set the same labels → decided, and counted as agreeing
    _decide(engine, people["rina"], ids["dbl"], "warn", T0 + timedelta(hours=4), abusive=True)
    _decide(engine, people["budi"], ids["dbl"], "warn", T0 + timedelta(hours=5), abusive=True)

    day = desk_report(engine, period_of("day", "2026-03-02"))
    assert day.scored == 6 and day.flagged == 5
    assert day.reviewed == 4 and day.reviewed_items == 3
    assert day.decided == 3
    assert day.by_action == {"no_violation": 0, "warn": 2, "takedown": 1}
    assert day.by_label["abusive"] == 2 and day.by_label["incitement"] == 1
    assert day.median_hours == pytest.approx(3.0)  # 1 h, 3 h, 5 h
    assert day.top_accounts[0] == ("@ramai", 3, 2)
    assert day.flagged_without_account == 1
    assert day.agreement.items == 1 and day.agreement.share == 1.0
    assert day.missing == []

    week = desk_report(engine, period_of("week", "2026-03-05"))  # the Thursday's week starts that Monday
    assert week.period.start == datetime(2026, 3, 2) and week.period.end == datetime(2026, 3, 9)
    assert week.decided == 4 and week.by_action["no_violation"] == 1
    assert dict(week.per_day)["2026-03-03"] == 1 and len(week.per_day) == 7

    empty = desk_report(engine, period_of("day", "2026-04-01"))
    assert empty.decided == 0 and empty.median_hours is None and empty.agreement.share is None

    table = list(csv.reader(io.StringIO(report_csv(day))))
    assert ["totals", "decided", "3"] in table
    assert ["top_accounts_flagged", "'@ramai", "3"] in table  # a cell a spreadsheet will not evaluate


def test_desk_report_without_accounts_says_so(engine: Engine) -> None:
    queue.enqueue(engine, [_row("n1", 0.7)], model_version="v1", risk_threshold=0.5, now=T0)
    report = desk_report(engine, period_of("day", T0.date()))
    assert report.top_accounts == [] and "account" in report.missing


def test_period_of_refuses_nonsense() -> None:
    with pytest.raises(queue.Invalid):
        period_of("month", "2026-03-02")
    with pytest.raises(queue.Invalid):
        period_of("day", "2026-13-45")
    with pytest.raises(queue.Invalid):
        period_of("week", "9999-12-31")
