"""Finishing a trained model folder: calibrate through the Classifier, write the meta and a model card.

Calibration runs the saved folder through :class:`pantau.model.classifier.Classifier` — the same code
that scores in production (preprocessing, windows over long posts, max over windows) — so the
temperatures and thresholds are fitted on exactly the probabilities scoring will produce.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pantau.labels import LABELS_BY_KEY
from pantau.model.calibrate import calibrate, logit
from pantau.model.layout import CARD_FILE
from pantau.model.meta import ModelMeta, save_meta
from pantau.training.data import label_matrix


@dataclass
class TrainResult:
    """What a training run produced: the folder, its meta, the per-epoch history and timings."""

    folder: Path
    meta: ModelMeta
    history: list[dict[str, float]] = field(default_factory=list)  # one dict per evaluated epoch
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def calibrate_folder(
    folder: Path,
    meta: ModelMeta,
    val: pd.DataFrame,
    *,
    objective: str,
    target_precision: float,
    batch_size: int = 64,
) -> ModelMeta:
    """Fit temperatures and thresholds on ``val`` with the saved model; write and return the new meta."""
    from pantau.model.classifier import Classifier

    # Score with neutral calibration first; the fitted values replace it below.
    save_meta(folder, dataclasses.replace(meta, temperatures={}, thresholds={k: 0.5 for k in meta.labels}))
    # The windowing recorded in the folder: the one scoring will use.
    clf = Classifier.load(folder, batch_size=batch_size)
    probs = clf.predict_proba(val["text"].tolist())
    cal = calibrate(logit(probs), label_matrix(val, meta.labels), meta.labels, objective=objective,
                    target_precision=target_precision)
    final = dataclasses.replace(meta, temperatures=cal.temperatures, thresholds=cal.thresholds)
    save_meta(folder, final)
    return final


def write_model_card(folder: Path, meta: ModelMeta, *, params: dict[str, object], sources: Sequence[str],
                     train_rows: int) -> Path:
    """A short README.md: what the model is, what it was trained on, its thresholds and known limits."""
    lines = [
        f"# {meta.name} ({meta.kind})",
        "",
        ("Flags provocative content in Indonesian social-media posts for human review. Multi-label: each "
        "label is an independent, temperature-calibrated probability compared with its own threshold."),
        "A flag is a reason to look, never a verdict; Pasal 280 hints shown to reviewers are suggestions.",
        "",
        "| label | meaning | threshold | temperature |",
        "|---|---|---|---|",
    ]
    for key in meta.labels:
        label = LABELS_BY_KEY.get(key)
        meaning = label.name_id + " — " + label.name_en if label else key
        lines.append(
            f"| `{key}` | {meaning} | {meta.thresholds[key]:.3f} | {float(meta.temperatures.get(key, 1.0)):.3f} |"
        )
    lines += [
        "",
        "## Training",
        f"- base model: `{meta.base_model}`" if meta.base_model else "- base model: none (bag of words)",
        (f"- preprocessing: `{meta.preprocessing}`; scored in windows of {meta.max_length} tokens overlapping by "
         f"{meta.window_stride} (max over windows; thresholds tuned at this windowing)"),
        f"- training rows: {train_rows} from sources {', '.join(sorted(sources))}",
        f"- data fingerprint: `{meta.data_fingerprint}`",
        "- parameters: `" + json.dumps(params, sort_keys=True, default=str) + "`",
        "",
        "## Validation metrics",
        "```json",
        json.dumps(meta.metrics, indent=2, sort_keys=True, default=str),
        "```",
        "",
        "## Limits",
        ("- Trained on public Indonesian Twitter corpora and our own sample; posts from other platforms, years "
        "and topics score less reliably. Words such as *cebong* or *kampret* are not offences by themselves: "
        "mentions, news and literal animals should not be flagged, and errors there need review."),
        "- Labels a source does not annotate were masked in training, not treated as negative.",
        "",
    ]
    path = folder / CARD_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def split_metrics(probs: np.ndarray, y: np.ndarray, labels: Sequence[str], thresholds: dict[str, float]) -> dict:
    """Compact per-label F1 at the thresholds (for the meta and the card; full evaluation is elsewhere)."""
    from sklearn.metrics import f1_score

    out: dict[str, float | None] = {}
    for j, key in enumerate(labels):
        known = ~np.isnan(y[:, j])
        if known.sum() == 0 or y[known, j].sum() == 0:
            out[key] = None
            continue
        out[key] = float(f1_score(y[known, j], probs[known, j] >= thresholds[key], zero_division=0))
    scored = [v for v in out.values() if v is not None]
    return {"f1": out, "macro_f1": float(np.mean(scored)) if scored else None}


def with_val_metrics(folder: Path, meta: ModelMeta, val: pd.DataFrame) -> ModelMeta:
    """Store compact validation F1s in the meta (probabilities from the calibrated Classifier)."""
    from pantau.model.classifier import Classifier

    probs = Classifier.load(folder).predict_proba(val["text"].tolist())
    final = dataclasses.replace(
        meta, metrics={"val": split_metrics(probs, label_matrix(val, meta.labels), meta.labels, meta.thresholds)}
    )
    save_meta(folder, final)
    return final
