"""Ensemble: the fine-tuned transformer and the bag-of-words baseline, blended per label.

Why: the two make different mistakes. The encoder reads context ("stop calling people cebong" is not a
use of the label) but a 4-bit, 21M-parameter encoder misses rare slang and spellings; TF-IDF over word
and character n-grams catches exactly those. A per-label weighted sum of their calibrated log-odds is
more accurate than either alone on held-out data (see ``benchmarks/quality.py``).

Folder layout (``kind: "ensemble"``)::

    pantau_model.json          labels, thresholds and temperatures of the blend, members, blend weights
    members/transformer/       a complete transformer model folder (its own calibration)
    members/baseline/          a complete baseline model folder (its own calibration)
    README.md                  the model card

Scoring (:class:`pantau.model.classifier.Classifier`): each member scores the raw texts with its own
preprocessing (the transformer over overlapping windows of long posts), giving calibrated
probabilities; the blend is ``z = Σ_m w_label,m · logit(p_m)``, then the ensemble's own temperature and
threshold apply as for any folder. Weights are chosen on validation data per label, on a grid, by what
the deployed threshold will achieve (``train.threshold_objective``: the best F1, or the best recall at
the target precision; ties go to the higher average precision), so a label where one member adds
nothing gets weight 0. Average precision alone was the criterion before: it rewards ranking over all
thresholds, and on our sample it put 0.8 of the divisive_label weight on the transformer although the
baseline alone scored F1 0.93 on validation against the blend's 0.86 (test: 0.75 with those weights,
0.94 with the objective's).

Cascade (``score.cascade``, :mod:`pantau.model.cascade`): when the blend is calibrated, the skip rule is
tuned on the same validation scores — the smallest log-odds margin below every threshold, read from the
baseline member alone, that keeps ``target_recall`` (99.5 %) of the full ensemble's validation flags — and
recorded in the meta's ``cascade`` with what it skipped there.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.calibrate import apply_temperatures, calibrate, logit, objective_value
from pantau.model.cascade import (
    DEFAULT_TARGET_RECALL,
    WEIGHTED_DISTANCE,
    below_thresholds,
    skipped,
    standin_logits,
    transformer_reach,
    tune_margin,
)
from pantau.model.layout import MEMBER_NAMES, MEMBERS_DIR, blend_logits
from pantau.model.meta import ModelMeta, save_meta
from pantau.training.data import data_fingerprint, label_matrix, validate_frame
from pantau.training.folder import TrainResult, split_metrics, threshold_rows, write_model_card

log = logging.getLogger(__name__)

WEIGHT_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)


def fit_blend_weights(
    member_probs: Sequence[np.ndarray],
    y: np.ndarray,
    labels: Sequence[str],
    *,
    objective: str = "f1",
    target_precision: float = 0.8,
) -> dict[str, list[float]]:
    """Per label, the weight of the first member (the second gets ``1 - w``) whose blend scores best on
    ``y`` (NaN = not annotated) by the threshold objective (:func:`~pantau.model.calibrate.objective_value`);
    ties go to the higher average precision, then to the larger first weight.

    A label without annotated positives keeps equal weights: nothing to choose them on.
    """
    from sklearn.metrics import average_precision_score

    if len(member_probs) != 2:
        raise ValueError("blend weights are fitted for exactly two members")
    y = np.asarray(y, dtype=np.float64)
    out: dict[str, list[float]] = {}
    for j, label in enumerate(labels):
        known = ~np.isnan(y[:, j])
        t = y[known, j]
        if len(t) == 0 or t.min() == t.max():
            out[label] = [0.5, 0.5]
            continue
        za, zb = logit(member_probs[0][known, j]), logit(member_probs[1][known, j])
        scored = []
        for w in WEIGHT_GRID:
            z = w * za + (1 - w) * zb
            # Rounded so that float noise does not decide between equally good blends.
            value = round(objective_value(z, t, objective=objective, target_precision=target_precision), 9)
            scored.append((value, round(float(average_precision_score(t, z)), 9), float(w)))
        w = max(scored)[2]
        out[label] = [w, float(round(1 - w, 2))]
    return out


def train_ensemble(
    train: pd.DataFrame,
    val: pd.DataFrame,
    *,
    out_dir: str | Path,
    settings: TrainSettings,
    train_transformer: Callable[[Path], TrainResult],
    train_baseline: Callable[[Path], TrainResult],
    labels: Sequence[str] = LABEL_KEYS,
) -> TrainResult:
    """Train both members into ``out_dir/members/``, fit blend weights and calibrate the blend on ``val``.

    ``train_transformer(folder)`` and ``train_baseline(folder)`` train one member each into ``folder``
    (the caller binds data, base model and preprocessing), so each member stays a complete model folder.
    """
    labels = tuple(labels)
    train = validate_frame(train, labels, name="train")
    val = validate_frame(val, labels, name="val")
    out = Path(out_dir)
    members = out / MEMBERS_DIR
    members.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = {
        "transformer": train_transformer(members / "transformer"),
        "baseline": train_baseline(members / "baseline"),
    }
    train_seconds = time.perf_counter() - t0
    result = assemble_ensemble(out, val, settings=settings, fingerprint=data_fingerprint(train, labels),
                               sources=train["source"].unique().tolist(), train_rows=len(train), labels=labels,
                               member_params={k: r.params for k, r in results.items()})
    params = result.params
    timings = {f"transformer_{k}": v for k, v in results["transformer"].timings.items()}
    timings["baseline_train_seconds"] = results["baseline"].timings.get("train_seconds", 0.0)
    timings["train_seconds"] = train_seconds
    for key in ("epoch_samples_per_second", "train_samples_per_second", "best_epoch", "epochs_run"):
        if key in results["transformer"].timings:
            timings[key] = results["transformer"].timings[key]
    return TrainResult(out, result.meta, results["transformer"].history, params, timings)


def assemble_ensemble(
    out_dir: str | Path,
    val: pd.DataFrame,
    *,
    settings: TrainSettings,
    fingerprint: str,
    sources: Sequence[str],
    train_rows: int,
    labels: Sequence[str] = LABEL_KEYS,
    member_params: dict[str, dict] | None = None,
    cascade_recall: float = DEFAULT_TARGET_RECALL,
) -> TrainResult:
    """Blend trained members already in ``out_dir/members/{transformer,baseline}``: fit the per-label weights
    on ``val``, calibrate the blend (temperature, threshold) and write the ensemble's meta and card.

    Members score ``val`` once; the blend of those scores is exactly what the Classifier computes for the
    folder (``tests/model/test_ensemble.py`` checks it), so calibration needs no second pass.
    """
    from pantau.model.classifier import Classifier

    labels = tuple(labels)
    out = Path(out_dir)
    val = validate_frame(val, labels, name="val")
    texts = val["text"].tolist()
    y = label_matrix(val, labels)
    # Windows overlap by a quarter, as when each member was calibrated (pantau.training.folder).
    paths = [out / MEMBERS_DIR / name for name in MEMBER_NAMES]
    members = [Classifier.load(p) for p in paths]
    member_probs = [m.predict_proba(texts) for m in members]
    blend = fit_blend_weights(member_probs, y, labels, objective=settings.threshold_objective,
                              target_precision=settings.target_precision)
    z = blend_logits(member_probs, np.array([blend[k] for k in labels]))
    cal = calibrate(z, y, labels, objective=settings.threshold_objective, target_precision=settings.target_precision,
                    threshold_rows=threshold_rows(val, settings.threshold_sources))
    transformer = members[0].meta
    meta = ModelMeta(
        labels=labels,
        thresholds=cal.thresholds,
        temperatures=cal.temperatures,
        kind="ensemble",
        base_model=transformer.base_model,
        preprocessing="none",  # each member applies its own
        max_length=transformer.max_length,
        stride=transformer.window_stride,
        train_max_length=transformer.train_max_length,
        data_fingerprint=fingerprint,
        pooling="none",
        members=MEMBER_NAMES,
        blend=blend,
    )
    probs = apply_temperatures(z, labels, cal.temperatures)
    cascade = tune_cascade(member_probs[MEMBER_NAMES.index("baseline")], probs, meta, target_recall=cascade_recall)
    meta = dataclasses.replace(meta, metrics={"val": split_metrics(probs, y, labels, cal.thresholds)},
                               cascade=cascade)
    save_meta(out, meta)
    params = {"kind": "ensemble", "members": list(MEMBER_NAMES), "blend": blend, **(member_params or {})}
    write_model_card(out, meta, params=params, sources=sources, train_rows=train_rows)
    log.info("ensemble blend weights (transformer, baseline): %s", blend)
    return TrainResult(out, meta, [], params, {})


def tune_cascade(
    baseline_probs: np.ndarray, ensemble_probs: np.ndarray, meta: ModelMeta, *,
    target_recall: float = DEFAULT_TARGET_RECALL,
) -> dict:
    """The cascade's skip rule for ``meta`` (an ensemble's calibrated meta), tuned on validation scores:
    the baseline member's probabilities and the full ensemble's; ``{}`` when validation has no flag to keep."""
    thresholds = np.array([meta.thresholds[k] for k in meta.labels], dtype=np.float64)
    temps = np.array([float(meta.temperatures.get(k, 1.0)) for k in meta.labels], dtype=np.float64)
    flags = np.asarray(ensemble_probs) >= thresholds
    weights = np.array([meta.blend[k] for k in meta.labels], dtype=np.float64)
    reach = transformer_reach(weights, list(meta.members).index("baseline"))
    distance = below_thresholds(standin_logits(baseline_probs), thresholds, temps, reach)
    margin = tune_margin(distance, flags, target_recall=target_recall)
    if not np.isfinite(margin):
        log.info("cascade: no validation flags to tune the skip rule on; score.cascade is unavailable")
        return {}
    skip = skipped(distance, margin)
    total = int(flags.sum())
    kept = int(flags[~skip].sum())
    rule = {
        "first_stage": "baseline",
        "distance": WEIGHTED_DISTANCE,
        "margin": margin,  # exact: JSON keeps a float's every digit, and rounding down would skip more
        "target_recall": target_recall,
        "val": {"posts": len(distance), "flags": total, "recall": kept / total,
                "skipped_share": float(skip.mean())},
    }
    log.info("cascade: margin %.3f log-odds skips %.1f%% of validation posts, keeps %.2f%% of the ensemble's flags",
             margin, 100 * skip.mean(), 100 * kept / total)
    return rule
