"""``pantau evaluate``: score a labelled split with the Classifier and report how well each label works.

Outputs in ``out_dir``:

* ``metrics.json`` — exactly ``{"labels": {LABEL: {"precision", "recall", "f1", "pr_auc", "ece",
  "threshold"}}, "macro_f1": float}`` (null where a label has no annotated positives in the split);
* ``slices.json`` — the same per-label figures by source corpus, by whether a divisive term occurs
  (lexicon spans), and by post kind on our sample (mention / literal / use …), with flag rates;
* ``pr_curves.png``, ``reliability.png`` — one panel per label;
* ``predictions.parquet`` — id, text, source, kind, labels and probabilities (for error analysis).

Rows whose label is NaN (the source does not annotate it) are left out of that label's figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pantau.model.calibrate import expected_calibration_error, reliability_curve

METRIC_KEYS = ("precision", "recall", "f1", "pr_auc", "roc_auc", "ece", "threshold")
MENTION_KINDS = ("mention", "literal", "quote")


@dataclass(frozen=True)
class EvaluationResult:
    """The metrics written and where the files went."""

    metrics: dict[str, Any]
    slices: dict[str, Any]
    out_dir: Path
    files: dict[str, Path]


def _clean(value: Any) -> Any:
    """JSON-safe numbers: NaN/inf become null, numpy scalars plain floats."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def label_metrics(probs: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, Any]:
    """Precision, recall, F1, PR-AUC, ROC-AUC, ECE at ``threshold`` over annotated rows, counts, flag rate."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    known = ~np.isnan(y)
    p, t = probs[known], y[known]
    flags = p >= threshold
    tp = float((flags & (t == 1)).sum())
    n_flag, n_pos = float(flags.sum()), float(t.sum())
    out: dict[str, Any] = {
        "precision": tp / n_flag if n_flag else (None if n_pos == 0 else 0.0),
        "recall": tp / n_pos if n_pos else None,
        "f1": 2 * tp / (n_flag + n_pos) if n_pos else None,
        "pr_auc": float(average_precision_score(t, p)) if n_pos and n_pos < len(t) else None,
        # Ranking quality over all thresholds: what a triage queue sorted by risk depends on.
        "roc_auc": float(roc_auc_score(t, p)) if n_pos and n_pos < len(t) else None,
        "ece": expected_calibration_error(p, t) if len(t) else None,
        "threshold": float(threshold),
        "n": len(t),
        "positives": int(n_pos),
        "flag_rate": float(flags.mean()) if len(t) else None,
    }
    return _clean(out)


def evaluate_predictions(
    probs: np.ndarray, y: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]
) -> dict[str, Any]:
    """``{"labels": {label: the METRIC_KEYS}, "macro_f1": mean F1 over labels with positives}``."""
    per = {}
    for j, label in enumerate(labels):
        full = label_metrics(probs[:, j], y[:, j], thresholds[label])
        per[label] = {k: full[k] for k in METRIC_KEYS}
    f1s = [m["f1"] for m in per.values() if m["f1"] is not None]
    return {"labels": per, "macro_f1": float(np.mean(f1s)) if f1s else None}


def _group_metrics(probs: np.ndarray, y: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]) -> dict:
    per = {label: label_metrics(probs[:, j], y[:, j], thresholds[label]) for j, label in enumerate(labels)}
    f1s = [m["f1"] for m in per.values() if m["f1"] is not None]
    return {"n": len(probs), "labels": per, "macro_f1": float(np.mean(f1s)) if f1s else None}


def slice_metrics(
    frame: pd.DataFrame,
    probs: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    *,
    has_term: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-label metrics by ``source``, by divisive-term presence and by ``kind`` (where given).

    ``mention_literal`` summarises what the product promises about vocabulary: the share of posts that
    only mention a divisive label or use the word literally (an animal) that get ``divisive_label`` flagged.
    """
    y = frame[list(labels)].to_numpy(dtype=np.float64)
    out: dict[str, Any] = {"source": {}, "lexicon": {}, "kind": {}}
    for source in sorted(frame["source"].astype(str).unique()):
        sel = (frame["source"].astype(str) == source).to_numpy()
        out["source"][source] = _group_metrics(probs[sel], y[sel], labels, thresholds)
    if has_term is not None:
        for name, sel in (("term", has_term), ("no_term", ~has_term)):
            if sel.any():
                out["lexicon"][name] = _group_metrics(probs[sel], y[sel], labels, thresholds)
    kinds = frame["kind"].fillna("").astype(str) if "kind" in frame else pd.Series([""] * len(frame))
    for kind in sorted(k for k in kinds.unique() if k):
        sel = (kinds == kind).to_numpy()
        out["kind"][kind] = _group_metrics(probs[sel], y[sel], labels, thresholds)
    if "divisive_label" in labels:
        j = list(labels).index("divisive_label")
        sel = kinds.isin(MENTION_KINDS).to_numpy()
        out["mention_literal"] = {
            "n": int(sel.sum()),
            "divisive_label_flag_rate": float((probs[sel, j] >= thresholds["divisive_label"]).mean())
            if sel.any()
            else None,
        }
    return _clean(out)


