"""The cascade's encoder first stage: the transformer member's first layers and a linear probe that predicts
what the whole member will say.

Why: a bag-of-words first stage cannot rule out enough of a desk's posts at 99.5 % of the ensemble's flags
(README, "int8 cascade"): it does not read the post the way the transformer does. The first ``layers``
blocks of the fine-tuned encoder already hold most of that reading. A ridge regression from their
mean-pooled states to the member's *calibrated* log-odds gives a stand-in for the transformer's score at a
fraction of its cost; the cascade blends it with the baseline member exactly as the ensemble blends the
full member (:mod:`pantau.model.cascade`).

The stage is a complete transformer model folder (``first_stage/`` in the ensemble folder): the truncated
encoder, its tokenizer, and the probe as ``head.safetensors``. Its temperatures are 1, since the probe is
fitted to calibrated log-odds already, and it is scored at the member's windowing, so int8 and the batch
job treat it like any transformer folder.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pantau.model.layout import CARD_FILE, FIRST_STAGE_DIR, HEAD_FILE, load_encoder, mean_pool, save_head
from pantau.model.meta import META_FILE, load_meta, save_meta

log = logging.getLogger(__name__)

__all__ = ["FIRST_STAGE_DIR", "FirstStageFit", "PooledStates", "build_first_stage"]
RIDGE_ALPHA = 1.0  # on mean-pooled states of unit scale; the probe is fitted on thousands of posts


@dataclasses.dataclass(frozen=True)
class FirstStageFit:
    """What fitting the probe measured, kept in the ensemble's cascade rule."""

    layers: int
    rows: int
    windows: int
    mean_abs_error: float  # |probe − member| in log-odds, on the windows it was fitted on


class PooledStates(torch.nn.Module):
    """``encoder``'s last hidden states mean-pooled over real tokens: what the head reads, as a module with
    the Classifier's window interface (``model(ids, mask)``; ``num_labels`` = the width it returns)."""

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder
        self.num_labels = int(encoder.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)


def build_first_stage(member: str | Path, out: str | Path, texts: Sequence[str], *, layers: int,
                      alpha: float = RIDGE_ALPHA, batch_size: int = 32) -> FirstStageFit:
    """Write ``out`` as a transformer folder: ``member``'s first ``layers`` encoder blocks and a ridge probe
    fitted on ``texts`` so that its logit predicts ``member``'s calibrated log-odds.

    The probe is fitted window by window, on the windows scoring cuts (the member's length and stride), so
    a long post's first-stage reading is the max over its windows as the member's is.
    """
    from sklearn.linear_model import Ridge

    from pantau.model.backends import TransformerBackend
    from pantau.model.classifier import preprocess_for

    member, out = Path(member), Path(out)
    meta = load_meta(member)
    if meta.kind != "transformer":
        raise ValueError(f"{member}: the first stage is cut from a transformer folder, this one is {meta.kind!r}")
    if len(texts) < 10:
        raise ValueError(f"the first-stage probe needs posts to be fitted on; got {len(texts)}")
    backend = TransformerBackend(member, meta, "fp32", batch_size, meta.max_length, meta.window_stride)
    total = int(backend.fp32_model.encoder.config.num_hidden_layers)
    if not 1 <= layers < total:
        raise ValueError(f"first-stage layers must be within [1, {total - 1}] for {member} ({total} layers), "
                         f"got {layers}")
    windows = backend.windows(preprocess_for(meta, list(texts), member))
    temperatures = np.array([float(meta.temperatures.get(k, 1.0)) for k in meta.labels])
    target = backend.window_logits(windows).astype(np.float64) / temperatures  # calibrated log-odds
    encoder = load_encoder(member).eval()
    encoder.encoder.layer = encoder.encoder.layer[:layers]
    encoder.config.num_hidden_layers = layers
    features = backend.window_logits(windows, PooledStates(encoder))
    probe = Ridge(alpha=alpha).fit(features, target)
    error = float(np.abs(probe.predict(features) - target).mean())
    tokenizer = backend.tokenizer
    del backend

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Writing model shards" bar is noise in a training log
    try:
        encoder.save_pretrained(out)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    tokenizer.save_pretrained(out)
    head = torch.nn.Linear(features.shape[1], len(meta.labels))
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(np.asarray(probe.coef_, dtype=np.float32)))
        head.bias.copy_(torch.from_numpy(np.asarray(probe.intercept_, dtype=np.float32)))
    save_head(out, head)
    save_meta(out, dataclasses.replace(meta, temperatures={k: 1.0 for k in meta.labels}, metrics={},
                                       name=f"{meta.name}-first-stage"))
    (out / CARD_FILE).write_text(
        f"# Cascade first stage\n\nThe first {layers} of {total} encoder layers of `{member.name}` and a ridge "
        f"probe (α {alpha}) on their mean-pooled states, fitted on {len(texts):,} posts ({len(target):,} windows) to the member's "
        f"calibrated log-odds (mean |error| {error:.3f}). Not a classifier of its own: the ensemble's cascade "
        "uses it to rule posts out (pantau.model.cascade).\n",
        encoding="utf-8",
    )
    for required in (META_FILE, HEAD_FILE):
        if not (out / required).exists():
            raise RuntimeError(f"{out}: {required} was not written")
    log.info("cascade first stage: %d of %d layers, probe fitted on %d posts, mean |error| %.3f log-odds",
             layers, total, len(texts), error)
    return FirstStageFit(layers=layers, rows=len(texts), windows=len(target), mean_abs_error=error)
