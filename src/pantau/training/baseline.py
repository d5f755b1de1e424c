"""Train the TF-IDF + lexicon + mention-cue baseline (:class:`pantau.model.baseline.BaselineModel`) into a folder."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.baseline import BaselineModel
from pantau.model.layout import BASELINE_FILE
from pantau.model.meta import ModelMeta, save_meta
from pantau.training.data import data_fingerprint, label_matrix, preprocess_texts, validate_frame
from pantau.training.folder import TrainResult, calibrate_folder, with_val_metrics, write_model_card

log = logging.getLogger(__name__)


def train_baseline(
    train: pd.DataFrame,
    val: pd.DataFrame,
    *,
    out_dir: str | Path,
    settings: TrainSettings,
    preprocessing: str = "none",
    labels: Sequence[str] = LABEL_KEYS,
    lexicon: bool = True,
) -> TrainResult:
    """Fit the baseline on ``train`` (raw texts, preprocessed here), calibrate on ``val``, write the folder."""
    labels = tuple(labels)
    train = validate_frame(train, labels, name="train")
    val = validate_frame(val, labels, name="val")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    raw = train["text"].tolist()
    texts = preprocess_texts(raw, preprocessing)
    model = BaselineModel(labels, lexicon=lexicon, mention_cues=settings.mention_cues,
                          span_context=settings.span_context, seed=settings.seed)
    model.fit(texts, label_matrix(train, labels), train["weight"].to_numpy(dtype=np.float64), raw=raw)
    joblib.dump(model, out / BASELINE_FILE)
    train_seconds = time.perf_counter() - t0
    meta = ModelMeta(
        labels=labels,
        thresholds={k: 0.5 for k in labels},
        kind="baseline",
        base_model="",
        preprocessing=preprocessing,
        max_length=0,
        data_fingerprint=data_fingerprint(train, labels),
        pooling="none",
    )
    save_meta(out, meta)
    meta = calibrate_folder(out, meta, val, objective=settings.threshold_objective,
                            target_precision=settings.target_precision,
                            threshold_sources=settings.threshold_sources)
    meta = with_val_metrics(out, meta, val)
    params: dict[str, Any] = {"kind": "baseline", "word_ngrams": "1-2", "char_ngrams": "2-5", "C": model.c,
                              "lexicon": lexicon, "mention_cues": model.mention_cues, "span_context": model.span_context, "preprocessing": preprocessing, "seed": settings.seed,
                              "threshold_objective": settings.threshold_objective}
    write_model_card(out, meta, params=params, sources=train["source"].unique().tolist(), train_rows=len(train))
    log.info("baseline trained in %.1f s; val macro-F1 %s", train_seconds, meta.metrics["val"]["macro_f1"])
    return TrainResult(out, meta, [], params, {"train_seconds": train_seconds})
