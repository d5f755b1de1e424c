"""Finishing a trained model folder: calibrate through the Classifier, write the meta and a model card.

Calibration runs the saved folder through :class:`pantau.model.classifier.Classifier` — the same code
that scores in production (preprocessing, windows over long posts, max over windows) — so the
temperatures and thresholds are fitted on exactly the probabilities scoring will produce.
"""

from __future__ import annotations

import dataclasses
import json
import logging
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

log = logging.getLogger(__name__)


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
    threshold_sources: Sequence[str] = (),
) -> ModelMeta:
    """Fit temperatures and thresholds on ``val`` with the saved model; write and return the new meta.

    ``threshold_sources``: thresholds are tuned on those sources' rows only (:func:`threshold_rows`).
    """
    from pantau.model.classifier import Classifier

    # Score with neutral calibration first; the fitted values replace it below.
    save_meta(folder, dataclasses.replace(meta, temperatures={}, thresholds={k: 0.5 for k in meta.labels}))
    # The windowing recorded in the folder: the one scoring will use.
    clf = Classifier.load(folder, batch_size=batch_size)
    probs = clf.predict_proba(val["text"].tolist())
    cal = calibrate(logit(probs), label_matrix(val, meta.labels), meta.labels, objective=objective,
                    target_precision=target_precision, threshold_rows=threshold_rows(val, threshold_sources))
    final = dataclasses.replace(meta, temperatures=cal.temperatures, thresholds=cal.thresholds)
    save_meta(folder, final)
    return final


def threshold_rows(val: pd.DataFrame, sources: Sequence[str]) -> np.ndarray | None:
    """The validation rows thresholds are tuned on: those of ``sources`` (``None``: every row).

    Sources that are configured but absent from this validation split (an optional corpus that is not
    there) are skipped; when none is present, every row is used and the log says so.
    """
    if not sources:
        return None
    rows = val["source"].astype(str).isin(list(sources)).to_numpy()
    if not rows.any():
        log.warning("train.threshold_sources (%s): none in the validation split; thresholds are tuned on every "
                    "validation row", ", ".join(sources))
        return None
    log.info("thresholds tuned on %d of %d validation rows (train.threshold_sources: %s)", int(rows.sum()),
             len(rows), ", ".join(sources))
    return rows


# What the default sources are (params.yaml names); a source not listed here is described by its name only.
KNOWN_SOURCES = {
    "sample": "posts written by the project team for pantau (data/sample; synthetic, 2019–2024 register)",
    "ibrohim2019": "Ibrohim & Budi 2019 Indonesian tweets, 2018–19 (hate_speech, abusive only)",
    "ann-ibrohim": "our annotations of Ibrohim 2019 tweets with divisive vocabulary (data/annotations)",
    "ann-ibrohim-terms": "our annotations of the other Ibrohim 2019 tweets with a lexicon term (data/annotations)",
    "ann-emot": "our annotations of IndoNLU EmoT tweets (data/annotations)",
    "reviewed": "reviewers' decisions exported from the queue",
}


def write_model_card(folder: Path, meta: ModelMeta, *, params: dict[str, object], sources: Sequence[str],
                     train_rows: int, data: dict[str, pd.DataFrame] | None = None,
                     test: dict[str, Any] | None = None, trained_at: str | None = None) -> Path:
    """README.md: what the model is, the data it was really trained on, its figures and known limits.

    ``data`` (split name → frame, at least ``train``) gives rows per source and split; ``test`` is the
    ``metrics.json``-shaped evaluation on the held-out test split. Trainers write a first card with what
    they know; :func:`pantau.training.run.run_training` rewrites it with both.
    """
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
    lines += ["", "## Data it was trained on", ""]
    names = sorted(set(sources) | (set(data["train"]["source"].astype(str)) if data else set()))
    if data:
        splits = [s for s in ("train", "val", "test") if s in data]
        lines += ["| source | what | " + " | ".join(f"{s} rows" for s in splits) + " |",
                  "|---|---|" + "---|" * len(splits)]
        for name in names:
            counts = [int((data[s]["source"].astype(str) == name).sum()) for s in splits]
            lines.append(f"| `{name}` | {KNOWN_SOURCES.get(name, 'as configured in data.sources')} | "
                         + " | ".join(f"{c:,}" for c in counts) + " |")
        lines.append("| all | | " + " | ".join(f"{len(data[s]):,}" for s in splits) + " |")
    else:
        lines.append(f"- {train_rows:,} training rows from {', '.join(f'`{n}`' for n in names)}")
    lines += [
        "",
        f"- trained: {trained_at}" if trained_at else "- trained: see the MLflow run",
        f"- base model: `{meta.base_model}`" if meta.base_model else "- base model: none (bag of words)",
        (f"- preprocessing: `{meta.preprocessing}`; scored in windows of {meta.max_length} tokens overlapping by "
         f"{meta.window_stride} (max over windows; thresholds tuned at this windowing)"),
        f"- data fingerprint: `{meta.data_fingerprint}`",
        "- parameters: `" + json.dumps(params, sort_keys=True, default=str) + "`",
        "",
    ]
    if test:
        lines += [f"## Test figures (held-out test split, {test.get('rows', '?')} posts)", "",
                  "| label | precision | recall | F1 | ROC-AUC |", "|---|---|---|---|---|"]

        def fmt(v: Any) -> str:
            return "—" if v is None else f"{float(v):.3f}"

        for key, m in test["labels"].items():
            lines.append(f"| `{key}` | {fmt(m.get('precision'))} | {fmt(m.get('recall'))} | {fmt(m.get('f1'))} | "
                         f"{fmt(m.get('roc_auc'))} |")
        lines += [f"| macro | | | {fmt(test.get('macro_f1'))} | |", ""]
    lines += [
        "## Validation metrics",
        "```json",
        json.dumps(meta.metrics, indent=2, sort_keys=True, default=str),
        "```",
        "",
        "## Limits",
        *_limits(names),
        "- Labels a source does not annotate were masked in training, not treated as negative.",
        "",
    ]
    path = folder / CARD_FILE
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _limits(sources: Sequence[str]) -> list[str]:
    real = [s for s in sources if s != "sample"]
    words = ("Words such as *cebong* or *kampret* are not offences by themselves: mentions, news and literal "
             "animals should not be flagged, and errors there need review.")
    if not real:
        return [("- Trained only on our written sample: no real posts. Its test figures are on the same kind of "
                 "synthetic posts and overstate quality on real ones; train with real corpora (README, \"Which "
                 "model to use\") before relying on it. " + words)]
    return [(f"- Trained on {', '.join(f'`{s}`' for s in real)}" + (" and our written sample" if "sample" in sources
             else "") + "; posts from other platforms, years and topics score less reliably. " + words)]


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
