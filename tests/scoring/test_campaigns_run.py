"""``pantau score`` with accounts and campaigns (issue 18 §1–2): author/url/created_at in the parts and the
queue, a renamed author column, the manifest saying what is missing, campaign ids in the parts and the queue,
and a stopped run resuming with the same campaign index."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from support.tiny_models import build_tiny_transformer

from pantau.config import CampaignSettings
from pantau.queue import open_queue
from pantau.queue.models import CampaignRow, Item
from pantau.scoring.campaigns import INDEX_FILE, SUMMARY_FILE
from pantau.scoring.local import ScoreOptions, score_files

PUSHED = "ayo semua kita kepung kantor mereka besok pagi jangan sampai lolos"
OTHER = [
    "cuaca hari ini cerah sekali di bandung",
    "harga cabai di pasar naik lagi minggu ini",
    "timnas main bagus tadi malam walau kalah",
    "macet parah di tol cikampek sejak subuh tadi",
    "resep rendang padang yang enak dan mudah dibuat",
    "jadwal kereta ke yogyakarta berubah mulai bulan depan",
]
CAMPAIGNS = CampaignSettings(enabled=True, min_accounts=3, min_tokens=3, threshold=0.5)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


def posts_csv(path: Path, *, author_column: str = "author", times: bool = True) -> Path:
    rows = []
    for i in range(12):  # one message pushed by six accounts, interleaved with ordinary posts
        pushed = i % 2 == 0
        row = {
            "id": f"p{i}",
            "text": f"{PUSHED} {'!' * (i % 3)}" if pushed else OTHER[i // 2],
            author_column: f"@akun{i}",
            "url": f"https://x.test/{i}",
        }
        if times:
            row["created_at"] = f"2024-02-0{1 + i // 6}T0{i % 6}:00:00Z"
        rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_accounts_and_campaigns_reach_parts_queue_and_manifest(tmp_path: Path, model: Path) -> None:
    data = posts_csv(tmp_path / "posts.csv", author_column="akun")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    opts = ScoreOptions(chunk_rows=4, stride=4, author_column="akun", campaigns=CAMPAIGNS, queue_url=url,
                        risk_threshold=0.0)
    result = score_files([data], model, tmp_path / "out", opts)
    parts = pd.read_parquet(tmp_path / "out")
    assert {"author", "url", "created_at", "campaign_id"} <= set(parts.columns)
    row = parts.set_index("id").loc["p4"]
    assert (row["author"], row["url"], row["created_at"]) == ("@akun4", "https://x.test/4", "2024-02-01T04:00:00Z")
    # p0 and p2 were scored before the third account joined: their parts say none, the queue links them
    assert parts.set_index("id").loc["p4", "campaign_id"] is not None
    assert (tmp_path / "out" / INDEX_FILE).exists()
    summary = json.loads((tmp_path / "out" / SUMMARY_FILE).read_text())
    (key,) = summary["campaigns"]
    assert sorted(summary["campaigns"][key]["post_ids"]) == [f"p{i}" for i in (0, 10, 2, 4, 6, 8)]
    posts = result.manifest["posts"]
    assert posts["counts"]["without_author"] == 0 and posts["missing"] == []
    assert posts["campaigns"]["enabled"] and posts["campaigns"]["found"] == 1
    engine = open_queue(url)
    with engine.connect() as conn:
        (campaign,) = conn.execute(select(CampaignRow)).all()
        items = {r.post_id: r for r in conn.execute(select(Item)).all()}
    assert campaign.key == key and len(campaign.accounts) == 6
    assert {p for p, r in items.items() if r.campaign_id == campaign.id} == {f"p{i}" for i in range(0, 12, 2)}
    assert items["p3"].author == "@akun3" and items["p3"].url == "https://x.test/3"
    assert items["p3"].created_at is not None and items["p3"].campaign_id is None
    engine.dispose()


def test_missing_accounts_and_times_are_said_in_the_manifest(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["satu dua tiga empat", "lima enam tujuh"]}).to_csv(data, index=False)
    result = score_files([data], model, tmp_path / "out", ScoreOptions(stride=4))
    missing = " ".join(result.manifest["posts"]["missing"])
    assert "accounts unknown: 2 of 2" in missing and "posting times unknown: 2 of 2" in missing
    assert result.manifest["posts"]["campaigns"] == {"enabled": False}
    assert pd.read_parquet(tmp_path / "out")["author"].isna().all()  # the column is there, empty


def test_a_resumed_run_continues_the_same_index(tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = posts_csv(tmp_path / "posts.csv")
    opts = ScoreOptions(chunk_rows=4, stride=4, campaigns=CAMPAIGNS)
    whole = score_files([data], model, tmp_path / "whole", opts)
    from pantau.scoring import local

    real, calls = local.write_parquet_atomic, []

    def crash_on_third(frame: pd.DataFrame, path: Path) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        real(frame, path)

    monkeypatch.setattr(local, "write_parquet_atomic", crash_on_third)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        score_files([data], model, out, opts)
    token = json.loads((out / SUMMARY_FILE).read_text())["token"]
    monkeypatch.setattr(local, "write_parquet_atomic", real)
    resumed = score_files([data], model, out, opts)
    assert json.loads((out / SUMMARY_FILE).read_text())["token"] == token  # the same index, continued
    ids = pd.read_parquet(out).set_index("id")["campaign_id"].fillna("")
    expected = pd.read_parquet(tmp_path / "whole").set_index("id")["campaign_id"].fillna("")
    assert (ids != "").sum() == (expected != "").sum() == 4  # p4 … p10: the third account joined with p4
    assert all(v.startswith(token) for v in ids if v)
    assert resumed.manifest["posts"]["campaigns"]["found"] == whole.manifest["posts"]["campaigns"]["found"] == 1
