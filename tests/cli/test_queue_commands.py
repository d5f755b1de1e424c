"""``pantau queue …`` and ``pantau users …`` through the real Typer app on a temporary database."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pantau import queue
from pantau.cli import app
from pantau.labels import LABEL_KEYS
from pantau.queue.db import make_engine
from pantau.queue.synthetic import synthetic_rows


@pytest.fixture
def params(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text("queue:\n  database_url: sqlite:///var/q.db\n  risk_threshold: 0.5\n", encoding="utf-8")
    return path


def run(params: Path, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        app, ["--params", str(params), *args], input=stdin, env={"PANTAU_DATABASE_URL": None}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_users_enqueue_status_export(params: Path, tmp_path: Path) -> None:
    assert "revision 0006" in run(params, "queue", "migrate")  # 0006: complaints linked to batch-scored posts
    assert (tmp_path / "var" / "q.db").exists()  # relative to the params file, parent folder created
    assert "added lia (lead)" in run(
        params, "users", "add", "lia", "--role", "lead", "--password-stdin", stdin="rahasia-123\n"
    )
    bad = CliRunner().invoke(
        app, ["--params", str(params), "users", "add", "x", "--password-stdin"], input="pendek\n"
    )
    assert bad.exit_code == 2 and "username" in bad.output
    rows = list(synthetic_rows(20, model_version="cli-v1"))
    rows.append({"id": "broken", "text": "tanpa skor"})
    scored = tmp_path / "scored.jsonl"
    scored.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = run(params, "queue", "enqueue", str(scored))
    expected = sum(1 for r in rows[:-1] if r["risk"] >= 0.5)
    assert f"inserted {expected}," in out and "rejected 1" in out
    rejects = pd.read_csv(tmp_path / "var" / "queue_rejects.csv")
    assert "probabilities" in rejects.iloc[0]["reason"]
    again = run(params, "queue", "enqueue", str(scored))
    assert f"inserted 0, updated 0, skipped {len(rows) - 1}, rejected 1" in again  # idempotent
    assert f"pending    {expected}" in run(params, "queue", "status")
    assert "lia" in run(params, "users", "list")

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'q.db'}")
    lia = 1
    [item] = queue.claim(engine, lia, 1, filters=queue.ItemFilter(max_risk=0.8))  # single review
    queue.decide(engine, lia, item, queue.DecisionIn(labels=dict.fromkeys(LABEL_KEYS, True), action="warn"))
    target = tmp_path / "out" / "reviewed.parquet"
    assert "wrote 1 decision(s)" in run(params, "queue", "export", "--out", str(target))
    assert pd.read_parquet(target)["source"].tolist() == ["reviewed"]
    assert "wrote 0" in run(
        params, "queue", "export", "--out", str(tmp_path / "x.csv"), "--since", "2999-01-01"
    )
    assert "hate_speech" in run(params, "queue", "agreement")
    assert "released 0" in run(params, "queue", "release-expired")
    assert "now reviewer" in run(params, "users", "set-role", "lia", "reviewer")
    assert "deactivated" in run(params, "users", "deactivate", "lia")
    # post-0..4 are pending from the same synthetic ids: a new model version rescores them
    assert "inserted 0, updated 5" in run(params, "queue", "seed", "--n", "5", "--model-version", "seed-v1")
    short = CliRunner().invoke(app, ["--params", str(params), "serve"], env={"PANTAU_SECRET_KEY": "kurang"})
    assert short.exit_code == 2 and "at least 32" in short.output


def test_enqueue_flat_score_columns(params: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "text": ["dasar kadrun", "halo"],
            "risk": [0.9, 0.2],
            "model_version": "m1",
            "spans": ['[{"start": 6, "end": 12, "term": "kadrun", "category": "divisive"}]', "[]"],
            **{f"prob_{k}": [0.9, 0.2] for k in LABEL_KEYS},
            **{f"flag_{k}": [True, False] for k in LABEL_KEYS},
        }
    )
    frame.to_parquet(tmp_path / "scored.parquet")
    assert "inserted 1, updated 0, skipped 1" in run(
        params, "queue", "enqueue", str(tmp_path / "scored.parquet")
    )
    no_text = tmp_path / "nt.csv"
    frame.drop(columns=["text"]).to_csv(no_text, index=False)
    result = CliRunner().invoke(app, ["--params", str(params), "queue", "enqueue", str(no_text)])
    assert result.exit_code == 2 and "pantau score --queue" in result.output
