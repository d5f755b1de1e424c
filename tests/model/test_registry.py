"""MLflow registry on a real sqlite store: log, register as challenger, promote, resolve for scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.tiny_models import build_tiny_transformer

from pantau.model.classifier import Classifier
from pantau.model.meta import load_meta
from pantau.model.registry import (
    RegistryError,
    aliases,
    log_training,
    promote,
    resolve_model_uri,
    tracking_uri_for,
)


@pytest.fixture()
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'experiments' / 'mlflow.db'}"


def test_tracking_uri_for_resolves_relative_sqlite(tmp_path: Path) -> None:
    assert tracking_uri_for("sqlite:///experiments/mlflow.db", tmp_path) == f"sqlite:///{tmp_path}/experiments/mlflow.db"
    assert tracking_uri_for("sqlite:////abs/x.db", tmp_path) == "sqlite:////abs/x.db"
    assert tracking_uri_for("http://mlflow:5000", tmp_path) == "http://mlflow:5000"


def test_log_register_promote_resolve(tmp_path: Path, store: str) -> None:
    from mlflow import MlflowClient

    folder = build_tiny_transformer(tmp_path / "m1")
    report = tmp_path / "report.json"
    report.write_text('{"rows": 3}')
    history = [{"epoch": 1.0, "loss": 0.9, "eval_macro_f1": 0.4}, {"epoch": 2.0, "loss": 0.7, "eval_macro_f1": 0.5}]
    first = log_training(folder, params={"train": {"epochs": 2, "learning_rate": 1e-3}}, history=history,
                         metrics={"val_macro_f1": 0.5, "nan_is_skipped": float("nan")},
                         artifacts={"data": report, "missing": tmp_path / "nope.json"}, tracking_uri=store)
    assert first.version == "1"
    meta = load_meta(folder)
    assert meta.version == "1" and meta.run_id == first.run_id and meta.name == "pantau-classifier"

    client = MlflowClient(tracking_uri=store)
    run = client.get_run(first.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == "2" and run.data.params["preprocessing"] == "none"
    assert [m.value for m in client.get_metric_history(first.run_id, "eval_macro_f1")] == [0.4, 0.5]
    assert [m.step for m in client.get_metric_history(first.run_id, "loss")] == [1, 2]
    assert "nan_is_skipped" not in run.data.metrics
    names = {a.path for a in client.list_artifacts(first.run_id)}
    assert {"data", "model"} <= names
    # Artifacts live beside the database, not in the working directory.
    assert (tmp_path / "experiments" / "mlartifacts").is_dir()
    assert aliases(tracking_uri=store) == {"challenger": "1"}

    with pytest.raises(RegistryError, match="champion"):
        resolve_model_uri("models:/pantau-classifier@champion", tracking_uri=store)
    assert promote(tracking_uri=store) == "1"

    second = log_training(build_tiny_transformer(tmp_path / "m2", seed=1), params={}, tracking_uri=store)
    assert second.version == "2"
    assert aliases(tracking_uri=store) == {"challenger": "2", "champion": "1"}

    champion = resolve_model_uri("models:/pantau-classifier@champion", tracking_uri=store)
    challenger = resolve_model_uri("models:/pantau-classifier/2", tracking_uri=store)
    assert load_meta(champion).version == "1" and load_meta(challenger).version == "2"
    texts = ["dasar cebong", "selamat pagi"]
    a = Classifier.load(champion, stride=4).predict_proba(texts)
    b = Classifier.load(folder, stride=4).predict_proba(texts)
    np.testing.assert_allclose(a, b)

    assert promote(version=2, tracking_uri=store) == "2"
    assert aliases(tracking_uri=store)["champion"] == "2"
    with pytest.raises(RegistryError, match="version 9"):
        promote(version=9, tracking_uri=store)


def test_resolve_rejects_bad_uris(store: str) -> None:
    with pytest.raises(RegistryError, match="not a model URI"):
        resolve_model_uri("models:/", tracking_uri=store)
    with pytest.raises(RegistryError, match="not found"):
        resolve_model_uri("models:/nothing@champion", tracking_uri=store)
    with pytest.raises(RegistryError, match="pantau train"):
        promote(tracking_uri=store)
