"""Campaigns across restarts (issue 18 §2): a run killed around its campaign commit resumes without
counting a post twice."""

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
from pantau.scoring.campaigns import PENDING_INDEX, PENDING_SUMMARY, SUMMARY_FILE
from pantau.scoring.local import ScoreOptions, score_files

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
