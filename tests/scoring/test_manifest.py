"""``_manifest.json`` from the one builder: the documented keys with real values (Ray parity: test_ray.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.posts import write_posts
from support.tiny_models import build_tiny_transformer

from pantau.scoring.local import ScoreOptions, score_files

KEYS = [
    "status", "engine", "workers", "counts", "started_at", "finished_at", "attempts", "duration_s",
    "posts_per_s", "parts", "int8_verified_in_fp32", "cascade", "inputs", "model", "settings", "queue", "fingerprint",
    "posts",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


def test_local_manifest_has_the_documented_keys_and_settings(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 30, bad_every=10)
    url = f"sqlite:///{tmp_path / 'q.db'}"
    options = ScoreOptions(chunk_rows=20, stride=4, queue_url=url, risk_threshold=0.0)
    manifest = score_files([data], model, tmp_path / "out", options).manifest
    assert list(manifest) == KEYS
    assert (manifest["engine"], manifest["workers"], manifest["attempts"]) == ("local", 1, 1)
    assert manifest["counts"]["enqueued"] == manifest["counts"]["scored"] == 27
    assert manifest["settings"]["chunk_rows"] == 20 and "queue_url" not in manifest["settings"]
    assert manifest["queue"] == {"enabled": True, "risk_threshold": 0.0}
    assert manifest["inputs"][0]["done"] and manifest["inputs"][0]["rejected"] == 3
