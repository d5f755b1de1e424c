"""The TF-IDF + logistic-regression baseline: masking, saving, loading through the Classifier."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from support.training_data import tiny_splits

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.baseline import BaselineModel
from pantau.model.classifier import Classifier
from pantau.model.layout import BASELINE_FILE
from pantau.model.meta import load_meta
from pantau.text.mention import CUE_NAMES
from pantau.training.baseline import train_baseline
from pantau.training.data import data_fingerprint

TEXTS = ["dasar cebong bodoh", "kampret goblok", "selamat pagi semua", "makan siang enak", "cebong tolol sekali",
         "cuaca cerah hari ini", "kampret dungu lu", "kita rapat besok pagi"]
Y = np.array([[1, np.nan], [1, np.nan], [0, np.nan], [0, np.nan], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=float)


def test_baseline_learns_and_masks_unannotated_rows() -> None:
    model = BaselineModel(("a", "b"), lexicon=False).fit(TEXTS, Y)
    probs = model.predict_proba(["cebong bodoh", "selamat pagi"])
    assert probs.shape == (2, 2)
    assert probs[0, 0] > probs[1, 0]
    # Label b was fitted on the four annotated rows only.
    assert model.models["b"].coef_.shape[0] == 1
    np.testing.assert_allclose(model.predict_proba(TEXTS), 1 / (1 + np.exp(-model.decision_function(TEXTS))))


def test_baseline_constant_when_a_label_has_one_class() -> None:
    y = Y.copy()
    y[:, 1] = np.where(np.isnan(y[:, 1]), np.nan, 0.0)
    model = BaselineModel(("a", "b"), lexicon=False).fit(TEXTS, y)
    p = model.predict_proba(TEXTS)[:, 1]
    assert np.all(p < 0.01) and np.ptp(p) == 0.0


def test_baseline_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        BaselineModel(("a", "b"), lexicon=False).fit(TEXTS, Y[:, :1])
    with pytest.raises(ValueError, match="not fitted"):
        BaselineModel(("a",), lexicon=False).predict_proba(["x"])


def test_train_baseline_folder_loads_in_classifier(tmp_path: Path) -> None:
    splits = tiny_splits(120, 60, 40)
    result = train_baseline(splits["train"], splits["val"], out_dir=tmp_path / "baseline",
                            settings=TrainSettings(kind="baseline"), preprocessing="none", lexicon=False)
    meta = load_meta(result.folder)
    assert meta.kind == "baseline" and meta.labels == LABEL_KEYS
    assert meta.data_fingerprint == data_fingerprint(splits["train"])
    assert set(meta.temperatures) == set(LABEL_KEYS)
    assert meta.metrics["val"]["macro_f1"] is not None
    assert isinstance(joblib.load(result.folder / BASELINE_FILE), BaselineModel)
    clf = Classifier.load(result.folder)
    texts = splits["test"]["text"].tolist()
    probs = clf.predict_proba(texts)
    assert probs.shape == (len(texts), 4)
    # The Classifier applies the fitted temperatures on top of the saved model's log-odds.
    raw = joblib.load(result.folder / BASELINE_FILE).decision_function(texts)
    t = np.array([meta.temperatures[k] for k in LABEL_KEYS])
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-raw / t)), atol=1e-6)
    # Even 120 rows of our sample teach the divisive words: divisive_label beats chance on validation.
    assert meta.metrics["val"]["f1"]["divisive_label"] > 0.5


def test_mention_cues_are_read_from_the_raw_text() -> None:
    from pantau.text import preprocess

    raw = ["Guru bilang jangan pakai sebutan 'kadrun' di kelas", "dasar kadrun semua"]
    texts = list(preprocess(raw, "classic"))
    assert "'" not in texts[0]  # the classic pipeline strips the quotes the cue needs
    model = BaselineModel(("a", "b"), lexicon=False).fit(TEXTS, Y)
    assert model.uses_raw_text
    with_raw = model._features(texts, raw)
    without = model._features(texts)
    assert with_raw.shape == without.shape
    assert (with_raw != without).nnz > 0  # the quote is only seen in the raw text
    with pytest.raises(ValueError, match="differ in number"):
        model._features(texts, raw[:1])
    # A model saved before mention cues existed (no attribute) reads preprocessed texts only.
    old = BaselineModel(("a", "b"), lexicon=False, mention_cues=False).fit(TEXTS, Y)
    del old.mention_cues
    assert not old.uses_raw_text
    assert old._features(texts, raw).shape[1] == without.shape[1] - 4


def test_the_classifier_gives_the_baseline_the_posts_as_written(tmp_path: Path) -> None:
    splits = tiny_splits(120, 60, 40)
    result = train_baseline(splits["train"], splits["val"], out_dir=tmp_path / "baseline",
                            settings=TrainSettings(kind="baseline"), preprocessing="classic/1")
    model = joblib.load(result.folder / BASELINE_FILE)
    meta = load_meta(result.folder)
    posts = ["Dia dipanggil 'anak kadrun' di sekolah. Ini harus dihentikan", "kalian kadrun semua"]
    from pantau.model.classifier import preprocess_for

    texts = preprocess_for(meta, posts, result.folder)
    t = np.array([meta.temperatures[k] for k in LABEL_KEYS])
    expected = 1 / (1 + np.exp(-model.decision_function(texts, posts) / t))
    np.testing.assert_allclose(Classifier.load(result.folder).predict_proba(posts), expected, atol=1e-6)
    assert np.abs(expected - 1 / (1 + np.exp(-model.decision_function(texts) / t))).max() > 0


def test_mention_cues_reach_only_the_divisive_label() -> None:
    model = BaselineModel(("hate_speech", "divisive_label"), lexicon=False).fit(TEXTS, Y)
    widths = {label: model.models[label].coef_.shape[1] for label in model.labels}
    assert widths["divisive_label"] == widths["hate_speech"] + len(CUE_NAMES)
    everywhere = BaselineModel(("hate_speech", "divisive_label"), lexicon=False, cue_labels=("hate_speech", "divisive_label"))
    assert everywhere.fit(TEXTS, Y).models["hate_speech"].coef_.shape[1] == widths["divisive_label"]


def test_threshold_sources_tune_each_threshold_on_those_validation_rows(tmp_path: Path) -> None:
    from pantau.model.calibrate import tune_threshold
    from pantau.training.data import label_matrix

    splits = tiny_splits(120, 90, 10)
    val = splits["val"]
    settings = TrainSettings(kind="baseline", threshold_sources=("twitter",))
    result = train_baseline(splits["train"], val, out_dir=tmp_path / "baseline", settings=settings,
                            preprocessing="none", lexicon=False)
    probs = Classifier.load(result.folder).predict_proba(val["text"].tolist())
    y = label_matrix(val, LABEL_KEYS)
    twitter = (val["source"] == "twitter").to_numpy()
    hs, div = LABEL_KEYS.index("hate_speech"), LABEL_KEYS.index("divisive_label")
    assert np.nansum(y[twitter, hs]) > 0
    assert result.meta.thresholds["hate_speech"] == pytest.approx(tune_threshold(probs[twitter, hs], y[twitter, hs]))
    # The twitter source does not annotate divisive_label: that threshold is tuned on every row.
    assert result.meta.thresholds["divisive_label"] == pytest.approx(tune_threshold(probs[:, div], y[:, div]))
