"""The one inference object: load a model folder once, score many texts fast on CPU.

:class:`Classifier` is what the batch job (``pantau score``), the Ray engine, the web app and the
benchmarks call; none of them re-implements tokenisation, windowing, calibration or thresholds.

How a transformer model folder is scored
----------------------------------------
* Texts are preprocessed with ``pantau.text.preprocess`` using the pipeline the model was trained with
  (``meta.preprocessing``, e.g. ``"transformer/1"``), so scoring cannot drift from training.
* **Long posts are read whole.** Each text is cut into overlapping token windows of ``max_length``
  tokens (special tokens included) that overlap by ``stride`` tokens, covering the whole text; nothing
  is truncated. Every window is scored and the post's probability for a label is the **maximum** over
  its windows. Max, not mean, because the labels are "does the post contain X anywhere": one hateful
  paragraph in a long, otherwise harmless comment makes the comment hateful, and averaging would
  dilute it with the harmless windows (and make a post's score depend on how much filler surrounds the
  offence). The number of windows per post is reported by :meth:`Classifier.score`.
* Speed: all windows of one call are sorted by length and batched (``batch_size`` windows), each batch
  padded only to its own longest window, run under ``torch.inference_mode`` with the configured thread
  count. ``precision="int8"`` runs a dynamically quantised ONNX Runtime copy (:mod:`pantau.model.int8`);
  posts whose int8 score lands within ``int8_verify_margin`` log-odds of a threshold are scored again
  in fp32, so int8 buys speed without changing decisions.
* Head: mean pooling of the encoder's last hidden state over real (non-padding) tokens, then a linear
  layer (``head.safetensors``: ``weight`` [L, H], ``bias`` [L]) to one logit per label.
* Calibration: ``p = sigmoid(logit / T_label)`` with ``meta.temperatures`` (missing label → T = 1).

Ensemble folders (``meta.kind == "ensemble"``, :mod:`pantau.model.layout`) hold complete member
folders under ``members/``; each scores with its own preprocessing and calibration, and the blend of
their log-odds is calibrated again as a whole.

Baseline folders (``meta.kind == "baseline"``) hold ``baseline.joblib``, an object whose
``predict_proba(texts)`` returns [n, L] probabilities; a bag-of-words model reads the whole text, so
each post counts as one window.

Risk
----
``risk = max over labels of r_l(p_l)``, where ``r_l`` rescales a probability piecewise-linearly so that
the label's tuned threshold ``t_l`` maps to 0.5: ``r = 0.5·p/t`` below the threshold and
``r = 0.5 + 0.5·(p − t)/(1 − t)`` above it. So ``risk ≥ 0.5`` exactly when at least one label is
flagged, and posts are ranked by how far the most-exceeded label is past its threshold — comparable
across labels whose thresholds differ (a 0.3 on a label tuned at 0.2 outranks a 0.6 on one tuned at 0.7).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pantau.model.backends import (
    Backend,
    BaselineBackend,
    ClassifierError,
    EnsembleBackend,
    TransformerBackend,
)
from pantau.model.meta import ModelFolderError, ModelMeta, load_meta

log = logging.getLogger(__name__)

__all__ = ["Backend", "Classifier", "ClassifierError", "preprocess_for", "resolve_source", "risk_from_probabilities"]

PRECISIONS = ("fp32", "int8")
# Log-odds band around each threshold inside which int8 scores are checked in fp32. With int8 recipe 3
# (per-token feed-forward outputs), e5-small fine-tuned on the real plan, benchmarks/scoring.py on 5,000 posts
# of each set: 0.3 re-scored 9.9 % / 5.3 % of them and left every flag equal to fp32 on 99.72 % / 99.68 % of
# posts (pure int8: ~98 %); benchmarks/int8_recipes.py puts the smallest band for 99.5 % at 0.15.
DEFAULT_INT8_VERIFY_MARGIN = 0.3
MODEL_URI_PREFIX = "models:/"


def resolve_source(source: str | Path) -> Path:
    """Turn a model folder or a ``models:/name@alias`` registry URI into a local folder."""
    text = str(source)
    if text.startswith(MODEL_URI_PREFIX):
        try:
            from pantau.model.registry import resolve_model_uri
        except ImportError as exc:  # the registry module is optional until training lands
            raise ClassifierError(
                f"cannot resolve {text}: pantau.model.registry is not available ({exc})"
            ) from exc
        return Path(resolve_model_uri(text))
    folder = Path(source)
    if not folder.is_dir():
        raise ModelFolderError(f"model folder {folder} does not exist; train one with `pantau train`")
    return folder


def risk_from_probabilities(probs: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Risk per row (see the module docstring): 0.5 at the most-exceeded label's threshold."""
    p = np.asarray(probs, dtype=np.float64)
    t = np.clip(np.asarray(thresholds, dtype=np.float64), 1e-6, 1 - 1e-6)
    below = 0.5 * p / t
    above = 0.5 + 0.5 * (p - t) / (1.0 - t)
    per_label = np.where(p < t, below, above)
    if per_label.shape[1] == 0:
        return np.zeros(per_label.shape[0])
    return np.clip(per_label.max(axis=1), 0.0, 1.0)


