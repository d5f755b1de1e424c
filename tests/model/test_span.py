"""The span-context model reads how a term is used, not which term it is."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from pantau.labels import LABEL_KEYS
from pantau.model.baseline import BaselineModel
from pantau.model.classifier import Classifier
from pantau.model.meta import ModelMeta, save_meta
from pantau.model.span import SpanContextModel
from pantau.scoring.frame import score_frame
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


def test_each_term_gets_the_span_models_reading_with_its_offsets() -> None:
    texts, y = _corpus(["cebong", "kampret"])
    model = SpanContextModel().fit(texts, y)
    text = "jangan saling sebut kadrun ya. dasar kadrun semua bodoh"
    (s1, e1, mention), (s2, e2, use) = model.term_use_probabilities(text)
    assert text[s1:e1] == text[s2:e2] == "kadrun" and s1 < s2
    assert use > 0.5 > mention  # the same word, read from its context
    assert model.term_use_probabilities("selamat pagi") == []


def test_a_baseline_exposes_the_reading_only_with_a_span_model(tmp_path: Path) -> None:
    texts, y = _corpus(["cebong", "kampret", "kamfret", "cebonk"])
    labels = np.column_stack([y, y, y, np.zeros_like(y)])
    with_span = BaselineModel(span_context=True).fit(texts, labels, raw=texts)
    without = BaselineModel(span_context=False).fit(texts, labels, raw=texts)
    assert without.term_use_probabilities(["dasar kadrun semua"]) is None
    [[(_, _, p)]] = with_span.term_use_probabilities(["dasar kadrun semua bodoh"])
    assert p > 0.5
    # Through a saved model folder, the Classifier, and the batch job's output rows.
    folder = tmp_path / "baseline"
    folder.mkdir()
    joblib.dump(with_span, folder / "baseline.joblib")
    save_meta(folder, ModelMeta(labels=LABEL_KEYS, thresholds=dict.fromkeys(LABEL_KEYS, 0.5), kind="baseline",
                                preprocessing="none", version="b1"))
    clf = Classifier.load(folder)
    frame = score_frame(clf, pd.DataFrame({"id": ["a", "b"], "text": ["jangan saling sebut kadrun ya", "halo"]}))
    [span] = json.loads(frame["spans"][0])
    assert span["term"] == "kadrun" and 0.0 <= span["use"] < 0.5
    assert json.loads(frame["spans"][1]) == []
    joblib.dump(without, folder / "baseline.joblib")
    assert Classifier.load(folder).term_use_probabilities(["dasar kadrun"]) is None
    plain = score_frame(Classifier.load(folder), pd.DataFrame({"id": ["c"], "text": ["dasar kadrun"]}))
    assert "use" not in json.loads(plain["spans"][0])[0]  # no reading made up where the model has none
