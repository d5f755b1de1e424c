"""The cascade's encoder first stage on a real tiny BERT: the truncated folder, its probe, and the ensemble's
cascade that reads it (fp32 and int8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from support.tiny_models import build_tiny_transformer
from support.training_data import tiny_frame

from pantau.config import ConfigError, TrainSettings
from pantau.model.calibrate import logit
from pantau.model.classifier import Classifier
from pantau.model.layout import FIRST_STAGE_DIR, HEAD_FILE, MEMBERS_DIR, blend_logits, load_encoder
from pantau.model.meta import META_FILE, ModelFolderError, load_meta
from pantau.training.baseline import train_baseline
from pantau.training.data import preprocessing_id
from pantau.training.ensemble import assemble_ensemble
from pantau.training.first_stage import PooledStates, build_first_stage

FAST = TrainSettings(epochs=1, batch_size=8, threads=1, eval_batch_size=16)


@pytest.fixture(scope="module")
def member(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("member") / "transformer", max_length=16, seed=3)


def test_first_stage_is_the_members_first_layers_and_a_probe_of_its_log_odds(member: Path, tmp_path: Path) -> None:
    texts = tiny_frame(400)["text"].tolist()
    out = tmp_path / "stage"
    fit = build_first_stage(member, out, texts, layers=1)
    assert (fit.layers, fit.rows) == (1, 400)

    encoder = load_encoder(out)
    assert encoder.config.num_hidden_layers == 1 and len(encoder.encoder.layer) == 1
    full = load_encoder(member)
    for name, tensor in encoder.state_dict().items():  # the first layer and the embeddings, unchanged
        np.testing.assert_array_equal(tensor.numpy(), full.state_dict()[name].numpy())
    meta = load_meta(out)
    assert meta.kind == "transformer" and set(meta.temperatures.values()) == {1.0}
    assert meta.max_length == load_meta(member).max_length  # scored at the member's windowing

    # The folder scores every window exactly as the probe reads the first layer's pooled states.
    from pantau.model.backends import TransformerBackend

    backend = TransformerBackend(out, meta, "fp32", 32, meta.max_length, meta.window_stride)
    windows = backend.windows(texts[:60])
    head = load_file(str(out / HEAD_FILE))
    by_hand = backend.window_logits(windows, PooledStates(encoder.eval())) @ head["weight"].T + head["bias"]
    np.testing.assert_allclose(backend.window_logits(windows), by_hand, atol=1e-4)
    assert fit.windows > fit.rows  # the tiny model reads 16-token windows: long posts give several

    # It reads the post: it explains part of the member's log-odds beyond their mean (least squares; a random
    # tiny model's last layer is far from linear in its first, a fine-tuned e5's much less so).
    target = logit(Classifier.load(member).predict_proba(texts))
    stage = logit(Classifier.load(out).predict_proba(texts))
    explained = 1 - ((stage - target) ** 2).sum(axis=0) / ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    assert (explained > 0.3).all(), explained


def test_first_stage_errors_name_the_problem(member: Path, tmp_path: Path) -> None:
    texts = tiny_frame(40)["text"].tolist()
    with pytest.raises(ValueError, match=r"within \[1, 1\]"):
        build_first_stage(member, tmp_path / "a", texts, layers=2)  # every layer: nothing saved
    with pytest.raises(ValueError, match="needs posts"):
        build_first_stage(member, tmp_path / "b", texts[:3], layers=1)
    baseline = tmp_path / "baseline"
    frame = tiny_frame(60)
    train_baseline(frame, frame, out_dir=baseline, settings=FAST, preprocessing=preprocessing_id("classic"))
    with pytest.raises(ValueError, match="cut from a transformer folder"):
        build_first_stage(baseline, tmp_path / "c", texts, layers=1)
    for bad in (-1, "2", True, 1.5):
        with pytest.raises(ConfigError, match="train.cascade_layers"):
            TrainSettings(cascade_layers=bad)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def encoder_cascade(tmp_path_factory: pytest.TempPathFactory):
    """An ensemble (tiny random BERT + TF-IDF baseline) whose cascade reads the transformer's first layer:
    probe fitted on 400 training posts, margin tuned on 250 validation posts, 300 more held out."""
    train, val, test = tiny_frame(400, offset=0), tiny_frame(250, offset=400), tiny_frame(300, offset=650)
    out = tmp_path_factory.mktemp("encoder-cascade") / "model"
    build_tiny_transformer(out / MEMBERS_DIR / "transformer", max_length=16, seed=3)
    train_baseline(train, val, out_dir=out / MEMBERS_DIR / "baseline", settings=FAST,
                   preprocessing=preprocessing_id("classic"))
    assemble_ensemble(out, val, settings=FAST, fingerprint="test", sources=["sample"], train_rows=len(train),
                      first_stage_layers=1, first_stage_texts=train["text"].tolist())
    return out, train, val, test


def _encoder_skips(folder: Path, texts: list[str], **load) -> np.ndarray:
    """The skip rule by hand: the first stage in the transformer's place in the blend, the baseline as is
    (``load``: how the stage is loaded; the cascade runs it without a re-check band)."""
    meta = load_meta(folder)
    stage = Classifier.load(folder / FIRST_STAGE_DIR, int8_verify_margin=0.0, **load).predict_proba(texts)
    base = Classifier.load(folder / MEMBERS_DIR / "baseline").predict_proba(texts)
    weights = np.array([meta.blend[k] for k in meta.labels])
    z = blend_logits([stage, base], weights)  # members are (transformer, baseline)
    t = np.array([meta.thresholds[k] for k in meta.labels])
    temps = np.array([meta.temperatures.get(k, 1.0) for k in meta.labels])
    return (logit(t) - z / temps).min(axis=1) >= meta.cascade["margin"]


def test_encoder_cascade_rule_is_tuned_on_validation_and_recorded(encoder_cascade) -> None:
    folder, train, val, _ = encoder_cascade
    rule = load_meta(folder).cascade
    assert rule["first_stage"] == "encoder" and rule["encoder"]["layers"] == 1
    assert rule["encoder"]["rows"] == len(train) and rule["val"]["recall"] >= 0.995
    texts = val["text"].tolist()
    full = Classifier.load(folder).predict(texts)
    cascade = Classifier.load(folder, cascade=True)
    kept = cascade.predict(texts)
    assert (full & kept).sum() / full.sum() >= 0.995
    assert cascade.skipped_posts == _encoder_skips(folder, texts).sum() > 0
    assert cascade.skipped_posts / len(texts) == pytest.approx(rule["val"]["skipped_share"])


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_encoder_cascade_skips_only_posts_the_first_stage_rules_out(encoder_cascade, precision: str,
                                                                    tmp_path: Path) -> None:
    folder, _, _, test = encoder_cascade
    texts = test["text"].tolist()
    load = {"precision": precision, "cache_dir": tmp_path}
    full = Classifier.load(folder, **load)
    cascade = Classifier.load(folder, cascade=True, **load)
    stage = cascade._backend.first_stage
    assert (stage.precision, stage.int8_verify_margin) == (precision, 0.0)  # its reading only rules posts out
    p_full, w_full = full._scores(texts)
    p_cas, w_cas = cascade._scores(texts)
    skip = _encoder_skips(folder, texts, **load)
    assert cascade.skipped_posts == skip.sum() and 0 < skip.sum() < len(texts)
    assert not (p_cas >= cascade.thresholds)[skip].any()  # a skipped post is never flagged
    assert (w_cas[skip] == 1).all() and (w_cas[~skip] == w_full[~skip]).all()
    # The rest score as without the cascade: exactly up to float rounding in fp32; in int8 the attention's
    # activation scale is per batch, and skipping changes the batches.
    np.testing.assert_allclose(p_cas[~skip], p_full[~skip], atol=1e-6 if precision == "fp32" else 0.05)


def test_encoder_cascade_folder_problems(encoder_cascade, tmp_path: Path) -> None:
    folder, _, val, _ = encoder_cascade
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    shutil.rmtree(broken / FIRST_STAGE_DIR)
    Classifier.load(broken)  # without the cascade the stage is not needed
    with pytest.raises(ModelFolderError, match="first_stage is missing"):
        Classifier.load(broken, cascade=True)
    # Re-assembled with the baseline first stage: the stale stage goes, the rule says baseline.
    again = tmp_path / "again"
    shutil.copytree(folder, again)
    assemble_ensemble(again, val, settings=FAST, fingerprint="test", sources=["sample"], train_rows=400)
    assert not (again / FIRST_STAGE_DIR).exists()
    assert json.loads((again / META_FILE).read_text())["cascade"]["first_stage"] == "baseline"
