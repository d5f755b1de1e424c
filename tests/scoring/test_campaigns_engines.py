"""Campaigns across engines and restarts (issue 18 §2): a Ray run assigns the campaigns a local run assigns,
and a run killed around its campaign commit resumes without counting a post twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from support.campaign_posts import DISTINCT, VARIANTS
from support.tiny_models import build_tiny_transformer

from pantau.config import CampaignSettings
from pantau.queue import open_queue
from pantau.queue.models import CampaignRow, Item
from pantau.scoring.campaigns import INDEX_FILE, PENDING_INDEX, PENDING_SUMMARY, SUMMARY_FILE, RunPosts
from pantau.scoring.local import ScoreError, ScoreOptions, score_files

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("fault_driver.py")
CAMPAIGNS = CampaignSettings(enabled=True, min_accounts=3, min_tokens=3, threshold=0.5)
SECOND = ("Tolak hasil hitung cepat lembaga survei bayaran mereka semua bohong kawal suara sampai "
          "tingkat kecamatan")
SECOND_VARIANTS = [SECOND, SECOND + " 😡😡", "@pantau_tps " + SECOND, SECOND.replace("semua", "semuanya"),
                   "RT @kawal: " + SECOND + " #KawalSuara", SECOND.lower() + " https://t.co/a1b2"]
START = dt.datetime(2024, 2, 14, 6, tzinfo=dt.UTC)
VOCABULARY = sorted({w.lower() for t in DISTINCT[1:] for w in t.split()})  # ordinary posts: random words


def planted_posts(path: Path, n: int = 100, seed: int = 3) -> Path:
    """``n`` posts, ten minutes apart: two messages pushed by several buzzer accounts (variants), one account
    repeating a third message on its own (no campaign), and ordinary posts from one account each."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if i % 5 == 0:
            text, author = rng.choice(VARIANTS), f"@buzzer{rng.randrange(6)}"
        elif i % 7 == 0:
            text, author = rng.choice(SECOND_VARIANTS), f"@relawan{rng.randrange(4)}"
        elif i % 13 == 0:
            text, author = DISTINCT[0] + " " + "!" * rng.randint(1, 3), "@sendiri"
        else:
            text, author = " ".join(rng.sample(VOCABULARY, 10)), f"@warga{i}"
        rows.append({"id": f"p{i:03d}", "text": text, "author": author,
                     "created_at": (START + dt.timedelta(minutes=10 * i)).isoformat()})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


def untokened(out: Path) -> dict[str, Any]:
    """A run folder's campaign results without its run token (keys are ``<token>-<index id>``)."""
    summary = json.loads((out / SUMMARY_FILE).read_text())
    cut = len(summary["token"]) + 1
    parts = pd.read_parquet(out).set_index("id").sort_index()
    return {
        "parts": {i: (c[cut:] if isinstance(c, str) else None) for i, c in parts["campaign_id"].items()},
        "campaigns": {k[cut:]: sorted(v["post_ids"]) for k, v in summary["campaigns"].items()},
        "counts": summary["counts"],
    }


def queue_links(url: str) -> dict[str, str | None]:
    """Post id → its queue item's campaign key, without the run token."""
    engine = open_queue(url)
    with engine.connect() as conn:
        keys = {r.id: r.key.split("-", 1)[1] for r in conn.execute(select(CampaignRow)).all()}
        links = {r.post_id: keys.get(r.campaign_id) for r in conn.execute(select(Item)).all()}
    engine.dispose()
    return links