def term_presence(texts: Sequence[str]) -> np.ndarray:
    """Whether each text contains a divisive-lexicon term (any spelling the lexicon recognises)."""
    from pantau.text import find_spans

    return np.array([bool(find_spans(t)) for t in texts], dtype=bool)


def plot_pr_curves(probs: np.ndarray, y: np.ndarray, labels: Sequence[str], thresholds: dict[str, float],
                   path: Path) -> Path:
    """Precision-recall curve per label with the operating threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 3.6), squeeze=False)
    for j, label in enumerate(labels):
        ax = axes[0, j]
        known = ~np.isnan(y[:, j])
        t, p = y[known, j], probs[known, j]
        ax.set_title(label)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        if t.sum() == 0 or t.sum() == len(t):
            ax.text(0.5, 0.5, "no positives/negatives", ha="center")
            continue
        precision, recall, _ = precision_recall_curve(t, p)
        ax.plot(recall, precision)
        flags = p >= thresholds[label]
        tp = (flags & (t == 1)).sum()
        ax.scatter([tp / t.sum()], [tp / max(flags.sum(), 1)], color="red", zorder=3,
                   label=f"threshold {thresholds[label]:.2f}")
        ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_reliability(probs: np.ndarray, y: np.ndarray, labels: Sequence[str], path: Path) -> Path:
    """Reliability diagram per label: observed positive rate against mean predicted probability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 3.6), squeeze=False)
    for j, label in enumerate(labels):
        ax = axes[0, j]
        conf, acc, count = reliability_curve(probs[:, j], y[:, j])
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
        if len(conf):
            ax.scatter(conf, acc, s=10 + 40 * count / count.max())
            ax.plot(conf, acc)
        ax.set_title(f"{label} (ECE {expected_calibration_error(probs[:, j], y[:, j]):.3f})")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed rate")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_history(history: list[dict[str, float]], path: Path) -> Path | None:
    """Training loss and validation macro-F1 per epoch (None when there is no history, e.g. baseline)."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(epochs, [h.get("loss", float("nan")) for h in history], label="train loss")
    ax.plot(epochs, [h.get("eval_loss", float("nan")) for h in history], label="val loss")
    ax.plot(epochs, [h.get("eval_macro_f1", float("nan")) for h in history], label="val macro-F1")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def evaluate_model(
    model: str | Path,
    frame: pd.DataFrame,
    out_dir: str | Path,
    *,
    batch_size: int = 64,
    lexicon: bool = True,
) -> EvaluationResult:
    """Score ``frame`` (a prepared split) with the model folder or ``models:/`` URI and write the reports."""
    from pantau.model.classifier import Classifier, resolve_source
    from pantau.model.meta import load_meta
    from pantau.training.data import label_matrix, validate_frame

    folder = resolve_source(model)
    meta = load_meta(folder)
    labels = meta.labels
    frame = validate_frame(frame, labels, name="evaluation split")
    # Same windowing as calibration and scoring: the one recorded in the folder.
    clf = Classifier.load(folder, batch_size=batch_size)
    texts = frame["text"].tolist()
    probs = clf.predict_proba(texts)
    y = label_matrix(frame, labels)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluate_predictions(probs, y, labels, meta.thresholds)
    has_term = term_presence(texts) if lexicon else None
    slices = slice_metrics(frame, probs, labels, meta.thresholds, has_term=has_term)
    slices["model"] = {"name": meta.name, "version": meta.version, "kind": meta.kind, "run_id": meta.run_id,
                       "folder": str(folder)}
    files = {
        "metrics": _write_json(out / "metrics.json", metrics),
        "slices": _write_json(out / "slices.json", slices),
        "pr_curves": plot_pr_curves(probs, y, labels, meta.thresholds, out / "pr_curves.png"),
        "reliability": plot_reliability(probs, y, labels, out / "reliability.png"),
    }
    pred = frame[[c for c in ("id", "text", "source", "kind", *labels) if c in frame]].copy()
    for j, label in enumerate(labels):
        pred[f"p_{label}"] = probs[:, j]
    pred.to_parquet(out / "predictions.parquet", index=False)
    files["predictions"] = out / "predictions.parquet"
    return EvaluationResult(metrics, slices, out, files)


def _write_json(path: Path, obj: Any) -> Path:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_clean(obj), indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path
