"""``pantau prepare`` end to end: splits, report, rejects, no leakage, nothing silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pantau.cli import app
from pantau.config import load_settings
from pantau.data.prepare import overlap_between_splits, prepare
from pantau.labels import LABEL_KEYS


def _sample(path: Path, n: int = 120) -> None:
    rows = []
    topics = ["macet", "banjir", "bola", "kopi", "pilpres", "harga", "ojol", "kampus"]
    for i in range(n):
        hs = int(i % 3 == 0)
        rows.append({
            "id": f"s{i:04d}", "text": f"postingan {topics[i % 8]} nomor {i} {'kadrun' if hs else 'aman'} {i * 7}",
            "hate_speech": hs, "abusive": int(i % 5 == 0), "divisive_label": hs, "incitement": int(i % 11 == 0),
            "hs_target": "group" if hs else "", "hs_category": "other" if hs else "",
            "hs_strength": "moderate" if hs else "", "kind": "use" if hs else "neutral",
        })
    rows.append({**rows[0], "id": "dup"})  # a near duplicate of s0000 with another id
    rows.append({**rows[1], "id": "bad", "abusive": "mungkin"})  # invalid label
    pd.DataFrame(rows).to_csv(path, index=False)


def _params(tmp_path: Path, sources: str) -> Path:
    params = tmp_path / "params.yaml"
    params.write_text(f"data:\n  sources:\n{sources}\n  processed_dir: out\n", encoding="utf-8")
    return params


def test_prepare_writes_splits_report_and_rejects(tmp_path: Path) -> None:
    _sample(tmp_path / "labelled.csv")
    params = _params(tmp_path, "    - {name: sample, kind: sample, path: labelled.csv}")
    result = prepare(load_settings(params))
    rows = result.report["rows"]
    assert rows == {"read": 122, "rejected": 1, "loaded": 121, "removed_as_duplicates": 1, "kept": 120,
                    "accounted": True}
    frames = {name: pd.read_parquet(p) for name, p in result.paths.items()}
    assert sum(len(f) for f in frames.values()) == 120
    assert overlap_between_splits(result.paths) == 0
    assert set(LABEL_KEYS) <= set(frames["train"].columns)
    report = json.loads(result.report_path.read_text())
    assert report["splits"]["test"]["labels"]["hate_speech"]["positive"] > 0
    assert "invalid label" in result.rejects_path.read_text()


def test_prepare_cli_reports_and_fails_clearly(tmp_path: Path) -> None:
    _sample(tmp_path / "labelled.csv")
    runner = CliRunner()
    params = _params(tmp_path, "    - {name: sample, kind: sample, path: labelled.csv}")
    ok = runner.invoke(app, ["--params", str(params), "prepare"])
    assert ok.exit_code == 0, ok.output
    assert "read 122 rows, rejected 1" in ok.output
    missing = _params(tmp_path, "    - {name: x, kind: sample, path: nowhere.csv}")
    bad = runner.invoke(app, ["--params", str(missing), "prepare"])
    assert bad.exit_code == 1 and "does not exist" in bad.output


@pytest.mark.realdata
@pytest.mark.slow
def test_prepare_on_ibrohim_has_zero_leakage(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "ibrohim2019" / "re_dataset.csv"
    params = _params(tmp_path, f"    - {{name: ibrohim2019, kind: ibrohim2019, path: {src}}}")
    result = prepare(load_settings(params))
    rows = result.report["rows"]
    assert rows["read"] == 13_169 and rows["accounted"]
    assert rows["read"] == rows["rejected"] + rows["kept"] + rows["removed_as_duplicates"]
    assert result.report["dedup"]["exact_duplicates"] >= 100 and result.report["dedup"]["conflicts"] > 0
    assert overlap_between_splits(result.paths) == 0
    train = pd.read_parquet(result.paths["train"])
    assert train["divisive_label"].isna().all() and train["hate_speech"].notna().all()
