"""``pantau score`` end to end on real files, a real tiny model, a real SQLite queue and a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.posts import write_posts
from support.tiny_models import build_tiny_transformer
from typer.testing import CliRunner

from pantau.io import text_hash
from pantau.labels import LABEL_KEYS
from pantau.model.classifier import Classifier
from pantau.scoring.local import (
    CHECKPOINT_FILE,
    MANIFEST_FILE,
    REJECTS_FILE,
    ResumeMismatch,
    ScoreOptions,
    score_files,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


OPTS = ScoreOptions(chunk_rows=40, stride=4)


def read_rejects(out: Path) -> pd.DataFrame:
    path = out / REJECTS_FILE
    return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["source", "row", "reason", "raw"])


def test_every_row_is_scored_or_rejected_with_documented_columns(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    good = write_posts(data, 150, bad_every=25)
    with open(data, "a", encoding="utf-8") as fh:  # a duplicate id and a post with a divisive term
        fh.write("p1,dasar cebong,u,\n")
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"id": "j1", "text": "Dasar CEBONG!"}) + "\n{not json\n", encoding="utf-8")
    result = score_files([data, extra], model, tmp_path / "out", OPTS)
    out = pd.read_parquet(tmp_path / "out")
    assert sorted(out["id"]) == sorted(good | {"j1"})
    expected = [
        "id",
        "text_hash",
        "author",  # the input's author and url columns travel with each post (issue 18 §1)
        "url",
        "created_at",  # null here (the input has none): one schema for every part and both engines
        *[f"prob_{k}" for k in LABEL_KEYS],
        *[f"flag_{k}" for k in LABEL_KEYS],
        "risk",
        "spans",
        "windows",
        "model_name",
        "model_version",
        "run_id",
        "preprocessing",
        "scored_at",
    ]
    assert list(out.columns) == expected
    rejects = read_rejects(tmp_path / "out")
    assert len(rejects) == 150 - len(good) + 2
    assert {"empty text", "duplicate id", "malformed row"} <= {r.split(":")[0] for r in rejects["reason"]}
    counts = result.manifest["counts"]
    assert counts == {"read": 153, "scored": len(good) + 1, "rejected": len(rejects), "enqueued": 0,
                      "blank_lines": 0}
    assert result.manifest["model"]["model_version"] == "1" and result.manifest["duration_s"] > 0
    assert not (tmp_path / "out" / CHECKPOINT_FILE).exists()
    # Numbers are the Classifier's, flags follow the thresholds, risk ≥ 0.5 exactly when flagged.
    texts = {
        **dict(pd.read_csv(data, keep_default_na=False).drop_duplicates("id")[["id", "text"]].values),
        "j1": "Dasar CEBONG!",
    }
    clf = Classifier.load(model, stride=4)
    probs = clf.predict_proba([texts[i] for i in out["id"]])
    np.testing.assert_allclose(out[[f"prob_{k}" for k in LABEL_KEYS]].to_numpy(), probs, atol=1e-6)
    flags = out[[f"flag_{k}" for k in LABEL_KEYS]].to_numpy()
    assert np.array_equal(flags, probs >= 0.5)
    assert np.array_equal(out["risk"].to_numpy() >= 0.5, flags.any(axis=1))
    assert out["text_hash"].tolist() == [text_hash(texts[i]) for i in out["id"]]
    assert (out["windows"] > 1).any() and (out["windows"] == 1).any()
    spans = json.loads(out.set_index("id").loc["j1", "spans"])
    assert spans and spans[0]["matched"].lower() == "cebong" and spans[0]["start"] == 6


def test_finished_run_is_not_redone_and_other_runs_are_refused(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 60)
    out = tmp_path / "out"
    first = score_files([data], model, out, OPTS)
    parts = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    again = score_files([data], model, out, OPTS)
    assert again.manifest == first.manifest
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")} == parts
    with pytest.raises(ResumeMismatch, match="different inputs, model or settings"):
        score_files([data], model, out, ScoreOptions(chunk_rows=7, stride=4))
    fresh = score_files([data], model, out, ScoreOptions(chunk_rows=7, stride=4, resume=False))
    assert fresh.manifest["parts"] == 9 and len(pd.read_parquet(out)) == 60


def run_cli(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "pantau.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kwargs,
    )  # type: ignore[call-overload]


@pytest.mark.slow
def test_sigkill_then_same_command_finishes_with_every_row_exactly_once(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    good = write_posts(data, 1500, bad_every=50, seed=1)
    out = tmp_path / "out"
    args = [
        "score",
        str(data),
        "--model",
        str(model),
        "--out",
        str(out),
        "--chunk-rows",
        "25",
        "--quiet",
        "--threads",
        "1",
    ]
    # stride/max_length come from params: keep them valid for the 16-token tiny model.
    params = tmp_path / "params.yaml"
    params.write_text("score: {max_length: 16, stride: 4}\n", encoding="utf-8")
    proc = run_cli(["--params", str(params), *args], cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("part-*.parquet"))) < 3:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / CHECKPOINT_FILE).exists() and not (out / MANIFEST_FILE).exists()
    done_before = len(pd.read_parquet(out)) if list(out.glob("part-*.parquet")) else 0
    assert 0 < done_before < len(good)
    second = run_cli(["--params", str(params), *args], cwd=tmp_path)
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output.decode()
    scored = pd.read_parquet(out)
    assert len(scored) == len(good) and set(scored["id"]) == good  # every good row, once
    rejects = read_rejects(out)
    assert len(rejects) == 1500 - len(good) and rejects["row"].is_unique  # every bad row, once
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["attempts"] == 2
    assert manifest["counts"] == {"read": 1500, "scored": len(good), "rejected": len(rejects), "enqueued": 0,
                      "blank_lines": 0}


def test_cli_exit_codes(tmp_path: Path, model: Path) -> None:
    from pantau.cli import app

    runner = CliRunner()
    data = tmp_path / "posts.csv"
    write_posts(data, 30, bad_every=10)
    params = tmp_path / "params.yaml"
    params.write_text("score: {max_length: 16, stride: 4}\n", encoding="utf-8")
    base = ["--params", str(params), "score", "--model", str(model), "--quiet"]
    ok = runner.invoke(app, [*base, str(data), "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    strict = runner.invoke(app, [*base, str(data), "--out", str(tmp_path / "b"), "--fail-on-rejects"])
    assert strict.exit_code == 3
    missing = runner.invoke(app, [*base, str(tmp_path / "nope.csv"), "--out", str(tmp_path / "c")])
    assert missing.exit_code == 2 and "not found" in missing.output
    bad_model = runner.invoke(
        app, [*base[:3], "--model", str(tmp_path), "--quiet", str(data), "--out", str(tmp_path / "d")]
    )
    assert bad_model.exit_code == 2 and "pantau_model.json" in bad_model.output
    other = runner.invoke(app, [*base, str(data), "--out", str(tmp_path / "a"), "--chunk-rows", "3"])
    assert other.exit_code == 2 and "--no-resume" in other.output
    bad_engine = runner.invoke(app, [*base, str(data), "--out", str(tmp_path / "e"), "--engine", "spark"])
    assert bad_engine.exit_code == 2


def test_queue_gets_risky_posts_once_per_model_version(tmp_path: Path, model: Path) -> None:
    from sqlalchemy import create_engine, text

    data = tmp_path / "posts.csv"
    write_posts(data, 80)
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    # The random model's risks: pick a queue threshold that splits them.
    plain = score_files([data], model, tmp_path / "plain", ScoreOptions(chunk_rows=40, stride=4))
    cut = float(np.median(pd.read_parquet(plain.out_dir)["risk"]))
    options = ScoreOptions(chunk_rows=40, stride=4, queue_url=url, risk_threshold=cut)
    result = score_files([data], model, tmp_path / "out", options)
    out = pd.read_parquet(tmp_path / "out")
    risky = set(out.loc[out["risk"] >= cut, "id"])
    assert 0 < len(risky) < len(out)
    engine = create_engine(url)
    with engine.connect() as conn:
        items = dict(conn.execute(text("select post_id, author from items")).all())
    assert set(items) == risky and result.manifest["counts"]["enqueued"] == len(risky)
    assert items[next(iter(risky))].startswith("user")  # passthrough columns reach the queue
    score_files([data], model, tmp_path / "out", ScoreOptions(**{**options.__dict__, "resume": False}))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from items")).scalar() == len(risky)
        assert conn.execute(text("select count(*) from predictions")).scalar() == len(risky)
