"""Calibration: per-label temperature scaling and decision thresholds, fitted on validation data.

Every function takes one label's column at a time and ignores rows whose label is NaN (the source does
not annotate that label), so mixed corpora calibrate only on what was actually annotated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

THRESHOLD_OBJECTIVES = ("f1", "precision")
_EPS = 1e-7


@dataclass(frozen=True)
class Calibration:
    """Per-label temperatures (divide logits by them) and thresholds (on calibrated probabilities)."""

    temperatures: dict[str, float]
    thresholds: dict[str, float]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))


def logit(p: np.ndarray) -> np.ndarray:
    """Inverse of :func:`sigmoid`, clipped so that 0 and 1 stay finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def _known(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if scores.shape != y.shape:
        raise ValueError(f"scores and labels differ in length: {scores.shape[0]} vs {y.shape[0]}")
    keep = ~np.isnan(y)
    return scores[keep], y[keep]


def fit_temperature(logits: np.ndarray, y: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature T minimising the log-loss of ``sigmoid(logits / T)``; 1.0 when one class is absent."""
    z, t = _known(logits, y)
    if len(t) == 0 or t.min() == t.max():
        return 1.0

    def nll(log_t: float) -> float:
        p = np.clip(sigmoid(z / np.exp(log_t)), _EPS, 1 - _EPS)
        return float(-np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)))

    res = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
    return float(np.exp(res.x))


def _pr_points(probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and the threshold at each distinct score (predict positive when p >= threshold)."""
    order = np.argsort(-probs, kind="mergesort")
    p_sorted, y_sorted = probs[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    # Only the last index of each run of equal scores is a reachable operating point.
    last = np.r_[np.flatnonzero(np.diff(p_sorted) != 0), len(p_sorted) - 1]
    tp, fp, thr = tp[last], fp[last], p_sorted[last]
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(y.sum(), 1)
    return precision, recall, thr


def _operating_point(
    scores: np.ndarray, y: np.ndarray, objective: str, target_precision: float
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The chosen operating point (index, precision, recall, F1, thresholds) of annotated rows; None
    without positives. Max F1, or the best recall at ``target_precision`` (max F1 if none reaches it)."""
    if objective not in THRESHOLD_OBJECTIVES:
        raise ValueError(f"threshold objective {objective!r} is not one of {THRESHOLD_OBJECTIVES}")
    s, t = _known(scores, y)
    if len(t) == 0 or t.sum() == 0:
        return None
    precision, recall, thr = _pr_points(s, t)
    f1 = 2 * precision * recall / np.maximum(precision + recall, _EPS)
    idx = int(np.argmax(f1))
    if objective == "precision":
        ok = np.flatnonzero(precision >= target_precision)
        if len(ok):
            idx = int(ok[np.argmax(recall[ok])])
    return idx, precision, recall, f1, thr


def objective_value(
    scores: np.ndarray, y: np.ndarray, *, objective: str = "f1", target_precision: float = 0.8
) -> float:
    """What :func:`tune_threshold` achieves on these scores: the best F1 over all thresholds, or the best
    recall at ``target_precision`` (max F1 where no threshold reaches it, as ``tune_threshold`` falls back).

    Any increasing transform of ``scores`` (logits, calibrated probabilities) gives the same value.
    """
    point = _operating_point(scores, y, objective, target_precision)
    if point is None:
        return 0.0
    idx, precision, recall, f1, _ = point
    reached = objective == "precision" and precision[idx] >= target_precision
    return float(recall[idx] if reached else f1[idx])


def tune_threshold(
    probs: np.ndarray,
    y: np.ndarray,
    *,
    objective: str = "f1",
    target_precision: float = 0.8,
    default: float = 0.5,
) -> float:
    """A decision threshold for one label: the max-F1 point, or the lowest one meeting ``target_precision``.

    With ``objective="precision"`` and no threshold reaching the target, falls back to max F1. The value
    returned sits halfway to the next lower score so that small numeric drift does not flip decisions.
    """
    point = _operating_point(probs, y, objective, target_precision)
    if point is None:
        return default
    idx, _, _, _, thr = point
    chosen = float(thr[idx])
    p, _ = _known(probs, y)
    lower = p[p < chosen]
    return float((chosen + lower.max()) / 2) if len(lower) else chosen


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, *, n_bins: int = 10) -> float:
    """ECE with equal-width bins: the sample-weighted mean |accuracy - confidence| of the positive class."""
    p, t = _known(probs, y)
    if len(t) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(t[sel].mean() - p[sel].mean())
    return float(ece)


def reliability_curve(probs: np.ndarray, y: np.ndarray, *, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted probability, observed positive rate and count per non-empty bin (equal-width bins)."""
    from sklearn.calibration import calibration_curve

    p, t = _known(probs, y)
    if len(t) == 0:
        return np.array([]), np.array([]), np.array([], dtype=int)
    acc, conf = calibration_curve(t, p, n_bins=n_bins, strategy="uniform")
    # Bin ids exactly as calibration_curve assigns them, so each count belongs to its point.
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], p), minlength=n_bins)
    return conf, acc, counts[counts > 0]


def calibrate(
    logits: np.ndarray,
    y: np.ndarray,
    labels: Sequence[str],
    *,
    objective: str = "f1",
    target_precision: float = 0.8,
    temperature: bool = True,
    threshold_rows: np.ndarray | None = None,
) -> Calibration:
    """Fit a temperature per label, then tune each threshold on the temperature-scaled probabilities.

    ``threshold_rows`` (a boolean mask) restricts threshold tuning to those rows — e.g. real posts by
    other people rather than our own sample — while temperatures are still fitted on every row; a label
    with no annotated positive among those rows is tuned on all rows.
    """
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if logits.shape != y.shape or logits.ndim != 2 or logits.shape[1] != len(labels):
        raise ValueError(f"expected logits and labels of shape [n, {len(labels)}], got {logits.shape} and {y.shape}")
    rows = np.ones(len(y), dtype=bool) if threshold_rows is None else np.asarray(threshold_rows, dtype=bool)
    if rows.shape != (len(y),):
        raise ValueError(f"threshold_rows must be a boolean mask of {len(y)} rows, got shape {rows.shape}")
    temps: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for j, label in enumerate(labels):
        temps[label] = fit_temperature(logits[:, j], y[:, j]) if temperature else 1.0
        probs = sigmoid(logits[:, j] / temps[label])
        sel = rows if np.nansum(y[rows, j]) > 0 else np.ones(len(y), dtype=bool)
        thresholds[label] = tune_threshold(probs[sel], y[sel, j], objective=objective,
                                           target_precision=target_precision)
    return Calibration(temps, thresholds)


def apply_temperatures(logits: np.ndarray, labels: Sequence[str], temperatures: dict[str, float]) -> np.ndarray:
    """Calibrated probabilities: ``sigmoid(logit / T)`` per label column (missing T means 1.0)."""
    t = np.array([float(temperatures.get(label, 1.0)) for label in labels])
    return sigmoid(np.asarray(logits, dtype=np.float64) / t)
