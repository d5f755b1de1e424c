"""The self-describing part of a model folder: ``pantau_model.json``.

A model folder is a Hugging Face folder (or a baseline's ``baseline.joblib``) plus this file, so the
label order, thresholds, calibration, base model, preprocessing version and training-data fingerprint
travel with the weights and scoring cannot mix them up.

Transformer folders (written by :mod:`pantau.training.transformer`): the encoder saved with ``save_pretrained``
(``AutoModel.from_pretrained(folder)``) and its fast tokenizer; ``head.safetensors`` with ``weight`` [L, H]
and ``bias`` [L] applied to the mean of the last hidden states over non-padding tokens (``pooling:
"mean"``); probabilities are ``sigmoid(logit / temperatures[label])``, flagged at ``thresholds[label]``.
Baseline folders (:mod:`pantau.model.baseline`): ``baseline.joblib`` whose ``predict_proba`` takes texts
already put through ``preprocessing`` and returns uncalibrated probabilities; the same temperatures apply
to their log-odds. Both carry a model card (``README.md``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

META_FILE = "pantau_model.json"
MODEL_KINDS = ("transformer", "baseline", "ensemble")


class ModelFolderError(ValueError):
    """A model folder is missing or inconsistent; the message says what to do."""


@dataclass(frozen=True)
class ModelMeta:
    """What scoring needs to know about a trained model, besides its weights."""

    labels: tuple[str, ...]
    thresholds: dict[str, float]
    kind: str = "transformer"
    temperatures: dict[str, float] = field(default_factory=dict)  # per-label temperature scaling; 1.0 = none
    base_model: str = ""
    preprocessing: str = ""  # pipeline name + version, e.g. "transformer/1"
    # The window scoring reads (tokens, special ones included) and the overlap of consecutive windows:
    # validation scores, temperatures and thresholds were computed at exactly this windowing, so every
    # scorer uses it unless told otherwise (and then warns). train_max_length: what training truncated to.
    max_length: int = 128
    stride: int = 0  # 0: a quarter of max_length (folders written before the stride was recorded)
    train_max_length: int = 0
    data_fingerprint: str = ""
    name: str = "pantau-classifier"
    version: str = ""
    run_id: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    metrics: dict[str, Any] = field(default_factory=dict)
    pooling: str = "mean"  # how the head reads the encoder: mean of last hidden states over real tokens
    # Ensembles only: member folders (under ``members/``) and, per label, one blend weight per member.
    members: tuple[str, ...] = ()
    blend: dict[str, list[float]] = field(default_factory=dict)
    # Ensembles only, when tuned (pantau.training.ensemble.tune_cascade): the cascade's skip rule. A post
    # skips the transformer member when the baseline member's reading, put in the ensemble's place, lies at
    # least ``margin`` below every label's threshold, each label's gap divided by the transformer's blend weight
    # (``distance: transformer_weight``; plain log-odds where absent); plus what validation measured for it.
    cascade: dict[str, Any] = field(default_factory=dict)

    @property
    def window_stride(self) -> int:
        """The overlap scoring uses by default: the recorded stride, else a quarter window."""
        return self.stride or self.max_length // 4

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ModelFolderError(f"model kind {self.kind!r} is not one of {MODEL_KINDS}")
        missing = [label for label in self.labels if label not in self.thresholds]
        if missing:
            raise ModelFolderError(f"no threshold for label(s) {missing}")
        if self.kind == "ensemble":
            if not self.members:
                raise ModelFolderError("an ensemble model folder must list its members")
            bad = [k for k in self.labels if len(self.blend.get(k, ())) != len(self.members)]
            if bad:
                raise ModelFolderError(
                    f"ensemble blend weights for {bad} must have one weight per member {list(self.members)}"
                )


def save_meta(folder: str | Path, meta: ModelMeta) -> Path:
    """Write ``pantau_model.json`` into ``folder`` atomically and return its path."""
    path = Path(folder) / META_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(meta), indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


def load_meta(folder: str | Path) -> ModelMeta:
    """Read ``pantau_model.json`` from a model folder, with an actionable error when it is absent."""
    path = Path(folder) / META_FILE
    if not path.exists():
        raise ModelFolderError(
            f"{folder} is not a pantau model folder (no {META_FILE}); train one with `pantau train` "
            "or pass --model models:/pantau-classifier@champion"
        )
    raw = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in dataclasses.fields(ModelMeta)}
    raw = {k: v for k, v in raw.items() if k in known}  # newer writers may add fields
    raw["labels"] = tuple(raw["labels"])
    raw["members"] = tuple(raw.get("members", ()))
    return ModelMeta(**raw)
