"""The span-context model reads how a term is used, not which term it is."""

from __future__ import annotations

import numpy as np
import pytest

from pantau.model.baseline import BaselineModel
from pantau.model.span import SpanContextModel
from pantau.text.mention import span_contexts

USE = ["dasar {} semua bodoh", "dasar {} otaknya di dengkul", "{} memang tukang fitnah", "kelakuan {} makin parah"]
MENTION = ["jangan saling sebut {} ya", "bawaslu imbau berhenti pakai sebutan {}", "stop panggil orang {}",
           "istilah {} bikin kita terbelah"]


def _corpus(terms: list[str]) -> tuple[list[str], np.ndarray]:
    texts = [t.format(term) for term in terms for t in USE + MENTION]
    y = np.array([1.0] * len(USE) + [0.0] * len(MENTION) * 1)
    return texts, np.tile(y, len(terms))


def test_contexts_mask_the_term_and_mark_quotes() -> None:
    assert span_contexts("Dasar CEBONG semua!") == ["dasar xterm semua"]
    assert span_contexts('dia dipanggil "kadrun" di sekolah') == ["dia dipanggil xquoted di sekolah"]
    assert span_contexts("selamat pagi") == []


def test_what_is_learnt_on_some_terms_carries_over_to_an_unseen_one() -> None:
    texts, y = _corpus(["cebong", "kampret"])
    model = SpanContextModel().fit(texts, y)
    z, counts = model.post_log_odds(["dasar kadrun semua bodoh", "jangan saling sebut kadrun ya", "selamat pagi"])
    assert z[0] > 0 > z[1]  # kadrun never occurs in training
    assert counts.tolist() == [1, 1, 0] and z[2] == 0.0


def test_unannotated_rows_are_skipped_and_a_constant_target_is_a_base_rate() -> None:
    texts, y = _corpus(["cebong"])
    y[:] = np.nan
    y[0] = 1.0
    model = SpanContextModel().fit(texts, y)
    assert isinstance(model.model, float) and model.model > 0


def test_baseline_with_span_context_separates_use_from_mention_on_unseen_terms() -> None:
    texts, y = _corpus(["cebong", "kampret", "kamfret", "cebonk"])
    labels = np.column_stack([y, y, y, np.zeros_like(y)])  # every label learns the same distinction here
    model = BaselineModel(mention_cues=False, span_context=True, lexicon=True).fit(texts, labels, raw=texts)
    probs = model.predict_proba(["dasar kadrun semua bodoh", "jangan saling sebut kadrun ya"],
                                raw=["dasar kadrun semua bodoh", "jangan saling sebut kadrun ya"])
    j = model.labels.index("divisive_label")
    assert probs[0, j] > probs[1, j]
    assert model.span is not None and model.uses_raw_text


def test_a_span_model_must_be_fitted() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        SpanContextModel().post_log_odds(["dasar cebong"])