def test_ray_engine_assigns_the_same_campaigns_as_the_local_engine(tmp_path: Path, model: Path) -> None:
    ray = pytest.importorskip("ray")
    from pantau.scoring.ray import _assign_in_driver, score_files_ray

    whole = pd.read_csv(planted_posts(tmp_path / "posts.csv", n=320))
    # two inputs, a long one and a short one, so two actors score at once and the short one's rows are ready
    # first: only the kept input order makes the driver see them after the long one's
    data = [tmp_path / "a.csv", tmp_path / "b.csv"]
    whole[:300].to_csv(data[0], index=False)
    whole[300:].to_csv(data[1], index=False)

    def options(db: str) -> ScoreOptions:
        # chunk_rows 7 against the actors' batches of 32: the driver regroups rows into the reader's chunks
        return ScoreOptions(chunk_rows=7, stride=4, threads=1, campaigns=CAMPAIGNS, risk_threshold=0.0,
                            queue_url=f"sqlite:///{tmp_path / db}")

    local = score_files(data, model, tmp_path / "local", options("local.db")).manifest
    try:
        remote = score_files_ray(data, model, tmp_path / "ray", options("ray.db"), actors=2,
                                 ray_init={"num_cpus": 2}).manifest
        # Rows arriving out of input order (the second file's chunk first) stop the driver, not mislead it.
        reordered = ray.data.from_pandas([pd.DataFrame({"_chunk": [1 << 32]}), pd.DataFrame({"_chunk": [0]})])
        with pytest.raises(ScoreError, match="out of input order"):
            _assign_in_driver(reordered, tmp_path / "never", RunPosts(tmp_path, CAMPAIGNS, parts=0), None)
    finally:
        ray.shutdown()
    expected, got = untokened(tmp_path / "local"), untokened(tmp_path / "ray")
    assert got == expected
    # the planted input does what it was planted for: both messages found, the lone account not
    assert len(expected["campaigns"]) == 2
    members = set().union(*expected["campaigns"].values())
    assert {f"p{i:03d}" for i in range(0, 320, 5)} <= members and "p013" not in members
    assert remote["posts"] == local["posts"] and remote["posts"]["campaigns"]["found"] == 2
    assert remote["counts"] == local["counts"]
    assert remote["parts"] == local["parts"] == 43 + 3  # one part per chunk of 7 posts or fewer, per file
    assert queue_links(f"sqlite:///{tmp_path}/ray.db") == queue_links(f"sqlite:///{tmp_path}/local.db")
    assert (tmp_path / "ray" / INDEX_FILE).exists()
    assert not any((tmp_path / "ray" / name).exists() for name in (PENDING_INDEX, PENDING_SUMMARY))
    a = pd.read_parquet(tmp_path / "local")
    b = pd.read_parquet(tmp_path / "ray")
    assert list(b.columns) == list(a.columns) and "_chunk" not in b.columns


# Deaths around the campaign commit of the second chunk (20 posts a chunk): the pending files written but
# no checkpoint; the checkpoint saved but nothing published; half published (the index, not the summary).
POINTS = [("before:_checkpoint", 3), ("after:_checkpoint", 3), ("after:_campaigns.npz", 2),
          ("before:_campaigns.pending.json", 2)]


@pytest.mark.parametrize(("point", "nth"), POINTS, ids=[f"{p}#{n}" for p, n in POINTS])
def test_a_run_killed_around_its_campaign_commit_resumes_counting_each_post_once(
    tmp_path: Path, model: Path, point: str, nth: int
) -> None:
    data = planted_posts(tmp_path / "posts.csv")
    opts = ScoreOptions(chunk_rows=20, stride=4, threads=1, campaigns=CAMPAIGNS)  # as the driver runs it
    whole = score_files([data], model, tmp_path / "whole", opts).manifest
    out = tmp_path / "out"
    settings = json.dumps(dataclasses.asdict(CAMPAIGNS))
    proc = subprocess.run(
        [sys.executable, str(DRIVER), "--campaigns", settings, point, str(nth), str(model), str(out),
         str(data)],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == -9, proc.stdout + proc.stderr  # it died where it was told to
    resumed = score_files([data], model, out, opts).manifest
    assert resumed["attempts"] == 2
    # the replayed chunk's posts counted once
    assert resumed["posts"]["counts"]["posts"] == resumed["counts"]["scored"] == 100
    assert resumed["posts"] == whole["posts"]
    assert untokened(out) == untokened(tmp_path / "whole")
    assert not any((out / name).exists() for name in (PENDING_INDEX, PENDING_SUMMARY))
