"""`pantau train / evaluate / promote` end to end on a tiny prepared corpus, with a real MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.training_data import tiny_splits, write_splits
from typer.testing import CliRunner

from pantau.cli import app
from pantau.model.layout import HEAD_FILE
from pantau.model.meta import load_meta
from pantau.training.run import experiment_overrides

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    write_splits(tmp_path / "data" / "processed", tiny_splits(90, 45, 40))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"]["tracking_uri"] = "sqlite:///experiments/mlflow.db"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


def test_experiment_configs_are_valid_overrides() -> None:
    from pantau.config import load_settings

    for path in sorted((REPO / "experiments").glob("*.yaml")):
        settings = load_settings(REPO / "params.yaml", overrides=experiment_overrides(path))
        assert settings.train.kind in ("transformer", "baseline", "ensemble"), path
    baseline = load_settings(REPO / "params.yaml", overrides=experiment_overrides(REPO / "experiments/baseline.yaml"))
    assert baseline.train.kind == "baseline" and baseline.model.out_dir == "models/pantau-baseline"
    # Keys the experiment does not mention keep their params.yaml values.
    assert baseline.train.seed == load_settings(REPO / "params.yaml").train.seed


@pytest.mark.slow
def test_train_evaluate_promote_baseline(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    runner = CliRunner()
    res = runner.invoke(app, ["--set", "model.out_dir=models/base-line", "train",
                              "--experiment", str(REPO / "experiments/baseline.yaml")])
    assert res.exit_code == 0, res.output
    folder = workspace / "models" / "base-line"
    meta = load_meta(folder)
    assert meta.kind == "baseline" and meta.version == "1" and meta.run_id
    assert meta.preprocessing.startswith("classic/")
    assert (workspace / "experiments" / "mlflow.db").exists()

    res = runner.invoke(app, ["evaluate", "--model", str(folder)])
    assert res.exit_code == 0, res.output
    metrics = json.loads((workspace / "data/processed/eval/metrics.json").read_text())
    assert set(metrics) == {"labels", "macro_f1"} and metrics["macro_f1"] is not None

    res = runner.invoke(app, ["promote"])
    assert res.exit_code == 0, res.output
    assert "v1 is @champion" in res.output
    res = runner.invoke(app, ["evaluate", "--model", "models:/pantau-classifier@champion", "--split", "val",
                              "--out", "eval-val"])
    assert res.exit_code == 0, res.output
    assert (workspace / "eval-val" / "slices.json").exists()

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace}/experiments/mlflow.db")
    run = client.get_run(meta.run_id)
    assert "test_macro_f1" in run.data.metrics and "val_macro_f1" in run.data.metrics
    assert run.data.params["train.kind"] == "baseline"
    # A meaningful, unique run name: recipe · data · time.
    assert run.info.run_name.startswith("baseline · sample+twitter 90 rows · 20"), run.info.run_name

    # The model card says what the model was really trained on and how it did on the test split.
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "| `twitter` | as configured in data.sources |" in card and "| all | | 90 | 45 | 40 |" in card
    assert "Trained on `twitter` and our written sample" in card
    assert "## Test figures (held-out test split, 40 posts)" in card and "ROC-AUC" in card
    assert "public Indonesian Twitter corpora" not in card


@pytest.mark.slow
def test_promote_refuses_a_worse_challenger(workspace: Path, tiny_base_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--kind", "baseline"]).exit_code == 0
    assert runner.invoke(app, ["promote"]).exit_code == 0  # no champion yet: v1 becomes it
    # An untrained tiny transformer (learning rate ~0) is the worse challenger.
    res = runner.invoke(app, ["--set", f"model.base={tiny_base_dir}", "--set", "train.learning_rate=1e-9",
                              "--set", "train.epochs=1", "--set", "train.threads=1", "train", "--kind", "transformer"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["promote"])
    assert res.exit_code == 1, res.output
    assert "refused" in res.output and "@champion v1 vs challenger v2" in res.output
    assert "macro" in res.output and "ΔF1" in res.output
    from pantau.model.registry import aliases

    uri = f"sqlite:///{workspace}/experiments/mlflow.db"
    assert aliases(tracking_uri=uri) == {"champion": "1", "challenger": "2"}
    res = runner.invoke(app, ["promote", "--force"])
    assert res.exit_code == 0, res.output
    assert aliases(tracking_uri=uri)["champion"] == "2"
    # Promoting the better one back is not refused.
    res = runner.invoke(app, ["promote", "--version", "1"])
    assert res.exit_code == 0 and "refused" not in res.output, res.output


@pytest.mark.slow
def test_evaluate_summary_is_small_and_stable_keyed(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--kind", "baseline", "--no-track"]).exit_code == 0
    res = runner.invoke(app, ["evaluate", "--no-track", "--summary", "metrics/test.json"])
    assert res.exit_code == 0, res.output
    summary = json.loads((workspace / "metrics" / "test.json").read_text())
    assert list(summary) == ["rows", "macro_f1", "hate_speech", "abusive", "divisive_label", "incitement"]
    assert all(list(v) == ["f1", "roc_auc", "precision", "recall"] for k, v in summary.items()
               if isinstance(v, dict))
    assert summary["rows"] == 40 and len((workspace / "metrics" / "test.json").read_text()) < 1000


@pytest.mark.slow
def test_train_transformer_through_cli(workspace: Path, tiny_base_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    res = CliRunner().invoke(app, [
        "--set", "train.kind=transformer", "--set", f"model.base={tiny_base_dir}", "--set", "train.epochs=1",
        "--set", "train.batch_size=16", "--set", "train.learning_rate=1E-3", "--set", "train.threads=1",
        "train", "--no-track",
    ])
    assert res.exit_code == 0, res.output
    meta = load_meta(workspace / "models" / "pantau-classifier")
    assert meta.kind == "transformer" and meta.preprocessing.startswith("transformer/") and meta.version == ""
    assert not (workspace / "experiments" / "mlflow.db").exists()
    # A second run replaces the folder whole; no temporary folders are left beside it.
    res = CliRunner().invoke(app, ["--set", "train.kind=baseline", "train", "--no-track"])
    assert res.exit_code == 0, res.output
    assert load_meta(workspace / "models" / "pantau-classifier").kind == "baseline"
    assert not (workspace / "models" / "pantau-classifier" / HEAD_FILE).exists()
    assert sorted(p.name for p in (workspace / "models").iterdir()) == ["pantau-classifier"]


def test_train_without_splits_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["train", "--kind", "baseline", "--no-track"])
    assert res.exit_code == 1
    assert "pantau prepare" in res.output
