"""Mention vs use from context: is the divisive term in this post *used* on people, or talked about?

The lexicon finds each term; this model reads only the words around it, with the term masked
(:func:`pantau.text.mention.span_contexts`), and gives the probability that the post uses it as a label
for people. A post's score is the highest over its terms. Because the term is masked, evidence learnt on
one camp label ("jangan sebut xterm", "dasar xterm semua") transfers to labels the training corpora
rarely contain, and hand-written cue lists (which fit the phrasing of whoever wrote them) are not needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


class SpanContextModel:
    """TF-IDF of masked term contexts (word 1–3 grams, char 2–5) and a logistic regression."""

    def __init__(self, *, c: float = 2.0, seed: int = 13):
        self.c = c
        self.seed = seed
        self.word = TfidfVectorizer(analyzer="word", ngram_range=(1, 3), min_df=1, sublinear_tf=True,
                                    token_pattern=r"(?u)\b\w+\b")
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        self.model: LogisticRegression | float | None = None

    @staticmethod
    def contexts(raw_texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Every term context and the index of the post it came from."""
        from pantau.text.mention import span_contexts

        contexts, owner = [], []
        for i, text in enumerate(raw_texts):
            for context in span_contexts(text):
                contexts.append(context)
                owner.append(i)
        return contexts, np.asarray(owner, dtype=np.int64)

    def _matrix(self, contexts: list[str], *, fit: bool = False) -> sparse.csr_matrix:
        if fit:
            return sparse.hstack([self.word.fit_transform(contexts), self.char.fit_transform(contexts)], format="csr")
        return sparse.hstack([self.word.transform(contexts), self.char.transform(contexts)], format="csr")

    def fit(self, raw_texts: Sequence[str], y: np.ndarray, sample_weight: np.ndarray | None = None) -> SpanContextModel:
        """Learn from posts' divisive_label (NaN = unannotated, skipped); each term context takes its post's label."""
        y = np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        contexts, owner = self.contexts(raw_texts)
        keep = ~np.isnan(y[owner]) if len(owner) else np.zeros(0, dtype=bool)
        contexts = [c for c, k in zip(contexts, keep, strict=True) if k]
        target, weight = y[owner[keep]], w[owner[keep]]
        if len(target) == 0 or target.min() == target.max():
            rate = float(target.mean()) if len(target) else 0.5
            self.model = float(np.log(max(rate, 1e-4) / max(1 - rate, 1e-4)))
            return self
        clf = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000, solver="liblinear",
                                 random_state=self.seed)
        clf.fit(self._matrix(contexts, fit=True), target, sample_weight=weight)
        self.model = clf
        return self

    def post_log_odds(self, raw_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per post: the highest term-use log-odds (0 where the post has no term) and its number of terms."""
        if self.model is None:
            raise ValueError("the span model is not fitted")
        n = len(raw_texts)
        contexts, owner = self.contexts(raw_texts)
        best = np.full(n, -np.inf)
        counts = np.bincount(owner, minlength=n).astype(np.float64) if len(owner) else np.zeros(n)
        if contexts:
            z = (np.full(len(contexts), self.model) if isinstance(self.model, float)
                 else self.model.decision_function(self._matrix(contexts)))
            np.maximum.at(best, owner, z)
        best[counts == 0] = 0.0
        return best, counts

    def term_use_probabilities(self, raw_text: str) -> list[tuple[int, int, float]]:
        """Per lexicon span of one post (``find_spans`` order): its start, end and the probability that
        the post *uses* that term on people (below 0.5: it reads as mentioned)."""
        from pantau.text.lexicon import find_spans
        from pantau.text.mention import span_contexts

        if self.model is None:
            raise ValueError("the span model is not fitted")
        contexts = span_contexts(raw_text)
        if not contexts:
            return []
        z = (np.full(len(contexts), self.model) if isinstance(self.model, float)
             else self.model.decision_function(self._matrix(contexts)))
        p = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
        return [(s.start, s.end, float(q)) for s, q in zip(find_spans(raw_text), p, strict=True)]

    def features(self, raw_texts: Sequence[str]) -> sparse.csr_matrix:
        """Columns for the post-level model: use log-odds of the most used term, has-a-term, log term count."""
        z, counts = self.post_log_odds(raw_texts)
        has = (counts > 0).astype(np.float64)
        return sparse.csr_matrix(np.column_stack([z * has, has, np.log1p(counts)]))
