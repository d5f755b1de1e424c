"""Counterfactual copies with divisive terms swapped for made-up words (pantau.training.augment)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from pantau.config import ConfigError, TrainSettings
from pantau.text.lexicon import find_spans
from pantau.training.augment import AUGMENTED_SUFFIX, masked_term_copies, replace_terms


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "text": ["dasar cebong dungu semua", "jangan sebut orang kampret ya", "cuaca cerah hari ini",
                 "cebong tolol"],
        "hate_speech": [1.0, 0.0, 0.0, 1.0], "abusive": [1.0, 0.0, 0.0, 1.0],
        "divisive_label": [1.0, 0.0, 0.0, np.nan],  # d: a source that does not annotate divisive_label
        "incitement": [0.0, 0.0, 0.0, 0.0],
        "source": "s", "weight": [1.0, 1.0, 1.0, 2.0], "group": ["a", "b", "c", "d"],
    })


def test_copies_swap_every_term_and_keep_only_the_divisive_label() -> None:
    out = masked_term_copies(_frame(), 0.5, seed=3)

    copies = out[out["id"].str.endswith(AUGMENTED_SUFFIX)].set_index("id")
    # Only rows with a known divisive_label and a lexicon term are copied: a and b, not c (no term) or d (NaN).
    assert sorted(copies.index) == [f"a{AUGMENTED_SUFFIX}", f"b{AUGMENTED_SUFFIX}"]
    for text in copies["text"]:
        assert find_spans(text) == []  # the made-up words are not lexicon terms
    assert copies.loc[f"a{AUGMENTED_SUFFIX}", "text"].startswith("dasar ")
    assert copies.loc[f"a{AUGMENTED_SUFFIX}", "text"].endswith(" dungu semua")
    assert list(copies["divisive_label"]) == [1.0, 0.0]
    assert copies[["hate_speech", "abusive", "incitement"]].isna().all().all()
    assert list(copies["weight"]) == [0.5, 0.5] and list(copies["group"]) == ["a", "b"]
    pd.testing.assert_frame_equal(out.iloc[:4], _frame())  # originals untouched


def test_weight_zero_adds_nothing_and_negative_is_refused() -> None:
    frame = _frame()
    assert masked_term_copies(frame, 0.0) is frame
    with pytest.raises(ValueError, match="masked_term_copies"):
        masked_term_copies(frame, -1.0)
    with pytest.raises(ConfigError, match="masked_term_copies"):
        TrainSettings(masked_term_copies=-0.5)


def test_each_span_gets_its_own_word_and_the_rest_of_the_post_is_kept() -> None:
    rng = random.Random(1)
    text = "cebong vs kampret lagi, capek"
    swapped = replace_terms(text, rng)
    assert swapped.endswith(" lagi, capek") and " vs " in swapped
    first, second = swapped.split(" vs ")[0], swapped.split(" vs ")[1].split(" ")[0]
    assert first.isalpha() and second.isalpha()
    assert find_spans(swapped) == []


@pytest.mark.slow
@pytest.mark.realdata
def test_a_model_trained_with_copies_catches_a_nickname_it_has_never_seen(tmp_path, shared_data) -> None:
    """Held-out hostile uses (the team's annotations of real tweets and our sample), their term swapped for
    new words: the plain baseline misses (nearly) all of them, the one trained with copies catches many —
    while ordinary held-out posts stay unflagged."""
    from support.training_data import REPO_ROOT, SAMPLE

    from pantau.config import DataSettings, Settings, SourceSettings
    from pantau.data.prepare import prepare
    from pantau.model.classifier import Classifier
    from pantau.training.baseline import train_baseline
    from pantau.training.data import load_splits, preprocessing_id

    ann = REPO_ROOT / "data" / "annotations"
    sources = (
        SourceSettings(name="ann-ibrohim", kind="annotations", path=str(ann / "ibrohim2019_divisive.csv"),
                       corpus_root=str(shared_data)),
        SourceSettings(name="ann-emot", kind="annotations", path=str(ann / "emot.csv"), corpus_root=str(shared_data)),
        SourceSettings(name="sample", kind="sample", path=str(SAMPLE)),
    )
    settings = Settings(data=DataSettings(sources=sources, processed_dir=str(tmp_path / "processed")),
                        root=str(REPO_ROOT))
    prepare(settings)
    splits = load_splits(tmp_path / "processed")
    uses = splits["test"][splits["test"]["divisive_label"] == 1]
    calm = splits["test"][(splits["test"][["hate_speech", "abusive", "divisive_label"]] == 0).all(axis=1)]
    rng = random.Random(5)
    unseen = [replace_terms(t, rng) for t in uses["text"]]
    recall, calm_flagged = {}, {}
    for weight in (0.0, 1.0):
        train = masked_term_copies(splits["train"], weight, seed=13)
        recipe = TrainSettings(kind="baseline", mention_cues=True, span_context=True, masked_term_copies=weight)
        train_baseline(train, splits["val"], out_dir=tmp_path / str(weight), settings=recipe,
                       preprocessing=preprocessing_id("classic"))
        clf = Classifier.load(tmp_path / str(weight))
        j = list(clf.labels).index("divisive_label")
        t = clf.meta.thresholds["divisive_label"]
        recall[weight] = float(np.mean(clf.predict_proba(unseen)[:, j] >= t))
        calm_flagged[weight] = float(np.mean(clf.predict_proba(list(calm["text"]))[:, j] >= t))
    assert recall[0.0] <= 0.2, recall
    assert recall[1.0] >= recall[0.0] + 0.3, recall  # measured: 0.0 → ~0.6
    assert calm_flagged[1.0] <= 0.1, calm_flagged
