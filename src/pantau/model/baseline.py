"""The baseline: TF-IDF word and character n-grams (+ lexicon features), one logistic regression per label.

It reads texts already put through the ``classic`` pipeline (the Classifier applies the pipeline named
in the folder's meta before calling :meth:`BaselineModel.predict_proba`, exactly as training does here),
and, for the mention cues (:mod:`pantau.text.mention`), the raw texts they came from: whether a divisive
term is quoted or reported is gone once the pipeline has stripped punctuation.
Rows whose label is NaN (not annotated by their source) are skipped for that label only.
The folder holds ``baseline.joblib`` + ``pantau_model.json`` (``kind="baseline"``) + ``README.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pantau.labels import LABEL_KEYS
from pantau.model.calibrate import sigmoid
from pantau.model.span import SpanContextModel

log = logging.getLogger(__name__)

# Whether a divisive term is used or only mentioned is evidence about divisive_label alone: given to
# every label, the cues lowered hate-speech F1 across sources (sample → Ibrohim) by 9 points.
MENTION_CUE_LABELS = ("divisive_label",)


def _lexicon_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    from pantau.text import lexicon_features

    # Counts are damped so one repeated term does not dominate the TF-IDF scale.
    return sparse.csr_matrix(np.log1p(np.asarray(lexicon_features(list(texts)), dtype=np.float64)))


def _mention_matrix(raw_texts: Sequence[str]) -> sparse.csr_matrix:
    from pantau.text.mention import mention_cues

    return sparse.csr_matrix(np.log1p(mention_cues(raw_texts)))


class BaselineModel:
    """Word (1–2) and char_wb (2–5) TF-IDF, optional lexicon features and mention cues, a logistic
    regression per label."""

    def __init__(self, labels: Sequence[str] = LABEL_KEYS, *, lexicon: bool = True, mention_cues: bool = True,
                 span_context: bool = False, cue_labels: Sequence[str] = MENTION_CUE_LABELS, c: float = 4.0,
                 max_features: int = 200_000, seed: int = 13):
        self.labels = tuple(labels)
        self.lexicon = lexicon
        self.mention_cues = mention_cues
        # Mention vs use read from the masked words around each term (pantau.model.span) instead of, or
        # beside, the hand-written cue lists.
        self.span_context = span_context and "divisive_label" in self.labels
        self.span: SpanContextModel | None = None
        self.cue_labels = tuple(cue_labels)
        self.c = c
        self.max_features = max_features
        self.seed = seed
        self.word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                    max_features=max_features, token_pattern=r"(?u)\b\w+\b")
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                    max_features=max_features)
        self.models: dict[str, LogisticRegression | float] = {}

    @property
    def uses_raw_text(self) -> bool:
        """Whether predictions read the raw texts too (``raw=``); models saved before mention cues do not."""
        return getattr(self, "mention_cues", False) or getattr(self, "span_context", False)

    def _matrices(
        self, texts: Sequence[str], raw: Sequence[str] | None = None, *, fit: bool = False,
        span_features: sparse.csr_matrix | None = None,
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Features without and with the mention cues (the same matrix when the model has no cues)."""
        texts = list(texts)
        if fit:
            parts = [self.word.fit_transform(texts), self.char.fit_transform(texts)]
        else:
            parts = [self.word.transform(texts), self.char.transform(texts)]
        if self.lexicon:
            parts.append(_lexicon_matrix(texts))
        base = sparse.hstack(parts, format="csr")
        if not self.uses_raw_text:
            return base, base
        raw = texts if raw is None else list(raw)
        if len(raw) != len(texts):
            raise ValueError(f"raw texts ({len(raw)}) and preprocessed texts ({len(texts)}) differ in number")
        cues = [_mention_matrix(raw)] if getattr(self, "mention_cues", False) else []
        if getattr(self, "span_context", False):
            if span_features is None:
                if self.span is None:
                    raise ValueError("the span-context model is not fitted")
                span_features = self.span.features(raw)
            cues.append(span_features)
        return base, sparse.hstack([base, *cues], format="csr")

    def _features(
        self, texts: Sequence[str], raw: Sequence[str] | None = None, *, fit: bool = False
    ) -> sparse.csr_matrix:
        """All features, mention cues included where the model has them."""
        return self._matrices(texts, raw, fit=fit)[1]

    def _for_label(self, label: str, base: sparse.csr_matrix, full: sparse.csr_matrix) -> sparse.csr_matrix:
        # The mention cues only for the labels they are about.
        return full if label in getattr(self, "cue_labels", ()) else base

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        raw: Sequence[str] | None = None,
    ) -> BaselineModel:
        """Fit on preprocessed texts (and their ``raw`` originals, for the mention cues; without them
        the cues are read from the preprocessed texts); ``y`` is [n, L] with NaN for unannotated cells."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (len(texts), len(self.labels)):
            raise ValueError(f"labels must have shape {(len(texts), len(self.labels))}, got {y.shape}")
        w = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        span_features = None
        if self.span_context:
            span_features = self._fit_span(list(texts if raw is None else raw), y[:, self.labels.index("divisive_label")], w)
        base, full = self._matrices(texts, raw, fit=True, span_features=span_features)
        for j, label in enumerate(self.labels):
            known = ~np.isnan(y[:, j])
            t = y[known, j]
            if len(t) == 0 or t.min() == t.max():
                # Nothing to learn: keep the base rate (or "never") as a constant log-odds.
                rate = float(t.mean()) if len(t) else 0.0
                self.models[label] = float(np.log(max(rate, 1e-4) / max(1 - rate, 1e-4)))
                continue
            clf = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000, solver="liblinear",
                                     random_state=self.seed)
            clf.fit(self._for_label(label, base, full)[known], t, sample_weight=w[known])
            self.models[label] = clf
        return self

    def _fit_span(self, raw: list[str], y: np.ndarray, w: np.ndarray) -> sparse.csr_matrix:
        """Fit the span-context model; return out-of-fold features for the rows it was fitted on.

        The logistic regression on top must see span scores as they will be at prediction time (on
        posts the span model never saw), or it would trust them far too much.
        """
        from sklearn.model_selection import KFold

        oof = np.zeros((len(raw), 3))
        folds = KFold(n_splits=5, shuffle=True, random_state=self.seed) if len(raw) >= 10 else None
        for train, held in folds.split(raw) if folds else ():
            part = SpanContextModel(seed=self.seed).fit([raw[i] for i in train], y[train], w[train])
            oof[held] = part.features([raw[i] for i in held]).toarray()
        self.span = SpanContextModel(seed=self.seed).fit(raw, y, w)
        return sparse.csr_matrix(oof) if folds else self.span.features(raw)

    def term_use_probabilities(self, raw_texts: Sequence[str]) -> list[list[tuple[int, int, float]]] | None:
        """The span-context model's reading of each divisive term (start, end, probability it is *used*),
        per raw post; None when this model has no span-context model (it then reads mention cues only)."""
        span = getattr(self, "span", None)
        if not getattr(self, "span_context", False) or span is None:
            return None
        return [span.term_use_probabilities(text) for text in raw_texts]

    def decision_function(self, texts: Sequence[str], raw: Sequence[str] | None = None) -> np.ndarray:
        """Uncalibrated log-odds [n, L] for preprocessed ``texts`` (``raw``: their originals)."""
        if not self.models:
            raise ValueError("the baseline is not fitted")
        base, full = self._matrices(texts, raw)
        out = np.empty((len(texts), len(self.labels)))
        for j, label in enumerate(self.labels):
            model = self.models[label]
            out[:, j] = model if isinstance(model, float) else model.decision_function(self._for_label(label, base, full))
        return out

    def predict_proba(self, texts: Sequence[str], raw: Sequence[str] | None = None) -> np.ndarray:
        """Uncalibrated probabilities [n, L]; the Classifier applies the folder's temperatures."""
        return sigmoid(self.decision_function(texts, raw))
