"""Decisions exported as labelled data that the corpus loader (kind ``reviewed``) reads back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn
from pantau.queue.export import EXPORT_COLUMNS, export_decisions

T0 = datetime(2026, 3, 1, 9)


def _row(post_id: str, risk: float, text: str) -> dict:
    return {
        "id": post_id,
        "text": text,
        "risk": risk,
        "probabilities": dict.fromkeys(LABEL_KEYS, risk),
        "flags": dict.fromkeys(LABEL_KEYS, True),
    }


@pytest.fixture
def decided(engine: Engine, people: dict[str, int]) -> Engine:
    rows = [
        _row("single", 0.6, 'dasar kadrun, "usir" saja,\nmereka'),
        _row("double", 0.9, "cebong dan kampret sama saja"),
        _row("late", 0.6, "antek asing <script>alert(1)</script>"),
        _row("open", 0.6, "belum diputuskan"),
    ]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, now=T0)
    ids = {i.post_id: i.id for i in queue.list_items(engine)[0]}
    hs = DecisionIn(
        labels={"hate_speech": True, "abusive": False, "divisive_label": True, "incitement": True},
        action="takedown",
        hs_target="group",
        hs_category="other",
        hs_strength="strong",
        confirmed=True,  # a takedown (and an override) needs a confirmation or a note
    )
    queue.claim_item(engine, people["rina"], ids["single"], now=T0)
    queue.decide(engine, people["rina"], ids["single"], hs, now=T0)
    for who, abusive in (("rina", True), ("budi", True)):
        queue.claim_item(engine, people[who], ids["double"], now=T0)
        labels = {**dict.fromkeys(LABEL_KEYS, False), "abusive": abusive, "divisive_label": True}
        queue.decide(engine, people[who], ids["double"], DecisionIn(labels=labels, action="warn"), now=T0)
    queue.claim_item(engine, people["budi"], ids["late"], now=T0)
    queue.decide(
        engine,
        people["budi"],
        ids["late"],
        DecisionIn(labels=dict.fromkeys(LABEL_KEYS, False), action="no_violation"),
        now=T0 + timedelta(days=2),
    )
    queue.override(engine, people["lia"], ids["late"], hs, now=T0 + timedelta(days=3))
    queue.claim_item(engine, people["rina"], ids["open"], now=T0)
    return engine


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_formats_round_trip(decided: Engine, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"reviewed.{fmt}"
    assert export_decisions(decided, out) == 3
    frame = {"csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True), "parquet": pd.read_parquet}[
        fmt
    ](out, **({"keep_default_na": False} if fmt == "csv" else {}))
    assert tuple(frame.columns) == EXPORT_COLUMNS
    rows = {r["id"]: r for r in frame.to_dict("records")}
    assert set(rows) == {"single", "double", "late"}  # "open" is not decided
    single = rows["single"]
    assert single["text"] == 'dasar kadrun, "usir" saja,\nmereka'
    assert [single[k] for k in LABEL_KEYS] == [1, 0, 1, 1]
    assert (single["hs_target"], single["hs_category"], single["hs_strength"]) == ("group", "other", "strong")
    assert single["source"] == "reviewed" and single["reviewers"] == "rina"
    assert rows["double"]["reviewers"] == "rina;budi" and float(rows["double"]["agreement"]) == 1.0
    assert rows["double"]["hs_target"] in ("", None)
    assert rows["late"]["reviewers"] == "budi;lia" and rows["late"]["hate_speech"] == 1  # the override wins
    assert pd.Timestamp(rows["late"]["decided_at"]) == pd.Timestamp("2026-03-04T09:00:00Z")


def test_export_since_and_bad_format(decided: Engine, tmp_path: Path) -> None:
    assert export_decisions(decided, tmp_path / "x.csv", since="2026-03-02") == 1
    assert export_decisions(decided, tmp_path / "x.jsonl", since=datetime(2030, 1, 1)) == 0
    with pytest.raises(ValueError, match="format must be"):
        export_decisions(decided, tmp_path / "x.xlsx")


def test_corpus_loader_reads_the_export(decided: Engine, tmp_path: Path) -> None:
    from pantau.data.sources import load_reviewed

    out = tmp_path / "reviewed.csv"
    export_decisions(decided, out)
    frame = load_reviewed(out)
    assert len(frame) == 3
    by_text = dict(zip(frame["text"], frame["hate_speech"], strict=True))
    assert by_text["antek asing <script>alert(1)</script>"] == 1
