"""Closing the loop: score → enqueue → decide through the JSON API → export → prepare picks the rows up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from support.web import PASSWORD

from pantau.labels import LABEL_KEYS
from pantau.queue.db import make_engine
from pantau.queue.export import export_decisions
from pantau.queue.users import add_user
from pantau.web.app import WebConfig, create_app

POSTS = [
    "dasar kadrun tidak tahu diri, usir saja",
    "cebong dan kampret sama saja <script>alert(1)</script>",
    "jangan saling menyebut cebong, kita semua saudara",
    "ayo kepung rumahnya malam ini",
    "bodoh banget sih pendukung capres itu",
    "harga cabai naik lagi di pasar",
]


@pytest.mark.slow
def test_score_enqueue_decide_export_prepare(tmp_path: Path, repo_root: Path, password_hash: str) -> None:
    from support.tiny_models import build_tiny_transformer

    from pantau.config import load_settings
    from pantau.data.prepare import prepare
    from pantau.scoring.local import ScoreOptions, score_files

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    posts = tmp_path / "posts.csv"
    pd.DataFrame({"id": [f"p{i}" for i in range(len(POSTS))], "text": POSTS, "source": "twitter"}).to_csv(
        posts, index=False
    )
    model = build_tiny_transformer(tmp_path / "model")
    # 1. score, enqueueing every post (a random tiny model: threshold 0 so all are queued)
    score_files(
        [posts], model, tmp_path / "predictions", ScoreOptions(queue_url=url, risk_threshold=0.0, stride=4)
    )
    engine = make_engine(url)
    add_user(engine, "rina", None, "reviewer", password_hash=password_hash)
    add_user(engine, "budi", None, "reviewer", password_hash=password_hash)

    # 2. every item decided through the API by two reviewers where needed (same labels: agreement)
    client = TestClient(create_app(engine, secret_key="k" * 40, config=WebConfig()))
    listed = []
    for who in ("rina", "budi"):
        session = client.post("/api/v1/session", json={"username": who, "password": PASSWORD}).json()
        headers = {"X-CSRF-Token": session["csrf_token"]}
        while True:
            claimed = client.post("/api/v1/claims", json={"n": 3}, headers=headers)
            assert claimed.status_code == 200, claimed.text
            items = claimed.json()["items"]
            if not items:
                break
            for item in items:
                listed.append(item["post_id"])
                hate = "kadrun" in item["text"] or "bodoh" in item["text"]
                divisive = "kadrun" in item["text"] or "kampret" in item["text"]
                body = {
                    "labels": {**dict.fromkeys(LABEL_KEYS, False), "hate_speech": hate, "divisive_label": divisive},
                    # the action agrees with the labels (issue 15): a label alone is at least a warning
                    "action": "takedown" if hate else "warn" if divisive else "no_violation",
                    "pasal_280": ["280_1_c"] if hate else [],
                    "hs_target": "group" if hate else None,
                    "confirmed": hate,  # a takedown needs a confirmation (issue 15)
                }
                reply = client.post(f"/api/v1/items/{item['id']}/decision", json=body, headers=headers)
                assert reply.status_code == 200, reply.text
                assert reply.json()["status"] in ("decided", "pending")
        assert client.delete("/api/v1/session", headers=headers).status_code == 204
    assert set(listed) == {f"p{i}" for i in range(len(POSTS))}

    # 3. export, 4. prepare reads it next to the sample corpus
    exported = tmp_path / "reviewed.csv"
    assert export_decisions(url, exported) == len(POSTS)
    settings = load_settings(
        None,
        overrides={
            "data.sources": [
                {"name": "sample", "kind": "sample", "path": str(repo_root / "data/sample/labelled.csv")},
                {"name": "reviewed", "kind": "reviewed", "path": str(exported)},
            ],
            "data.processed_dir": str(tmp_path / "processed"),
        },
        env={},
    )
    result = prepare(settings)
    frames = pd.concat([pd.read_parquet(p) for p in result.paths.values()], ignore_index=True)
    reviewed = frames[frames["source"] == "reviewed"]
    assert len(reviewed) == len(POSTS)
    row = reviewed[reviewed["text"].str.startswith("dasar kadrun")].iloc[0]
    assert (row["hate_speech"], row["divisive_label"], row["incitement"]) == (1.0, 1.0, 0.0)
    assert result.report["sources"]["reviewed"]["kept"] == len(POSTS)
