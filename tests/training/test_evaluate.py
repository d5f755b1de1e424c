"""Evaluation: exact metric values on hand-made scores, and a full run on a real tiny model folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.tiny_models import build_tiny_transformer
from support.training_data import tiny_frame

from pantau.labels import LABEL_KEYS
from pantau.training.evaluate import (
    METRIC_KEYS,
    evaluate_model,
    evaluate_predictions,
    label_metrics,
    plot_history,
    slice_metrics,
    term_presence,
)


def test_label_metrics_exact_values_and_masking() -> None:
    probs = np.array([0.9, 0.8, 0.3, 0.6, 0.1, 0.99])
    y = np.array([1, 0, 1, 0, 0, np.nan])
    m = label_metrics(probs, y, 0.5)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.4)
    assert m["n"] == 5 and m["positives"] == 2 and m["flag_rate"] == pytest.approx(0.6)
    assert 0 < m["pr_auc"] <= 1 and 0 <= m["ece"] <= 1 and m["threshold"] == 0.5


def test_label_metrics_without_positives_are_null() -> None:
    m = label_metrics(np.array([0.2, 0.7]), np.array([0.0, 0.0]), 0.5)
    assert m["recall"] is None and m["f1"] is None and m["pr_auc"] is None
    assert m["precision"] == 0.0  # one false flag
    assert label_metrics(np.array([0.2]), np.array([np.nan]), 0.5)["n"] == 0


def test_evaluate_predictions_has_the_issue_shape() -> None:
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6]])
    y = np.array([[1, 0], [0, 1], [1, np.nan]])
    metrics = evaluate_predictions(probs, y, ("a", "b"), {"a": 0.5, "b": 0.5})
    assert set(metrics) == {"labels", "macro_f1"}
    assert all(set(v) == set(METRIC_KEYS) for v in metrics["labels"].values())
    assert metrics["macro_f1"] == 1.0
    json.dumps(metrics, allow_nan=False)  # strict JSON: no NaN anywhere


def test_slices_by_source_term_and_kind() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", "b", "c", "d"],
            "source": ["sample", "sample", "sample", "twitter"],
            "kind": ["mention", "literal", "use", ""],
            "divisive_label": [0.0, 0.0, 1.0, np.nan],
        }
    )
    probs = np.array([[0.9], [0.1], [0.8], [0.99]])
    s = slice_metrics(frame, probs, ("divisive_label",), {"divisive_label": 0.5},
                      has_term=np.array([True, True, True, False]))
    assert set(s["source"]) == {"sample", "twitter"} and s["source"]["twitter"]["labels"]["divisive_label"]["n"] == 0
    assert s["kind"]["use"]["labels"]["divisive_label"]["recall"] == 1.0
    assert s["mention_literal"] == {"n": 2, "divisive_label_flag_rate": 0.5}
    assert s["lexicon"]["term"]["n"] == 3 and s["lexicon"]["no_term"]["n"] == 1


def test_term_presence_uses_the_lexicon() -> None:
    assert term_presence(["dasar c3bong", "selamat pagi"]).tolist() == [True, False]


def test_evaluate_model_writes_reports(tmp_path: Path) -> None:
    folder = build_tiny_transformer(tmp_path / "model", max_length=32)
    frame = tiny_frame(40)
    result = evaluate_model(folder, frame, tmp_path / "eval", batch_size=16)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(metrics) == {"labels", "macro_f1"} and set(metrics["labels"]) == set(LABEL_KEYS)
    for values in metrics["labels"].values():
        assert set(values) == set(METRIC_KEYS) and values["threshold"] == 0.5
    slices = json.loads((tmp_path / "eval" / "slices.json").read_text())
    assert set(slices["source"]) == {"sample", "twitter"}
    assert slices["kind"] and slices["mention_literal"]["n"] == int(frame["kind"].isin(["mention", "literal"]).sum())
    for name in ("pr_curves.png", "reliability.png"):
        assert (tmp_path / "eval" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pred = pd.read_parquet(tmp_path / "eval" / "predictions.parquet")
    assert len(pred) == 40 and {f"p_{k}" for k in LABEL_KEYS} <= set(pred.columns)
    assert result.metrics == metrics


def test_plot_history(tmp_path: Path) -> None:
    assert plot_history([], tmp_path / "h.png") is None
    path = plot_history([{"epoch": 1.0, "loss": 1.0, "eval_macro_f1": 0.5}], tmp_path / "h.png")
    assert path is not None and path.stat().st_size > 1000
