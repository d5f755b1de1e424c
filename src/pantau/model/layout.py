"""The model-folder format, owned here: file names, the one mean-pooling classifier, the ensemble blend.

A model folder is self-describing (``pantau_model.json``, see :mod:`pantau.model.meta`) and holds, by kind:

* ``transformer``: the encoder saved with ``save_pretrained`` and its fast tokenizer, plus
  ``head.safetensors`` — ``weight`` [L, H] and ``bias`` [L] of one linear layer applied to the **mean of
  the encoder's last hidden states over non-padding tokens** (``pooling: "mean"``).
* ``baseline``: ``baseline.joblib``, a :class:`pantau.model.baseline.BaselineModel`.
* ``ensemble``: complete member folders under ``members/<name>``; their calibrated log-odds are blended per
  label with :func:`blend_logits` and the blend is calibrated again as a whole.

All kinds: probabilities are ``sigmoid(logit / temperatures[label])``, flagged at ``thresholds[label]``,
and a model card ``README.md``. Training writes folders with :func:`save_head`; inference reads them with
:func:`load_head`; tests and benchmarks build tiny folders with the same two functions, so the format is
written down once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pantau.model.meta import ModelFolderError

HEAD_FILE = "head.safetensors"
BASELINE_FILE = "baseline.joblib"
CARD_FILE = "README.md"
MEMBERS_DIR = "members"
MEMBER_NAMES = ("transformer", "baseline")
POOLING = "mean"


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` [B, T, H] over the positions where ``attention_mask`` [B, T] is 1."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def new_head(hidden_size: int, num_labels: int) -> torch.nn.Linear:
    """A fresh head (small normal weights, zero bias), ready to fine-tune."""
    head = torch.nn.Linear(hidden_size, num_labels)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    return head


class MeanPoolClassifier(torch.nn.Module):
    """Encoder → mean of the last hidden states over real tokens → (dropout) → linear head → logits [B, L]."""

    def __init__(self, encoder: torch.nn.Module, head: torch.nn.Linear, *, dropout: float = 0.0):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.dropout = torch.nn.Dropout(dropout)
        self.num_labels = head.out_features

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """One logit per label for each sequence."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.logits(input_ids, attention_mask)


def save_head(folder: str | Path, head: torch.nn.Linear) -> Path:
    """Write the classification head as ``head.safetensors`` (fp32, contiguous)."""
    from safetensors.torch import save_file

    path = Path(folder) / HEAD_FILE
    save_file(
        {"weight": head.weight.detach().float().contiguous(), "bias": head.bias.detach().float().contiguous()},
        str(path),
    )
    return path


def load_head(folder: str | Path, num_labels: int, hidden_size: int) -> torch.nn.Linear:
    """Read ``head.safetensors``, checking it has the shape the labels and the encoder need."""
    from safetensors.torch import load_file

    path = Path(folder) / HEAD_FILE
    if not path.exists():
        raise ModelFolderError(f"{folder}: no {HEAD_FILE} (the classification head); was training finished?")
    tensors = load_file(str(path))
    weight, bias = tensors.get("weight"), tensors.get("bias")
    if weight is None or bias is None:
        raise ModelFolderError(f"{path}: expected tensors 'weight' and 'bias', found {sorted(tensors)}")
    if tuple(weight.shape) != (num_labels, hidden_size) or tuple(bias.shape) != (num_labels,):
        raise ModelFolderError(
            f"{path}: weight {tuple(weight.shape)} / bias {tuple(bias.shape)} do not match "
            f"{num_labels} labels × hidden size {hidden_size}"
        )
    head = torch.nn.Linear(hidden_size, num_labels)
    with torch.no_grad():
        head.weight.copy_(weight.float())
        head.bias.copy_(bias.float())
    return head


def blend_logits(member_probs: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """``Σ_m weights[:, m] · logit(p_m)`` per label: [n, L] from M arrays [n, L] and weights [L, M]."""
    from pantau.model.calibrate import logit

    z = np.zeros_like(np.asarray(member_probs[0], dtype=np.float64))
    for m, probs in enumerate(member_probs):
        z += logit(probs) * np.asarray(weights, dtype=np.float64)[:, m]
    return z


def load_encoder(folder: str | Path) -> Any:
    """The encoder of a model or base-model folder, without a pooler (the head mean-pools), quietly."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # the "unexpected pooler weights" load report is expected here
    hf_logging.disable_progress_bar()  # a "Loading weights" bar per load is noise in batch-job logs
    try:
        # The head reads the mean of the hidden states; a pooler would be computed and thrown away.
        return AutoModel.from_pretrained(folder, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_pretrained(folder)
    finally:
        hf_logging.set_verbosity(previous)
        if bar:
            hf_logging.enable_progress_bar()
