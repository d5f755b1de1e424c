"""How each kind of model folder turns preprocessed texts into per-window scores (the Classifier's backends).

The :class:`pantau.model.classifier.Classifier` owns calibration, aggregation over windows, thresholds and
risk; a backend only reads its folder and returns raw scores with the post each window belongs to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from pantau.model.cascade import (
    WEIGHTED_DISTANCE,
    below_thresholds,
    skipped,
    standin_logits,
    transformer_reach,
)
from pantau.model.layout import (
    BASELINE_FILE,
    MEMBERS_DIR,
    MeanPoolClassifier,
    blend_logits,
    load_encoder,
    load_head,
)
from pantau.model.meta import ModelFolderError, ModelMeta

log = logging.getLogger(__name__)


class ClassifierError(ValueError):
    """Invalid arguments or an unusable model for scoring; the message says what to change."""


class Backend(Protocol):
    def logits_or_probs(self, texts: list[str], originals: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and window owners for ``texts`` (the model's preprocessing applied); ``originals`` are
        the same posts as given, for evidence preprocessing erases (quotation marks around a term)."""
        ...


@dataclass
class Windows:
    ids: list[list[int]]
    owner: np.ndarray  # window index -> text index


def _check_positions(config: Any, max_length: int) -> None:
    limit = getattr(config, "max_position_embeddings", None)
    if limit is not None and max_length > limit:
        raise ClassifierError(f"max_length={max_length} exceeds the encoder's {limit} positions")


