"""``--engine ray``: Ray Data in local mode produces what the local engine produces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.posts import write_posts
from support.tiny_models import build_tiny_transformer

from pantau.labels import LABEL_KEYS
from pantau.scoring.local import REJECTS_FILE, ResumeMismatch, ScoreOptions, score_files

pytestmark = pytest.mark.slow


def test_ray_engine_matches_the_local_engine(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from pantau.scoring.ray import score_files_ray

    model = build_tiny_transformer(tmp_path / "model", max_length=16)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    good = write_posts(first, 120, bad_every=30, seed=2)
    pd.DataFrame({"id": ["x1", "x2"], "text": ["dasar kadrun", "selamat pagi"], "other": ["1", "2"]}).to_csv(
        second, index=False
    )
    options = ScoreOptions(chunk_rows=50, stride=4, threads=1)
    local = score_files([first, second], model, tmp_path / "local", options)
    try:
        result = score_files_ray(
            [first, second], model, tmp_path / "ray", options, actors=1, ray_init={"num_cpus": 2}
        )
        with pytest.raises(ResumeMismatch, match="no-resume"):
            score_files_ray([first], model, tmp_path / "ray", options)
    finally:
        ray.shutdown()
    a = pd.read_parquet(tmp_path / "local").set_index("id").sort_index()
    b = pd.read_parquet(tmp_path / "ray").set_index("id").sort_index()
    assert set(b.index) == good | {"x1", "x2"}
    assert list(b.columns) == list(a.columns)
    probs = [f"prob_{k}" for k in LABEL_KEYS]
    np.testing.assert_allclose(b[probs].to_numpy(), a[probs].to_numpy(), atol=1e-6)
    assert (b["spans"] == a["spans"]).all() and (b["windows"] == a["windows"]).all()
    assert result.manifest["counts"]["read"] == local.manifest["counts"]["read"] == 122
    assert result.manifest["counts"]["scored"] == len(b)
    assert (
        len(pd.read_csv(tmp_path / "ray" / REJECTS_FILE))
        == result.manifest["counts"]["rejected"]
        == 120 - len(good)
    )


def test_both_engines_write_the_same_manifest_with_the_queue_count(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from pantau.scoring.ray import score_files_ray

    model = build_tiny_transformer(tmp_path / "model", max_length=16)
    data = tmp_path / "posts.csv"
    write_posts(data, 90, bad_every=30, seed=3)

    def options(db: str) -> ScoreOptions:
        # Threshold 0: every scored post is queued, so "enqueued" must equal "scored" on both engines.
        return ScoreOptions(chunk_rows=40, stride=4, threads=1, risk_threshold=0.0,
                            queue_url=f"sqlite:///{tmp_path / db}")

    local = score_files([data], model, tmp_path / "local", options("local.db")).manifest
    try:
        remote = score_files_ray(
            [data], model, tmp_path / "ray", options("ray.db"), actors=1, ray_init={"num_cpus": 2}
        ).manifest
    finally:
        ray.shutdown()
    assert list(remote) == list(local)
    assert (local["engine"], remote["engine"]) == ("local", "ray") and remote["workers"] == 1
    assert remote["counts"] == local["counts"] and local["counts"]["enqueued"] == local["counts"]["scored"] > 0
    assert remote["attempts"] == local["attempts"] == 1
    for key in ("model", "queue", "fingerprint", "int8_verified_in_fp32"):
        assert remote[key] == local[key], key
    settings = {k: v for k, v in local["settings"].items()}
    assert remote["settings"] == settings and "queue_url" not in settings
    assert [{**e, "path": Path(e["path"]).name} for e in remote["inputs"]] == [
        {**e, "path": Path(e["path"]).name} for e in local["inputs"]
    ]


def test_no_resume_deletes_only_the_runs_own_files(tmp_path: Path) -> None:
    from pantau.scoring.ray import _own_files

    out = tmp_path / "out"
    out.mkdir()
    mine = ["_manifest.json", "_rejects.csv", "_rejects-00001.csv", "_read-00000.json", "_actor-ab.json",
            "part-00003.parquet", "part-ray-w1-000000-000000.parquet"]
    theirs = ["notes.parquet", "_SUCCESS", "_metadata", "readme.txt", "_run.lock"]
    for name in mine + theirs:
        (out / name).write_text("x")
    assert sorted(p.name for p in _own_files(out)) == sorted(mine)


def test_two_concurrent_ray_runs_on_one_out_the_second_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import json
    import os
    import subprocess
    import sys
    import time

    model = build_tiny_transformer(tmp_path / "model", max_length=16)
    first_input, second_input = tmp_path / "a.csv", tmp_path / "b.csv"
    good = write_posts(first_input, 200, seed=4)
    write_posts(second_input, 50, seed=5)
    params = tmp_path / "params.yaml"
    params.write_text("score: {max_length: 16, stride: 4}\n", encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def run(data: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pantau.cli", "--params", str(params), "score", str(data), "--model", str(model),
             "--out", str(out), "--engine", "ray", "--quiet", "--threads", "1"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    first = run(first_input)
    deadline = time.monotonic() + 120
    lock = out / "_run.lock"
    # The first run holds the lock (its PID in the file) for the whole Ray run.
    while not (lock.exists() and f'"pid": {first.pid}' in lock.read_text()):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.05)
    second = run(second_input)
    output, _ = second.communicate(timeout=300)
    assert first.poll() is None, "the first run ended before the second was refused; the test proved nothing"
    assert second.returncode == 2, output
    assert f"in use by another pantau score run (PID {first.pid} on " in output
    first_output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, first_output
    scored = pd.read_parquet(out)
    assert set(scored["id"]) == good  # the first run's results, whole; nothing of the second
    assert json.loads((out / "_manifest.json").read_text())["counts"]["read"] == 200


def test_ray_keeps_ids_unique_across_files_as_the_local_engine_does(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from support.posts import write_bad_posts

    from pantau.scoring.ray import score_files_ray

    model = build_tiny_transformer(tmp_path / "model", max_length=16)
    a, b = tmp_path / "a.csv", tmp_path / "b.jsonl"
    good_a, rows_a = write_bad_posts(a, 60, seed=1)
    good_b, rows_b = write_bad_posts(b, 40, seed=2, shared_ids=sorted(good_a)[:5])
    inputs = [a, b, a]  # ids shared between files, and one file passed twice
    options = ScoreOptions(chunk_rows=20, stride=4, threads=1)
    local = score_files(inputs, model, tmp_path / "local", options)
    try:
        result = score_files_ray(inputs, model, tmp_path / "ray", options, actors=2, ray_init={"num_cpus": 2})
    finally:
        ray.shutdown()
    scored = pd.read_parquet(tmp_path / "ray")
    assert len(scored) == scored["id"].nunique() == len(good_a | good_b)
    assert set(scored["id"]) == set(pd.read_parquet(tmp_path / "local")["id"])

    def rejects(out: Path) -> pd.DataFrame:
        frame = pd.read_csv(out / REJECTS_FILE, dtype=str, keep_default_na=False)
        return frame.sort_values(["source", "row"], key=lambda c: c.str.zfill(12)).reset_index(drop=True)

    ray_rejects, local_rejects = rejects(tmp_path / "ray"), rejects(tmp_path / "local")
    # The same rows rejected for the same reasons: the first copy in input order wins in both engines.
    pd.testing.assert_frame_equal(ray_rejects, local_rejects)
    assert ray_rejects["reason"].str.startswith("duplicate id: ").sum() >= 5 + len(good_a)
    assert result.manifest["counts"] == local.manifest["counts"]
    assert result.manifest["counts"]["read"] == 2 * rows_a + rows_b
