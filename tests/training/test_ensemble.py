"""Ensemble of a real tiny transformer and the baseline: weights, folder, scoring, errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from support.training_data import tiny_splits

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.calibrate import logit, objective_value
from pantau.model.classifier import Classifier
from pantau.model.layout import MEMBERS_DIR, blend_logits
from pantau.model.meta import META_FILE, ModelFolderError, ModelMeta, load_meta
from pantau.training.baseline import train_baseline
from pantau.training.data import preprocessing_id
from pantau.training.ensemble import WEIGHT_GRID, fit_blend_weights, train_ensemble
from pantau.training.transformer import train_transformer

FAST = TrainSettings(
    epochs=1, batch_size=8, learning_rate=5e-3, threads=1, early_stopping_patience=1, eval_batch_size=16
)


@pytest.fixture(scope="module")
def ensemble(tiny_base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    splits = tiny_splits()
    train, val = splits["train"], splits["val"]
    out = tmp_path_factory.mktemp("ensemble") / "model"

    def transformer(folder: Path):
        return train_transformer(train, val, base_model=tiny_base_dir, out_dir=folder, settings=FAST,
                                 preprocessing=preprocessing_id("transformer"), base_name="tiny-e5")

    def baseline(folder: Path):
        return train_baseline(train, val, out_dir=folder, settings=FAST, preprocessing=preprocessing_id("classic"))

    result = train_ensemble(train, val, out_dir=out, settings=FAST, train_transformer=transformer,
                            train_baseline=baseline)
    return result, splits


def test_blend_weights_follow_the_informative_member() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(400, 2)).astype(float)
    y[:200, 1] = np.nan  # half the rows do not annotate the second label
    good = np.clip(0.8 * y + 0.1 + rng.normal(0, 0.05, y.shape), 0.01, 0.99)
    good = np.nan_to_num(good, nan=0.5)
    noise = rng.uniform(0.01, 0.99, size=y.shape)
    weights = fit_blend_weights([good, noise], y, ("a", "b"))
    assert weights["a"][0] >= 0.8 and weights["b"][0] >= 0.8
    assert fit_blend_weights([noise, good], y, ("a", "b"))["a"][0] <= 0.2
    # No positives to choose on: equal weights.
    assert fit_blend_weights([good, noise], np.zeros_like(y), ("a", "b"))["a"] == [0.5, 0.5]
    z = blend_logits([good, noise], np.array([[1.0, 0.0], [0.25, 0.75]]))
    np.testing.assert_allclose(z[:, 0], logit(good[:, 0]))
    np.testing.assert_allclose(z[:, 1], 0.25 * logit(good[:, 1]) + 0.75 * logit(noise[:, 1]))
    with pytest.raises(ValueError, match="exactly two"):
        fit_blend_weights([good], y, ("a", "b"))


@pytest.mark.parametrize(("objective", "target"), [("f1", 0.8), ("precision", 0.9)])
def test_blend_weights_maximise_what_the_deployed_threshold_achieves(objective: str, target: float) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=(300, 1)).astype(float)
    a = np.clip(0.6 * y + 0.2 + rng.normal(0, 0.2, y.shape), 0.01, 0.99)
    b = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.25, y.shape), 0.01, 0.99)
    w = fit_blend_weights([a, b], y, ("x",), objective=objective, target_precision=target)["x"][0]
    values = {float(g): objective_value(g * logit(a) + (1 - g) * logit(b), y, objective=objective,
                                        target_precision=target) for g in WEIGHT_GRID}
    assert values[w] == pytest.approx(max(values.values()))
    # Both members together beat either alone here, so the blend is a real mix.
    assert 0.0 < w < 1.0


def test_ensemble_folder_is_self_describing(ensemble) -> None:
    result, _ = ensemble
    meta = load_meta(result.folder)
    assert meta.kind == "ensemble" and meta.members == ("transformer", "baseline")
    assert set(meta.blend) == set(LABEL_KEYS)
    assert all(len(w) == 2 and abs(sum(w) - 1) < 1e-9 for w in meta.blend.values())
    assert load_meta(result.folder / MEMBERS_DIR / "transformer").kind == "transformer"
    assert load_meta(result.folder / MEMBERS_DIR / "baseline").kind == "baseline"
    assert meta.base_model == "tiny-e5" and meta.data_fingerprint
    assert "ensemble" in (result.folder / "README.md").read_text()
    assert result.timings["train_seconds"] > 0 and "transformer_train_seconds" in result.timings


def test_ensemble_scores_like_its_members_blended(ensemble) -> None:
    result, splits = ensemble
    texts = splits["test"]["text"].tolist()
    long_post = " ".join(["kalian semua cebong dungu"] * 120)  # far beyond the tiny model's window
    texts.append(long_post)
    clf = Classifier.load(result.folder)
    probs = clf.predict_proba(texts)
    assert probs.shape == (len(texts), len(LABEL_KEYS)) and np.isfinite(probs).all()
    meta = clf.meta
    members = [Classifier.load(result.folder / MEMBERS_DIR / name) for name in meta.members]
    weights = np.array([meta.blend[k] for k in meta.labels])
    z = blend_logits([m.predict_proba(texts) for m in members], weights)
    temps = np.array([meta.temperatures.get(k, 1.0) for k in meta.labels])
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-z / temps)), atol=1e-6)
    # The window count reports what the transformer member read of the long post.
    scored = clf.score(texts)
    assert scored[-1]["windows"] == members[0].score([long_post])[0]["windows"] > 1
    assert scored[0]["windows"] == 1
    assert clf.describe()["kind"] == "ensemble"


def test_ensemble_folder_errors_name_the_problem(ensemble, tmp_path: Path) -> None:
    import shutil

    result, _ = ensemble
    broken = tmp_path / "broken"
    shutil.copytree(result.folder, broken)
    shutil.rmtree(broken / MEMBERS_DIR / "baseline")
    with pytest.raises(ModelFolderError, match="member 'baseline' missing"):
        Classifier.load(broken)
    raw = json.loads((result.folder / META_FILE).read_text())
    raw["blend"]["abusive"] = [1.0]
    with pytest.raises(ModelFolderError, match="one weight per member"):
        ModelMeta(**{**raw, "labels": tuple(raw["labels"]), "members": tuple(raw["members"])})
    with pytest.raises(ModelFolderError, match="must list its members"):
        dataclasses.replace(load_meta(result.folder), members=())


# -- the cascade (score.cascade): tuned at assembly, applied by the Classifier, counted by the batch job --------


@pytest.fixture(scope="module")
def cascade_ensemble(tmp_path_factory: pytest.TempPathFactory):
    """A real ensemble big enough to measure recall on: a tiny random-weight transformer and a TF-IDF baseline
    trained on 400 sample posts, assembled (weights, calibration, skip rule) on 250, 300 more held out."""
    from support.tiny_models import build_tiny_transformer
    from support.training_data import tiny_frame

    from pantau.training.ensemble import assemble_ensemble

    train, val, test = tiny_frame(400, offset=0), tiny_frame(250, offset=400), tiny_frame(300, offset=650)
    out = tmp_path_factory.mktemp("cascade") / "model"
    build_tiny_transformer(out / MEMBERS_DIR / "transformer", max_length=16, seed=3)
    train_baseline(train, val, out_dir=out / MEMBERS_DIR / "baseline", settings=FAST,
                   preprocessing=preprocessing_id("classic"))
    assemble_ensemble(out, val, settings=FAST, fingerprint="test", sources=["sample"], train_rows=len(train))
    return out, val, test


def _expected_skips(folder: Path, texts: list[str], *, weighted: bool = True) -> np.ndarray:
    """The skip rule computed by hand from the baseline member alone (not through the cascade code path)."""
    meta = load_meta(folder)
    p = Classifier.load(folder / MEMBERS_DIR / "baseline").predict_proba(texts)
    t = np.array([meta.thresholds[k] for k in meta.labels])
    temps = np.array([meta.temperatures.get(k, 1.0) for k in meta.labels])
    gap = logit(t) - logit(p) / temps
    if weighted:  # each label's gap in log-odds of the transformer's reading: divided by its blend weight
        w = np.array([meta.blend[k][list(meta.members).index("transformer")] for k in meta.labels])
        gap = gap / np.maximum(w, 1e-12)  # a label the transformer does not weigh cannot stop a skip
    return gap.min(axis=1) >= meta.cascade["margin"]


def test_cascade_rule_is_tuned_on_validation_and_recorded(cascade_ensemble) -> None:
    folder, val, _ = cascade_ensemble
    rule = load_meta(folder).cascade
    assert rule["first_stage"] == "baseline" and rule["margin"] >= 0 and rule["target_recall"] == 0.995
    assert rule["val"]["posts"] == len(val) and rule["val"]["flags"] > 0 and rule["val"]["recall"] >= 0.995
    texts = val["text"].tolist()
    full = Classifier.load(folder).predict(texts)
    cascade = Classifier.load(folder, cascade=True)
    kept = cascade.predict(texts)
    assert (full & kept).sum() / full.sum() >= 0.995
    assert cascade.skipped_posts == _expected_skips(folder, texts).sum() > 0
    assert cascade.skipped_posts / len(texts) == pytest.approx(rule["val"]["skipped_share"])


def test_cascade_keeps_the_full_ensembles_flags_on_held_out_posts(cascade_ensemble) -> None:
    folder, _, test = cascade_ensemble
    texts = test["text"].tolist() + [" ".join(["kalian semua cebong dungu"] * 40)]  # a long post too
    full = Classifier.load(folder)
    cascade = Classifier.load(folder, cascade=True)
    assert cascade.cascade and not full.cascade and full.skipped_posts == 0
    p_full, w_full = full._scores(texts)
    p_cas, w_cas = cascade._scores(texts)
    skip = _expected_skips(folder, texts)
    assert cascade.skipped_posts == skip.sum() > 0 and (~skip).sum() > 0
    # Posts that reach the transformer score as without the cascade, up to float32 rounding: dropping the
    # skipped posts changes how the rest are batched and padded (measured differences ~2e-8); skipped posts
    # are never flagged.
    np.testing.assert_allclose(p_cas[~skip], p_full[~skip], atol=1e-6)
    assert (w_cas[~skip] == w_full[~skip]).all() and (w_cas[skip] == 1).all()
    assert not (p_cas[skip] >= cascade.thresholds).any()
    flags_full = p_full >= full.thresholds
    assert flags_full.sum() > 0
    assert (flags_full & (p_cas >= cascade.thresholds)).sum() / flags_full.sum() >= 0.995
    # Counting accumulates over calls.
    cascade.predict_proba(texts[:10])
    assert cascade.skipped_posts == skip.sum() + skip[:10].sum()


def test_pantau_score_manifest_counts_posts_that_skipped_the_full_model(cascade_ensemble, tmp_path: Path) -> None:
    from pantau.scoring.local import ScoreOptions, score_files

    folder, _, test = cascade_ensemble
    data = tmp_path / "posts.csv"
    test[["id", "text"]].to_csv(data, index=False)
    skip = _expected_skips(folder, test["text"].tolist())
    on = score_files([data], folder, tmp_path / "on", ScoreOptions(chunk_rows=64, cascade=True)).manifest
    assert on["cascade"] == {"enabled": True, "skipped_full_model": int(skip.sum())}
    assert on["counts"]["scored"] == len(test) and on["settings"]["cascade"] is True
    off = score_files([data], folder, tmp_path / "off", ScoreOptions(chunk_rows=64)).manifest
    assert off["cascade"] == {"enabled": False, "skipped_full_model": 0}


def test_cascade_errors_name_the_problem(cascade_ensemble, tmp_path: Path) -> None:
    import shutil

    from pantau.config import ConfigError, ScoreSettings
    from pantau.model.classifier import ClassifierError

    folder, _, _ = cascade_ensemble
    with pytest.raises(ClassifierError, match="needs an ensemble folder"):
        Classifier.load(folder / MEMBERS_DIR / "transformer", cascade=True)
    # A baseline folder is the cheap stage already: nothing to skip, no error.
    assert Classifier.load(folder / MEMBERS_DIR / "baseline", cascade=True).skipped_posts == 0
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    raw = json.loads((old / META_FILE).read_text())
    raw.pop("cascade")
    (old / META_FILE).write_text(json.dumps(raw))
    Classifier.load(old)  # folders assembled before the cascade still load
    with pytest.raises(ClassifierError, match="skip rule tuned on validation"):
        Classifier.load(old, cascade=True)
    with pytest.raises(ConfigError, match="score.cascade"):
        ScoreSettings(cascade="yes")  # type: ignore[arg-type]


def test_the_skip_rule_weighs_each_gap_by_what_the_transformer_could_change(cascade_ensemble, tmp_path) -> None:
    import shutil

    from pantau.model.cascade import WEIGHTED_DISTANCE, below_thresholds

    # By hand: the same gap counts double where the transformer carries half the weight; a label it does not
    # weigh never stops a skip unless the stand-in itself reaches the threshold.
    z = np.array([[-2.0, -2.0, -2.0], [-2.0, -2.0, 1.0]])
    thresholds, temps, reach = np.full(3, 0.5), np.ones(3), np.array([1.0, 0.5, 0.0])
    np.testing.assert_allclose(below_thresholds(z, thresholds, temps), [2.0, -1.0])
    weighted = below_thresholds(z, thresholds, temps, reach)
    assert weighted[0] == 2.0 and weighted[1] < -1e9  # row 1: the third label is flagged by the stand-in
    # The folder records the weighted rule; one tuned before it (no "distance") keeps the plain gap.
    folder, _, test = cascade_ensemble
    assert load_meta(folder).cascade["distance"] == WEIGHTED_DISTANCE
    texts = test["text"].tolist()
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain, symlinks=True)
    raw = json.loads((plain / META_FILE).read_text())
    raw["cascade"].pop("distance")
    (plain / META_FILE).write_text(json.dumps(raw))
    weighted_skips, plain_skips = _expected_skips(folder, texts), _expected_skips(plain, texts, weighted=False)
    assert (weighted_skips != plain_skips).any()
    old = Classifier.load(plain, cascade=True)
    old.predict_proba(texts)
    assert old.skipped_posts == plain_skips.sum()


def test_tune_margin_keeps_the_target_share_of_flags() -> None:
    from pantau.model.cascade import skipped, tune_margin

    rng = np.random.default_rng(0)
    distance = rng.normal(2.0, 2.0, 5000)
    flags = rng.random((5000, 2)) < 1 / (1 + np.exp(2 * distance[:, None]))  # flagged posts sit near or above
    for target in (0.9, 0.995, 1.0):
        margin = tune_margin(distance, flags, target_recall=target, safety=0.0)  # the tuned margin itself
        skip = skipped(distance, margin)
        assert flags[~skip].sum() / flags.sum() >= target
        # The smallest such margin: skipping one more flagged post would break the target.
        nearest = np.flatnonzero(~skip & flags.any(axis=1))
        worst = nearest[np.argmax(distance[nearest])]
        assert (flags[~skip].sum() - flags[worst].sum()) / flags.sum() < target or margin == 0
    assert tune_margin(distance, np.zeros_like(flags)) == float("inf")
    assert tune_margin(-np.ones(10), np.ones((10, 1), dtype=bool), safety=0.0) == 0.0  # never a negative margin


def test_the_tuned_margin_carries_a_safety_buffer() -> None:
    from pantau.model.cascade import SAFETY_LOGODDS, tune_margin

    rng = np.random.default_rng(3)
    distance, flags = rng.normal(size=200), rng.random((200, 2)) < 0.3
    assert tune_margin(distance, flags) == tune_margin(distance, flags, safety=0.0) + SAFETY_LOGODDS


def test_ensemble_thresholds_follow_threshold_sources(cascade_ensemble, tmp_path: Path) -> None:
    """The blend's thresholds are tuned on the named source's validation rows; weights and temperatures on all."""
    from pantau.model.calibrate import tune_threshold
    from pantau.training.data import label_matrix
    from pantau.training.ensemble import assemble_ensemble

    folder, val, _ = cascade_ensemble
    other = tmp_path / "model"
    for name in ("transformer", "baseline"):
        (other / MEMBERS_DIR).mkdir(parents=True, exist_ok=True)
        (other / MEMBERS_DIR / name).symlink_to(folder / MEMBERS_DIR / name, target_is_directory=True)
    settings = dataclasses.replace(FAST, threshold_sources=("twitter",))
    assemble_ensemble(other, val, settings=settings, fingerprint="test", sources=["sample"], train_rows=1)
    full, only = load_meta(folder), load_meta(other)
    assert only.blend == full.blend and only.temperatures == full.temperatures
    probs = Classifier.load(other).predict_proba(val["text"].tolist())
    y = label_matrix(val, LABEL_KEYS)
    twitter = (val["source"] == "twitter").to_numpy()
    hs = LABEL_KEYS.index("hate_speech")
    assert only.thresholds["hate_speech"] == pytest.approx(tune_threshold(probs[twitter, hs], y[twitter, hs]))
    assert only.thresholds["divisive_label"] == full.thresholds["divisive_label"]  # twitter rows do not annotate it


def test_int8_ensemble_rechecks_its_own_decisions_in_fp32(cascade_ensemble, tmp_path: Path) -> None:
    """The int8 band is applied to the ensemble's score, not to each member's: a member's threshold decides
    nothing, and int8 noise in the transformer moves the blend across the ensemble's threshold."""
    folder, _, test = cascade_ensemble
    texts = test["text"].tolist()
    fp32 = Classifier.load(folder).predict_proba(texts)
    pure = Classifier.load(folder, precision="int8", int8_verify_margin=0.0, cache_dir=tmp_path)
    p_pure = pure.predict_proba(texts)
    banded = Classifier.load(folder, precision="int8", int8_verify_margin=0.3, cache_dir=tmp_path)
    assert all(m.int8_verify_margin == 0.0 for m in banded._backend.members)
    p_band = banded.predict_proba(texts)
    t = banded.thresholds
    near = (np.abs(logit(p_pure) - logit(t)) < 0.3).any(axis=1)
    assert 0 < near.sum() < len(texts)
    np.testing.assert_allclose(p_band[near], fp32[near], atol=1e-6)  # re-checked: the fp32 ensemble's reading
    np.testing.assert_allclose(p_band[~near], p_pure[~near], atol=1e-9)  # the rest: int8, untouched
    assert banded.verified_posts == near.sum()
    assert sum(m.verified_posts for m in banded._backend.members) == 0
    # A band as wide as any score: every decision is fp32's.
    everything = Classifier.load(folder, precision="int8", int8_verify_margin=20.0, cache_dir=tmp_path)
    np.testing.assert_allclose(everything.predict_proba(texts), fp32, atol=1e-6)
    assert everything.verified_posts == len(texts)
