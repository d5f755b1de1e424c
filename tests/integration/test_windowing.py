"""One window length end to end: evaluation, the batch job and the Classifier read a model the way its
thresholds were tuned (the windowing recorded in its folder), and an override is warned about."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from support.tiny_models import build_window_probe

from pantau.labels import LABEL_KEYS
from pantau.model.classifier import Classifier
from pantau.scoring.local import ScoreOptions, score_files
from pantau.training.evaluate import evaluate_model

NEUTRAL = "selamat pagi semua, semoga harimu menyenangkan. makanan di warung itu enak sekali. "
LONG_HATEFUL = NEUTRAL * 6 + "usir kadrun cebong kampret" + " " + NEUTRAL * 6
LONG_NEUTRAL = NEUTRAL * 13


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_window_probe(tmp_path_factory.mktemp("probe") / "model", max_length=16, stride=4)


def test_a_hateful_sentence_in_a_long_post_is_flagged_and_a_long_neutral_post_is_not(probe: Path) -> None:
    clf = Classifier.load(probe)
    assert (clf.max_length, clf.stride) == (16, 4)  # the folder's windowing, not a scorer default
    flags = clf.predict([LONG_HATEFUL, LONG_NEUTRAL])
    assert flags[0].all() and not flags[1].any()
    assert clf.score([LONG_HATEFUL])[0]["windows"] > 10


def test_evaluate_and_score_take_the_same_decisions(probe: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["hate", "calm"], "text": [LONG_HATEFUL, LONG_NEUTRAL], "source": "t", "weight": 1.0,
                          **{k: [1.0, 0.0] for k in LABEL_KEYS}})
    evaluated = evaluate_model(probe, frame, tmp_path / "eval")
    predicted = pd.read_parquet(evaluated.files["predictions"])
    eval_flags = {r.id: bool(getattr(r, f"p_{LABEL_KEYS[0]}") >= 0.5) for r in predicted.itertuples()}
    for label in LABEL_KEYS:
        assert evaluated.metrics["labels"][label]["f1"] == 1.0
        assert evaluated.metrics["labels"][label]["roc_auc"] == 1.0

    posts = tmp_path / "posts.csv"
    frame[["id", "text"]].to_csv(posts, index=False)
    score_files([posts], probe, tmp_path / "scored", ScoreOptions())
    scored = pd.read_parquet(tmp_path / "scored")
    score_flags = {r.id: bool(getattr(r, f"flag_{LABEL_KEYS[0]}")) for r in scored.itertuples()}
    assert score_flags == eval_flags == {"hate": True, "calm": False}


def test_scoring_at_another_window_is_warned_about(probe: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pantau.model.classifier"):
        clf = Classifier.load(probe, max_length=256, stride=64)
    assert "thresholds were tuned at 16" in caplog.text
    # The very miss the recorded windowing prevents: one sentence in 256 tokens is diluted away.
    assert not clf.predict([LONG_HATEFUL]).any()
