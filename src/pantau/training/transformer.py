"""Fine-tune an encoder for the four labels with the transformers ``Trainer``.

Model-folder contract (what :class:`pantau.model.classifier.Classifier` loads)
------------------------------------------------------------------------------
* the encoder, saved with ``save_pretrained`` (loads with ``AutoModel.from_pretrained(folder)``), and its
  tokenizer (``AutoTokenizer.from_pretrained(folder)``, a fast tokenizer);
* ``head.safetensors``: ``weight`` [L, H] and ``bias`` [L] of one linear layer applied to the **mean of the
  encoder's last hidden states over real (non-padding) tokens** (``pooling: "mean"``; no pooler, no CLS) —
  e5 was trained with mean pooling, and a freshly initialised CLS pooler is what made the tutorial recipe
  lose to TF-IDF;
* ``pantau_model.json`` (:class:`pantau.model.meta.ModelMeta`): label order, per-label thresholds and
  temperatures (``p = sigmoid(logit / T)``), base model, preprocessing id, ``max_length``, data fingerprint;
* ``README.md``: the model card.

Training recipe
---------------
* Loss: BCE with logits, per label and row, **masked** where the row's source does not annotate the label
  (NaN), scaled by ``pos_weight`` (negatives/positives, capped) for imbalance and by the row's source
  weight; normalised by the weighted count of annotated cells so mixed corpora do not shrink the loss.
* ``max_length`` is a high percentile of the training texts' token lengths, capped by the settings.
* Speed on CPU: dynamic padding (each batch padded to its own longest row), length-grouped batches,
  optional bf16 autocast, optionally frozen word embeddings (most of e5-small's parameters: no gradients,
  no optimiser state), torch threads = cores.
* Early stopping on validation macro-F1 (each label at its best threshold, as it will be deployed), the
  best epoch restored at the end; seeds make the data order and the head initialisation reproducible.
* After training, the folder is calibrated on validation through the Classifier (see
  :mod:`pantau.training.folder`).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from transformers import (
    AutoTokenizer,
    EarlyStoppingCallback,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.calibrate import sigmoid, tune_threshold
from pantau.model.layout import POOLING, MeanPoolClassifier, load_encoder, new_head, save_head
from pantau.model.meta import ModelMeta, save_meta
from pantau.training.data import (
    TrainDataError,
    data_fingerprint,
    label_matrix,
    positive_weights,
    preprocess_texts,
    validate_frame,
)
from pantau.training.folder import TrainResult, calibrate_folder, with_val_metrics, write_model_card

log = logging.getLogger(__name__)



class MeanPoolingModel(MeanPoolClassifier):
    """The folder format's classifier with a fresh head, as the Trainer calls it (keyword batch → dict)."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__(encoder, new_head(int(encoder.config.hidden_size), num_labels), dropout=dropout)

    def forward(  # type: ignore[override]
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        sample_weight: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        return {"logits": self.logits(input_ids, attention_mask).float()}


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, sample_weight: torch.Tensor | None, pos_weight: torch.Tensor | None
) -> torch.Tensor:
    """Mean BCE over annotated cells only (labels NaN = not annotated), weighted per row and per positive."""
    known = ~torch.isnan(labels)
    target = torch.where(known, labels, torch.zeros_like(labels))
    loss = nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none")
    weight = known.to(logits.dtype)
    if sample_weight is not None:
        weight = weight * sample_weight.to(logits.dtype).unsqueeze(-1)
    return (loss * weight).sum() / weight.sum().clamp(min=1e-8)


