"""The whole loop as a user meets it, with a tiny model: DVC pipeline → queue → API decision → export →
retrain with the decision → rescore that keeps the decision."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.tiny_base import build_tiny_base

from pantau.labels import LABEL_KEYS

PASSWORD = "rahasia-demo-123"


def _run(args: list[str], cwd: Path, *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def _workspace(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of what a fresh clone has (dvc.yaml, params.yaml, the sample, the sources DVC hashes)."""
    ws = tmp_path / "ws"
    (ws / "data" / "sample").mkdir(parents=True)
    (ws / "experiments").mkdir()
    shutil.copy(repo_root / "dvc.yaml", ws)
    shutil.copytree(repo_root / "src", ws / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo_root / "data" / "sample" / "labelled.csv", ws / "data" / "sample")
    shutil.copytree(repo_root / "data" / "annotations", ws / "data" / "annotations")
    posts = pd.read_csv(repo_root / "data" / "sample" / "unlabelled.csv", dtype=str, keep_default_na=False)
    posts.head(120).to_csv(ws / "data" / "sample" / "unlabelled.csv", index=False)
    build_tiny_base(ws / "models" / "base" / "tiny")
    params = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    params["model"]["base"] = "models/base/tiny"
    params["train"].update(epochs=1, max_length=48, batch_size=32, early_stopping_patience=1)
    # Scoring reads the window the model was calibrated at (48 tokens here), not a setting of its own.
    # A random tiny model scores around 0.5: queue everything, one reviewer per item.
    params["queue"].update(risk_threshold=0.0, double_review_risk=1.0)
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return ws


@pytest.mark.slow
def test_pipeline_queue_decision_export_retrain_rescore(tmp_path: Path, repo_root: Path) -> None:
    from pantau.queue.db import make_engine
    from pantau.queue.models import Decision, Item
    from pantau.web.app import WebConfig, create_app

    ws = _workspace(tmp_path, repo_root)
    _run(["dvc", "init", "--no-scm", "-q"], ws)

    # 1. the DVC pipeline from the raw sample to the queue
    _run(["dvc", "repro"], ws)
    predictions = pd.read_parquet(ws / "data" / "processed" / "predictions")
    assert len(predictions) == 120 and predictions["risk"].between(0, 1).all()
    assert (ws / "data" / "processed" / "eval" / "metrics.json").exists()
    first_version = predictions["model_version"].iloc[0]
    engine = make_engine(f"sqlite:///{ws / 'var' / 'queue.db'}")
    with engine.connect() as conn:
        items = conn.execute(select(Item.post_id, Item.status, Item.model_version)).all()
    assert len(items) == 120 and {i.status for i in items} == {"pending"}

    # 2. a reviewer decides one item through the JSON API
    _run(["pantau", "users", "add", "rina", "--role", "reviewer", "--password-stdin"], ws, stdin=PASSWORD + "\n")
    client = TestClient(create_app(engine, secret_key="e2e-" + "s" * 40, config=WebConfig()))
    session = client.post("/api/v1/session", json={"username": "rina", "password": PASSWORD})
    assert session.status_code == 200, session.text
    headers = {"X-CSRF-Token": session.json()["csrf_token"]}
    (item,) = client.post("/api/v1/claims", json={"n": 1}, headers=headers).json()["items"]
    labels = {**dict.fromkeys(LABEL_KEYS, False), "hate_speech": True, "incitement": True}
    body = {"labels": labels, "action": "takedown", "pasal_280": ["280_1_d"], "hs_target": "group",
            "hs_category": "religion", "hs_strength": "strong", "note": "uji e2e"}
    decided = client.post(f"/api/v1/items/{item['id']}/decision", json=body, headers=headers)
    assert decided.status_code == 200 and decided.json()["status"] == "decided", decided.text

    # 3. export the decision as labelled data, add it to the corpora, 4. retrain and rescore
    _run(["pantau", "queue", "export", "--format", "csv", "--out", "data/reviewed/decisions.csv"], ws)
    params = yaml.safe_load((ws / "params.yaml").read_text(encoding="utf-8"))
    params["data"]["sources"].append({"name": "reviewed", "kind": "reviewed", "path": "data/reviewed/decisions.csv"})
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    _run(["dvc", "repro"], ws)

    splits = pd.concat(
        [pd.read_parquet(ws / "data" / "processed" / f"{s}.parquet") for s in ("train", "val", "test")]
    )
    reviewed = splits[splits["source"] == "reviewed"]
    assert len(reviewed) == 1
    row = reviewed.iloc[0]
    assert row["text"] == item["text"]
    assert [row[k] for k in LABEL_KEYS] == [1.0, 0.0, 0.0, 1.0]
    rescored = pd.read_parquet(ws / "data" / "processed" / "predictions")
    assert len(rescored) == 120
    assert rescored["model_version"].iloc[0] != first_version  # a new model scored the posts

    # the decision survives the rescore: same item, still decided, one decision, untouched by the new model
    with engine.connect() as conn:
        kept = conn.execute(select(Item).where(Item.post_id == item["post_id"])).one()
        decisions = conn.execute(select(Decision).where(Decision.item_id == kept.id)).all()
        pending_versions = {r.model_version for r in conn.execute(select(Item).where(Item.status == "pending"))}
    assert kept.status == "decided" and len(decisions) == 1 and decisions[0].incitement
    assert kept.model_version == first_version
    assert pending_versions == {rescored["model_version"].iloc[0]}
    engine.dispose()