class TransformerBackend:
    """Encoder + mean pooling + linear head, scored over overlapping windows."""

    def __init__(
        self,
        folder: Path,
        meta: ModelMeta,
        precision: str,
        batch_size: int,
        max_length: int,
        stride: int,
        threads: int = 0,
        cache_dir: Path | None = None,
        keep_fp32: bool = True,
    ):
        """``keep_fp32=False`` (int8 without a re-check band): the fp32 weights are dropped once the int8
        model is loaded, so the process does not hold the model twice (e5-small: ~470 MB of fp32 weights)."""
        from transformers import AutoTokenizer

        self.batch_size = batch_size
        self.max_length = max_length
        self.stride = stride
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelFolderError(
                f"{folder}: scoring needs a fast (Rust) tokenizer to cut long posts into windows"
            )
        specials = self.tokenizer.num_special_tokens_to_add()
        if max_length <= specials + 1:
            raise ClassifierError(
                f"max_length={max_length} leaves no room for text after {specials} special tokens"
            )
        room = max_length - specials
        if stride < 0:
            raise ClassifierError(
                f"stride={stride} must be ≥ 0; it is how many tokens consecutive windows share"
            )
        if stride >= room:
            # Models trained on short windows (max_length from a length percentile) cannot overlap by the
            # configured stride; half a window of overlap still reads every token, just in more windows.
            log.warning("stride %d does not fit windows of %d text tokens; using %d", stride, room, room // 2)
            self.stride = room // 2
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        if precision == "int8" and not keep_fp32:
            from pantau.model.int8 import load_cached_int8

            cached = load_cached_int8(folder, num_labels=len(meta.labels), threads=threads, cache_dir=cache_dir)
            if cached is not None:
                # A cached int8 copy and no re-check band: the fp32 weights are never read, so they are not
                # loaded (peak RSS of such a process: e5-small 1.52 GB → see README "int8").
                from transformers import AutoConfig

                _check_positions(AutoConfig.from_pretrained(folder), max_length)
                self.model = cached
                self.fp32_model = None
                return
        encoder = load_encoder(folder)
        _check_positions(encoder.config, max_length)
        head = load_head(folder, len(meta.labels), int(encoder.config.hidden_size))
        model = MeanPoolClassifier(encoder.float(), head).eval()
        self.model: Any = model
        self.fp32_model: MeanPoolClassifier | None = model
        if precision == "int8":
            from pantau.model.int8 import load_int8

            self.model = load_int8(
                model,
                folder,
                num_labels=len(meta.labels),
                threads=threads,
                cache_dir=cache_dir,
                intermediate_size=getattr(encoder.config, "intermediate_size", None),
            )
            if not keep_fp32:
                self.fp32_model = None  # the only reference left: freed here
                del model, encoder, head

    def windows(self, texts: list[str]) -> Windows:
        """Cut every text into overlapping windows covering all of its tokens."""
        enc = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return Windows(
            ids=enc["input_ids"], owner=np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        )

    def window_logits(self, windows: Windows, model: Any = None) -> np.ndarray:
        """Logits [n_windows, L], batching length-sorted windows padded per batch."""
        model = self.model if model is None else model
        n = len(windows.ids)
        lengths = np.fromiter((len(x) for x in windows.ids), dtype=np.int64, count=n)
        order = np.argsort(lengths, kind="stable")
        out = np.empty((n, model.num_labels), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                width = int(lengths[idx].max())
                ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                for row, i in enumerate(idx):
                    seq = windows.ids[i]
                    ids[row, : len(seq)] = seq
                    mask[row, : len(seq)] = 1
                logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
                out[idx] = logits.float().numpy()
        return out

    def logits_or_probs(self, texts: list[str], originals: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        windows = self.windows(texts)
        return self.window_logits(windows), windows.owner

    def fp32_logits(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`logits_or_probs`, always with the fp32 model (int8 verification)."""
        if self.fp32_model is None:
            raise ClassifierError("this int8 model was loaded without its fp32 copy (int8_verify_margin 0)")
        windows = self.windows(texts)
        return self.window_logits(windows, self.fp32_model), windows.owner


class BaselineBackend:
    """A saved bag-of-words model; reads the whole text, so one window per post."""

    def __init__(self, folder: Path, meta: ModelMeta):
        import joblib

        path = folder / BASELINE_FILE
        if not path.exists():
            raise ModelFolderError(f"{folder}: no {BASELINE_FILE}; was baseline training finished?")
        self.model = joblib.load(path)
        if not hasattr(self.model, "predict_proba"):
            raise ModelFolderError(f"{path}: the saved object has no predict_proba")
        self.n_labels = len(meta.labels)

    def logits_or_probs(self, texts: list[str], originals: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if originals is not None and getattr(self.model, "uses_raw_text", False):
            raw = self.model.predict_proba(texts, raw=originals)
        else:
            raw = self.model.predict_proba(texts)
        if isinstance(raw, list):  # MultiOutputClassifier style: one [n, 2] array per label
            raw = np.column_stack([np.asarray(p)[:, -1] for p in raw])
        probs = np.asarray(raw, dtype=np.float64)
        if probs.shape != (len(texts), self.n_labels):
            raise ModelFolderError(
                f"baseline returned shape {probs.shape}, expected {(len(texts), self.n_labels)}"
            )
        eps = 1e-7
        p = np.clip(probs, eps, 1 - eps)
        # Back to logits so temperatures apply the same way for both kinds.
        return np.log(p / (1 - p)), np.arange(len(texts), dtype=np.int64)


class EnsembleBackend:
    """Member folders scored with their own preprocessing and calibration, blended per label in logit space.

    Each post gets as many (identical) rows as its member with the most windows read, so the Classifier's
    max over windows returns the blend and its window count reports what the transformer read.

    ``cascade=True`` applies the folder's tuned skip rule (:mod:`pantau.model.cascade`): the baseline member
    scores every post first, and only posts it cannot rule out reach the other member; ``skipped_posts``
    counts the rest.
    """

    def __init__(self, folder: Path, meta: ModelMeta, load_member: Any, *, cascade: bool = False):
        self.members = []
        for name in meta.members:
            path = folder / MEMBERS_DIR / name
            if not path.is_dir():
                raise ModelFolderError(f"{folder}: ensemble member {name!r} missing (expected {path})")
            member = load_member(path)
            if tuple(member.labels) != tuple(meta.labels):
                raise ModelFolderError(
                    f"{path}: member labels {list(member.labels)} differ from the ensemble's {list(meta.labels)}"
                )
            self.members.append(member)
        self.weights = np.array([meta.blend[k] for k in meta.labels], dtype=np.float64)  # [L, M]
        self.skipped_posts = 0
        self.cascade_margin: float | None = None
        if cascade:
            margin = (meta.cascade or {}).get("margin")
            if margin is None or "baseline" not in meta.members:
                raise ClassifierError(
                    f"{folder}: score.cascade needs a skip rule tuned on validation, and this ensemble has none "
                    "(assembled before the cascade existed); re-assemble it with pantau.training.ensemble."
                    "assemble_ensemble, or set score.cascade: false"
                )
            self.cascade_margin = float(margin)
            self.first = meta.members.index("baseline")
            # Folders tuned before the weighting recorded no ``distance``: their margin is in plain log-odds.
            weighted = (meta.cascade or {}).get("distance") == WEIGHTED_DISTANCE
            self.reach = transformer_reach(self.weights, self.first) if weighted else None
            self.thresholds = np.array([meta.thresholds[k] for k in meta.labels], dtype=np.float64)
            self.temperatures = np.array([float(meta.temperatures.get(k, 1.0)) for k in meta.labels])

    def logits_or_probs(self, texts: list[str], originals: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        # Members apply their own preprocessing to the posts as given.
        posts = texts if originals is None else originals
        if self.cascade_margin is not None:
            return self._cascade(posts)
        return self._blend([member._scores(posts) for member in self.members])

    def _blend(self, scored: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """Members' (probabilities, windows) → the blend, one row per window of the member that read most."""
        z = blend_logits([probs for probs, _ in scored], self.weights)
        windows = np.maximum.reduce([np.maximum(w, 1) for _, w in scored])
        owner = np.repeat(np.arange(len(z), dtype=np.int64), windows)
        return np.repeat(z, windows, axis=0), owner

    def fp32_logits(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The full blend with every int8 member read by its fp32 model: the int8 re-check of posts whose
        *ensemble* score lies near a threshold (int8 noise in a member moves the blend too; a band on the
        member's own thresholds misses those posts)."""
        return self._blend([member.fp32_scores(texts) for member in self.members])

    def _cascade(self, posts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        first_probs, _ = self.members[self.first]._scores(posts)
        z = standin_logits(first_probs)
        distance = below_thresholds(z, self.thresholds, self.temperatures, self.reach)
        skip = skipped(distance, float(self.cascade_margin or 0))
        windows = np.ones(len(posts), dtype=np.int64)
        rest = np.flatnonzero(~skip)
        if len(rest):
            scored = [(first_probs[rest], np.ones(len(rest), dtype=np.int64)) if m == self.first
                      else member._scores([posts[i] for i in rest]) for m, member in enumerate(self.members)]
            z[rest] = blend_logits([probs for probs, _ in scored], self.weights)
            windows[rest] = np.maximum.reduce([np.maximum(w, 1) for _, w in scored])
        self.skipped_posts += int(skip.sum())
        owner = np.repeat(np.arange(len(posts), dtype=np.int64), windows)
        return np.repeat(z, windows, axis=0), owner