class MaskedBCETrainer(Trainer):
    """``Trainer`` with the masked, weighted multi-label BCE (a per-batch mean)."""

    loss_is_scaled_for_ga = False

    def __init__(self, *args: Any, pos_weight: torch.Tensor | None = None, head_lr_multiplier: float = 1.0,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pos_weight = pos_weight
        self.head_lr_multiplier = head_lr_multiplier

    def create_optimizer(self, model=None):  # type: ignore[no-untyped-def]
        """AdamW with the freshly initialised head at ``head_lr_multiplier`` × the encoder's learning rate.

        The encoder starts from pretrained weights and needs small steps; the head starts from noise and, at
        the encoder's rate, needs many epochs on a small corpus to reach useful logits.
        """
        opt_model = self.model if model is None else model
        if self.optimizer is None:
            decay = set(self.get_decay_parameter_names(opt_model))
            groups = []
            for is_head in (False, True):
                lr = self.args.learning_rate * (self.head_lr_multiplier if is_head else 1.0)
                for with_decay in (True, False):
                    params = [p for n, p in opt_model.named_parameters()
                              if p.requires_grad and n.startswith("head.") == is_head and (n in decay) == with_decay]
                    if params:
                        groups.append({"params": params, "lr": lr,
                                       "weight_decay": self.args.weight_decay if with_decay else 0.0})
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            optimizer_kwargs = {k: v for k, v in optimizer_kwargs.items() if k != "lr"}
            self.optimizer = optimizer_cls(groups, lr=self.args.learning_rate, **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[override]
        labels = inputs.pop("labels")
        sample_weight = inputs.pop("sample_weight", None)
        outputs = model(**inputs)
        pw = self.pos_weight.to(outputs["logits"].device) if self.pos_weight is not None else None
        loss = masked_bce(outputs["logits"], labels, sample_weight, pw)
        return (loss, outputs) if return_outputs else loss


class PaddingCollator:
    """Pads token ids to the longest row of the batch; stacks labels (NaN kept) and row weights."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"], dtype=torch.long)
            mask[i, :n] = 1
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": torch.tensor(np.array([r["labels"] for r in rows]), dtype=torch.float32),
            "sample_weight": torch.tensor([r["sample_weight"] for r in rows], dtype=torch.float32),
        }


class EpochTimer(TrainerCallback):
    """Wall time of each training epoch (evaluation excluded)."""

    def __init__(self) -> None:
        self.epoch_seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        self._start = time.perf_counter()

    def on_epoch_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        self.epoch_seconds.append(time.perf_counter() - self._start)


def choose_max_length(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], *, percentile: float, cap: int, floor: int = 16
) -> int:
    """A high percentile of the texts' token lengths (special tokens included), within [floor, cap]."""
    if not texts:
        raise TrainDataError("no texts to measure lengths on")
    lengths = [len(ids) for ids in tokenizer(list(texts), truncation=False)["input_ids"]]
    return int(min(cap, max(floor, math.ceil(float(np.percentile(lengths, percentile))))))


def encode(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, texts: Sequence[str], labels: Sequence[str],
           max_length: int) -> list[dict[str, Any]]:
    """Rows the collator takes: truncated token ids, the label vector (NaN kept) and the row weight."""
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    y = label_matrix(frame, labels).astype(np.float32)
    w = frame["weight"].to_numpy(dtype=np.float32)
    return [{"input_ids": i, "labels": y[k], "sample_weight": float(w[k])} for k, i in enumerate(ids)]


def macro_f1_tuned(logits: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    """Macro-F1 with each label at its own max-F1 threshold, over labels with annotated positives."""
    f1s: list[float] = []
    probs = sigmoid(logits)
    for j in range(y.shape[1]):
        known = ~np.isnan(y[:, j])
        t = y[known, j]
        if t.sum() == 0:
            f1s.append(float("nan"))
            continue
        thr = tune_threshold(probs[known, j], t)
        pred = probs[known, j] >= thr
        tp = float((pred & (t == 1)).sum())
        f1s.append(2 * tp / max(pred.sum() + t.sum(), 1))
    scored = [f for f in f1s if not math.isnan(f)]
    return (float(np.mean(scored)) if scored else 0.0), f1s


def _freeze_embeddings(encoder: nn.Module) -> int:
    emb = encoder.get_input_embeddings()
    emb.weight.requires_grad_(False)
    return int(emb.weight.numel())


def _encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks (BERT/XLM-R/DistilBERT layouts), bottom first."""
    for path in ("encoder.layer", "transformer.layer", "layers", "encoder.layers"):
        node: Any = encoder
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                break
        if isinstance(node, nn.ModuleList):
            return node
    raise TrainDataError(
        f"train.freeze_layers: cannot find the transformer blocks of {type(encoder).__name__}; set it to 0"
    )


def freeze_bottom_layers(encoder: nn.Module, n_layers: int) -> int:
    """Freeze the whole embedding block and the bottom ``n_layers`` blocks; return the frozen parameter count.

    Autograd then stops at the first trainable block, so the backward pass (two thirds of a training step)
    runs only through the top blocks. The lower blocks of a pretrained encoder hold general lexical and
    syntactic features that a few thousand labelled posts rarely improve.
    """
    if n_layers <= 0:
        return 0
    layers = _encoder_layers(encoder)
    if n_layers >= len(layers):
        raise TrainDataError(
            f"train.freeze_layers={n_layers} would freeze all {len(layers)} blocks; use at most {len(layers) - 1}"
        )
    frozen = 0
    modules = [encoder.get_input_embeddings()]
    embeddings = getattr(encoder, "embeddings", None)
    if isinstance(embeddings, nn.Module):
        modules.append(embeddings)
    modules += list(layers[:n_layers])
    for module in modules:
        for p in module.parameters():
            if p.requires_grad:
                p.requires_grad_(False)
                frozen += p.numel()
    return frozen


def bf16_supported() -> bool:
    """Whether bf16 autocast is fast here: a CUDA device, or a CPU with AVX-512 BF16 or AMX tiles.

    On CPUs without them PyTorch emulates bf16 matmuls; measured on an AVX2-only EPYC, training ran 16× slower.
    """
    if torch.cuda.is_available():
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def train_transformer(
    train: pd.DataFrame,
    val: pd.DataFrame,
    *,
    base_model: str | Path,
    out_dir: str | Path,
    settings: TrainSettings,
    preprocessing: str = "none",
    labels: Sequence[str] = LABEL_KEYS,
    base_name: str | None = None,
) -> TrainResult:
    """Fine-tune ``base_model`` (a local transformers folder) on ``train``; early-stop and calibrate on ``val``.

    Texts are raw post texts; they are preprocessed with ``preprocessing`` (an id such as
    ``"transformer/1"``, or ``"none"``), which is recorded so scoring applies the same pipeline.
    """
    labels = tuple(labels)
    train = validate_frame(train, labels, name="train")
    val = validate_frame(val, labels, name="val")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    threads = settings.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    set_seed(settings.seed)

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    encoder = load_encoder(base_model)
    train_texts = preprocess_texts(train["text"].tolist(), preprocessing)
    val_texts = preprocess_texts(val["text"].tolist(), preprocessing)
    position_limit = int(getattr(encoder.config, "max_position_embeddings", 512) or 512)
    # XLM-R style models reserve two positions for the padding offset.
    cap = min(settings.max_length, position_limit - 2 if position_limit > 2 else position_limit)
    # The model is scored (and so calibrated and thresholded) in windows of ``cap`` tokens; training may
    # truncate shorter for speed (a length percentile), never longer.
    max_length = (choose_max_length(tokenizer, train_texts, percentile=settings.length_percentile, cap=cap)
                  if settings.length_percentile else cap)

    model = MeanPoolingModel(encoder, len(labels), dropout=settings.dropout)
    frozen = _freeze_embeddings(encoder) if settings.freeze_embeddings else 0
    frozen += freeze_bottom_layers(encoder, settings.freeze_layers)
    use_bf16 = settings.bf16 and bf16_supported()
    if settings.bf16 and not use_bf16:
        log.warning("train.bf16 ignored: this CPU has no AVX-512 BF16/AMX, where bf16 autocast is far slower")
    y_train = label_matrix(train, labels)
    pos_weight = (
        torch.tensor(positive_weights(y_train, cap=settings.pos_weight_cap), dtype=torch.float32)
        if settings.pos_weight
        else None
    )
    train_rows = encode(tokenizer, train, train_texts, labels, max_length)
    val_rows = encode(tokenizer, val, val_texts, labels, max_length)

    def compute_metrics(pred: Any) -> dict[str, float]:
        logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
        # Labels from the Trainer, not from `val`: with length grouping the eval order is shuffled too.
        y_eval = pred.label_ids[0] if isinstance(pred.label_ids, tuple) else pred.label_ids
        macro, per_label = macro_f1_tuned(np.asarray(logits, dtype=np.float64), np.asarray(y_eval, dtype=np.float64))
        out_metrics = {"macro_f1": macro}
        out_metrics.update({f"f1_{k}": v for k, v in zip(labels, per_label, strict=True) if not math.isnan(v)})
        return out_metrics

    timer = EpochTimer()
    with tempfile.TemporaryDirectory(prefix="pantau-train-", dir=out.parent) as work:
        args = TrainingArguments(
            output_dir=work,
            num_train_epochs=settings.epochs,
            learning_rate=settings.learning_rate,
            weight_decay=settings.weight_decay,
            warmup_steps=settings.warmup_ratio,
            per_device_train_batch_size=settings.batch_size,
            per_device_eval_batch_size=settings.eval_batch_size,
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
            logging_strategy="epoch",
            report_to="none",
            seed=settings.seed,
            data_seed=settings.seed,
            use_cpu=not torch.cuda.is_available(),  # a CUDA build of torch trains on the GPU, unchanged otherwise
            bf16=use_bf16,
            train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
            label_names=["labels"],
            remove_unused_columns=False,
            dataloader_num_workers=0,
            disable_tqdm=not sys.stderr.isatty(),  # a progress bar on a terminal, clean logs in jobs and CI
        )
        trainer = MaskedBCETrainer(
            model=model,
            args=args,
            train_dataset=train_rows,
            eval_dataset=val_rows,
            data_collator=PaddingCollator(tokenizer.pad_token_id or 0),
            compute_metrics=compute_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=settings.early_stopping_patience), timer],
            pos_weight=pos_weight,
            head_lr_multiplier=settings.head_lr_multiplier,
        )
        train_output = trainer.train()
        history = _epoch_history(trainer.state.log_history)
    train_seconds = time.perf_counter() - t0

    encoder.save_pretrained(out)
    tokenizer.save_pretrained(out)
    save_head(out, model.head)
    params = _params(settings, max_length=max_length, frozen=frozen, threads=threads, preprocessing=preprocessing,
                     base=base_name or str(base_model), bf16_used=use_bf16)
    meta = ModelMeta(
        labels=labels,
        thresholds={k: 0.5 for k in labels},
        kind="transformer",
        base_model=base_name or str(base_model),
        preprocessing=preprocessing,
        max_length=cap,
        stride=cap // 4,
        train_max_length=max_length,
        data_fingerprint=data_fingerprint(train, labels),
        pooling=POOLING,
    )
    save_meta(out, meta)
    t1 = time.perf_counter()
    meta = calibrate_folder(out, meta, val, objective=settings.threshold_objective,
                            target_precision=settings.target_precision, batch_size=settings.eval_batch_size,
                            threshold_sources=settings.threshold_sources)
    calibrate_seconds = time.perf_counter() - t1
    meta = with_val_metrics(out, meta, val)
    timings = {
        "train_seconds": train_seconds,
        "calibrate_seconds": calibrate_seconds,
        "train_samples_per_second": float(train_output.metrics.get("train_samples_per_second", 0.0)),
        "epochs_run": float(len(timer.epoch_seconds)),
        "best_epoch": float(_best_epoch(history)),
    }
    timings.update({f"epoch_{i + 1}_seconds": s for i, s in enumerate(timer.epoch_seconds)})
    if timer.epoch_seconds:
        # Trainer's figure includes per-epoch evaluation and checkpointing; this one is training steps only.
        timings["epoch_samples_per_second"] = len(train_rows) / float(np.mean(timer.epoch_seconds))
    write_model_card(out, meta, params=params, sources=train["source"].unique().tolist(), train_rows=len(train))
    log.info("trained %s in %.0f s (%.1f samples/s); val macro-F1 %s", out, train_seconds,
             timings["train_samples_per_second"], meta.metrics.get("val", {}).get("macro_f1"))
    return TrainResult(out, meta, history, params, timings)


def _epoch_history(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Merge the Trainer's train/eval log entries into one dict per epoch."""
    by_epoch: dict[float, dict[str, float]] = {}
    for entry in log_history:
        if "epoch" not in entry:
            continue
        epoch = float(round(entry["epoch"], 4))
        row = by_epoch.setdefault(epoch, {"epoch": epoch})
        for key, value in entry.items():
            if isinstance(value, (int, float)) and key not in ("epoch", "step"):
                row[key] = float(value)
    return [by_epoch[e] for e in sorted(by_epoch) if any(k.startswith("eval_") for k in by_epoch[e])]


def _best_epoch(history: list[dict[str, float]]) -> float:
    scored = [(h.get("eval_macro_f1", -1.0), h["epoch"]) for h in history]
    return max(scored)[1] if scored else 0.0


def _params(settings: TrainSettings, **extra: Any) -> dict[str, Any]:
    import dataclasses

    params = {k: v for k, v in dataclasses.asdict(settings).items() if k not in ("tracking_uri",)}
    params.update(extra)
    return params