def preprocess_for(meta: ModelMeta, texts: list[str], folder: Path | None = None) -> list[str]:
    """Apply the preprocessing recorded in the model folder (``"none"``/empty = raw text).

    ``meta.preprocessing`` is what ``pantau.text.preprocessing_version`` wrote at training time, e.g.
    ``"transformer/1"``, ``"transformer/1+noslang"`` or ``"classic/1+kamusalay-<sha256[:12]>"``; every
    part is honoured, and a version this code does not produce is an error rather than a silent drift.
    """
    spec = meta.preprocessing.strip()
    if spec in ("", "none"):
        return texts
    try:
        from pantau.text import PREPROCESSING_VERSION, preprocess
    except ImportError as exc:
        raise ClassifierError(
            f"the model expects preprocessing {spec!r} but pantau.text is not available ({exc})"
        ) from exc
    base, *options = spec.split("+")
    pipeline = base.split("/", 1)[0]
    if PREPROCESSING_VERSION.get(pipeline) != base:
        raise ModelFolderError(
            f"the model was trained with preprocessing {base!r}; this pantau provides "
            f"{sorted(PREPROCESSING_VERSION.values())} — retrain or install the matching pantau version"
        )
    kwargs: dict[str, Any] = {}
    for option in options:
        if option == "cased":
            kwargs["lowercase"] = False
        elif option == "noslang":
            kwargs["slang"] = False
        elif option.startswith("kamusalay-"):
            kwargs["kamusalay_path"] = _kamusalay_in(folder, option.removeprefix("kamusalay-"))
        else:
            raise ModelFolderError(f"unknown preprocessing option {option!r} in {spec!r}")
    return list(preprocess(texts, pipeline, **kwargs))


def _kamusalay_in(folder: Path | None, digest: str) -> Path:
    import hashlib

    for path in sorted(folder.glob("*.csv")) if folder else []:
        if hashlib.sha256(path.read_bytes()).hexdigest()[:12] == digest:
            return path
    raise ModelFolderError(
        f"the model was trained with a kamusalay slang file (sha256 {digest}…) that is not in its folder "
        f"{folder}; copy that CSV into the model folder"
    )


class Classifier:
    """A loaded model: ``predict_proba`` → calibrated probabilities, ``predict`` → flags, ``score`` → dicts."""

    def __init__(
        self,
        meta: ModelMeta,
        backend: Backend,
        *,
        folder: Path,
        precision: str,
        max_length: int,
        stride: int,
        batch_size: int,
        int8_verify_margin: float = 0.0,
    ):
        self.meta = meta
        self.int8_verify_margin = int8_verify_margin
        self._verified_posts = 0  # posts re-scored in fp32 because int8 put them near a threshold
        self.folder = folder
        self.precision = precision
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size
        self._backend = backend
        self.labels: tuple[str, ...] = meta.labels
        self.thresholds = np.array([meta.thresholds[label] for label in meta.labels], dtype=np.float64)
        temps = np.array(
            [float(meta.temperatures.get(label, 1.0)) for label in meta.labels], dtype=np.float64
        )
        if np.any(temps <= 0):
            raise ModelFolderError(f"temperatures must be > 0, got {meta.temperatures}")
        self.temperatures = temps

    @classmethod
    def load(
        cls,
        source: str | Path,
        *,
        precision: str = "fp32",
        threads: int = 0,
        batch_size: int = 32,
        max_length: int | None = None,
        stride: int | None = None,
        cache_dir: str | Path | None = None,
        int8_verify_margin: float = DEFAULT_INT8_VERIFY_MARGIN,
        cascade: bool = False,
    ) -> Classifier:
        """Load a model folder or ``models:/name@alias`` once; ``threads=0`` keeps torch's default (all cores).

        ``precision="int8"`` runs an ONNX Runtime int8 copy of the model (see :mod:`pantau.model.int8`),
        built on first use and cached in ``cache_dir`` (default ``~/.cache/pantau/int8``). Posts whose int8
        score lies within ``int8_verify_margin`` (log-odds) of a label's threshold are scored again in fp32,
        so int8 changes speed, not decisions (0 = pure int8). For an ensemble that is the blend's score and
        threshold: its int8 members are re-read in fp32 for those posts, and do not re-check on their own.

        ``max_length``/``stride`` default to the windowing recorded in the folder — the one its thresholds
        were tuned at; another value is allowed but warned about, since the thresholds no longer fit it.

        ``cascade=True`` (ensemble folders): posts the baseline member rules out skip the transformer member,
        by the rule tuned on validation and recorded in the folder (:mod:`pantau.model.cascade`);
        :attr:`skipped_posts` counts them. A baseline folder is already the cheap stage (nothing changes); a
        transformer folder, or an ensemble without a tuned rule, is an error.
        """
        if precision not in PRECISIONS:
            raise ClassifierError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if not 0.0 <= int8_verify_margin <= 20.0:
            raise ClassifierError(f"int8_verify_margin must be within [0, 20] (log-odds), got {int8_verify_margin}")
        if batch_size < 1:
            raise ClassifierError(f"batch_size must be ≥ 1, got {batch_size}")
        if threads < 0:
            raise ClassifierError(f"threads must be ≥ 0 (0 = all cores), got {threads}")
        folder = resolve_source(source)
        meta = load_meta(folder)
        length = int(max_length or meta.max_length)
        window_stride = meta.window_stride if stride is None else int(stride)
        if meta.kind == "transformer" and (length, window_stride) != (meta.max_length, meta.window_stride):
            log.warning(
                "%s: scoring in %d-token windows (stride %d), but its thresholds were tuned at %d (stride %d); "
                "flags may not mean what validation measured — leave score.max_length/stride unset to use the "
                "model's", folder, length, window_stride, meta.max_length, meta.window_stride,
            )
        if threads:
            torch.set_num_threads(threads)
        backend: Backend
        if meta.kind == "transformer" and getattr(meta, "pooling", "mean") != "mean":
            raise ModelFolderError(
                f"{folder}: pooling {meta.pooling!r} is not supported for scoring (only 'mean')"
            )
        if cascade and meta.kind == "transformer":
            raise ClassifierError(
                f"{folder}: score.cascade needs an ensemble folder (its baseline member is the first stage); "
                "this is a transformer folder — set score.cascade: false"
            )
        if meta.kind == "baseline":
            backend = BaselineBackend(folder, meta)
        elif meta.kind == "ensemble":

            def load_member(path: Path) -> Classifier:
                member = cls.load(path, precision=precision, threads=threads, batch_size=batch_size,
                                  max_length=max_length, stride=stride, cache_dir=cache_dir,
                                  int8_verify_margin=int8_verify_margin)
                # Loaded with the band so an int8 member keeps its fp32 model, but a member's own thresholds
                # decide nothing: the ensemble re-checks its own decisions (EnsembleBackend.fp32_logits).
                member.int8_verify_margin = 0.0
                return member

            backend = EnsembleBackend(folder, meta, load_member, cascade=cascade)
        else:
            backend = TransformerBackend(
                folder,
                meta,
                precision,
                batch_size,
                length,
                window_stride,
                threads,
                Path(cache_dir) if cache_dir is not None else None,
                keep_fp32=precision != "int8" or int8_verify_margin > 0,
            )
        return cls(
            meta,
            backend,
            folder=folder,
            precision=precision,
            max_length=length,
            stride=getattr(backend, "stride", window_stride),  # the overlap actually used
            batch_size=batch_size,
            int8_verify_margin=int8_verify_margin if precision == "int8" else 0.0,
        )

    def _scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        items = list(texts)
        bad = [i for i, t in enumerate(items) if not isinstance(t, str)]
        if bad:
            raise ClassifierError(f"texts must be strings; item(s) {bad[:5]} are not")
        n, n_labels = len(items), len(self.labels)
        if n == 0:
            return np.zeros((0, n_labels)), np.zeros(0, dtype=np.int64)
        texts = preprocess_for(self.meta, items, self.folder)
        probs, windows = self._aggregate(*self._backend.logits_or_probs(texts, items), n)
        rescore = getattr(self._backend, "fp32_logits", None)
        if self.int8_verify_margin > 0 and rescore is not None:
            # Dynamic int8 moves a post's log-odds by ~0.1 typically and ~1 rarely: only decisions near a
            # threshold can flip, so those posts (a few percent) are scored again at full precision.
            from pantau.model.calibrate import logit

            distance = np.abs(logit(probs) - logit(self.thresholds))
            near = np.flatnonzero((distance < self.int8_verify_margin).any(axis=1))
            if len(near):
                probs[near], _ = self._aggregate(*rescore([texts[i] for i in near]), len(near))
                self._verified_posts += len(near)
        return probs, windows

    def fp32_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`predict_proba` (with window counts), read by the fp32 model where this is an int8
        transformer that kept it (an ensemble's re-check path); otherwise the same as scoring."""
        rescore = getattr(self._backend, "fp32_logits", None)
        if self.precision != "int8" or rescore is None or getattr(self._backend, "fp32_model", None) is None:
            return self._scores(texts)
        items = list(texts)
        if not items:
            return np.zeros((0, len(self.labels))), np.zeros(0, dtype=np.int64)
        return self._aggregate(*rescore(preprocess_for(self.meta, items, self.folder)), len(items))

    @property
    def verified_posts(self) -> int:
        """Posts re-scored in fp32 because int8 put them near a threshold (an ensemble: near its own)."""
        members = getattr(self._backend, "members", ())
        return self._verified_posts + sum(m.verified_posts for m in members)

    @property
    def skipped_posts(self) -> int:
        """Posts the cascade let skip the full model (0 without ``cascade``)."""
        return int(getattr(self._backend, "skipped_posts", 0))

    @property
    def cascade(self) -> bool:
        """Whether the cascade's skip rule is applied."""
        return getattr(self._backend, "cascade_margin", None) is not None

    def _aggregate(self, raw: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities per post (max over its windows) and the window count per post."""
        window_probs = 1.0 / (1.0 + np.exp(-(raw.astype(np.float64) / self.temperatures)))
        probs = np.zeros((n, len(self.labels)))
        np.maximum.at(probs, owner, window_probs)
        return probs, np.bincount(owner, minlength=n)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities [n, L] in ``self.labels`` order, max over each post's windows."""
        return self._scores(texts)[0]

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean flags [n, L]: probability ≥ the label's tuned threshold."""
        return self.predict_proba(texts) >= self.thresholds

    def score(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Per post: ``probabilities`` and ``flags`` by label, ``risk`` and ``windows`` (windows read)."""
        probs, windows = self._scores(texts)
        return self.rows(probs, windows)

    def score_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities, flags, risk and window counts as arrays (what the batch job writes)."""
        probs, windows = self._scores(texts)
        return probs, probs >= self.thresholds, risk_from_probabilities(probs, self.thresholds), windows

    def term_use_probabilities(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]] | None:
        """Per raw post, the model's own reading of each divisive term: (start, end, probability the term
        is *used* on people rather than mentioned). Baselines with a span-context model have one; other
        kinds (transformers, ensembles) read the term inside the whole text and give None."""
        reader = getattr(getattr(self._backend, "model", None), "term_use_probabilities", None)
        return reader(list(texts)) if callable(reader) else None

    def rows(self, probs: np.ndarray, windows: np.ndarray) -> list[dict[str, Any]]:
        """Turn probability and window arrays into the dicts :meth:`score` returns."""
        flags = probs >= self.thresholds
        risk = risk_from_probabilities(probs, self.thresholds)
        return [
            {
                "probabilities": {label: float(probs[i, j]) for j, label in enumerate(self.labels)},
                "flags": {label: bool(flags[i, j]) for j, label in enumerate(self.labels)},
                "risk": float(risk[i]),
                "windows": int(windows[i]),
            }
            for i in range(len(probs))
        ]

    def describe(self) -> dict[str, Any]:
        """Model identity for manifests and output rows."""
        return {
            "model_name": self.meta.name,
            "model_version": self.meta.version,
            "run_id": self.meta.run_id,
            "preprocessing": self.meta.preprocessing,
            "kind": self.meta.kind,
            "precision": self.precision,
            "max_length": self.max_length,
            "stride": self.stride,
            "int8_verify_margin": self.int8_verify_margin,
            "cascade": self.cascade,
        }
