"""The Classifier on real tiny models built in fixtures (BERT hidden 32, 2 layers; a saved baseline)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from support.tiny_models import TEXTS, KeywordBaseline, build_tiny_transformer

from pantau.labels import LABEL_KEYS
from pantau.model.classifier import (
    Classifier,
    ClassifierError,
    risk_from_probabilities,
)
from pantau.model.layout import HEAD_FILE, MeanPoolClassifier
from pantau.model.meta import META_FILE, ModelFolderError, ModelMeta, load_meta, save_meta


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("tiny") / "model", max_length=16)


@pytest.fixture(scope="module")
def clf(tiny_model: Path) -> Classifier:
    return Classifier.load(tiny_model, stride=4, batch_size=2)


def test_probabilities_have_label_order_and_range(clf: Classifier) -> None:
    probs = clf.predict_proba(TEXTS)
    assert clf.labels == LABEL_KEYS
    assert probs.shape == (len(TEXTS), len(LABEL_KEYS))
    assert np.all((probs > 0) & (probs < 1))
    # A random model still separates texts: not every row is the same.
    assert np.ptp(probs, axis=0).max() > 1e-3


def test_batching_sorting_and_padding_do_not_change_results(clf: Classifier) -> None:
    together = clf.predict_proba(TEXTS)
    one_by_one = np.vstack([clf.predict_proba([t]) for t in TEXTS])
    reversed_order = clf.predict_proba(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_allclose(together, reversed_order, atol=1e-5)


def test_long_post_is_read_whole_in_overlapping_windows(clf: Classifier) -> None:
    long_text = " ".join(["berita pemilu hari ini"] * 15 + ["usir mereka dari kampung kita"])
    backend = clf._backend
    tokens = backend.tokenizer(long_text, add_special_tokens=False)["input_ids"]
    windows = backend.windows([long_text])
    room = clf.max_length - backend.tokenizer.num_special_tokens_to_add()
    step = room - clf.stride
    expected = 1 + -(-(len(tokens) - room) // step)
    assert len(windows.ids) == expected > 3
    # Stitching windows back (dropping specials and the overlap) gives every token of the text.
    stitched: list[int] = []
    for i, ids in enumerate(windows.ids):
        body = ids[1:-1]
        stitched.extend(body if i == 0 else body[clf.stride :])
    assert stitched == tokens
    # The post's probability is the max over its windows, each scored as its own batch.
    per_window = np.vstack(
        [
            1 / (1 + np.exp(-backend.window_logits(type(windows)([w], np.zeros(1, dtype=np.int64)))))
            for w in windows.ids
        ]
    )
    scored = clf.score([long_text])[0]
    assert scored["windows"] == expected
    np.testing.assert_allclose(clf.predict_proba([long_text])[0], per_window.max(axis=0), atol=1e-5)


def test_score_rows_are_consistent_with_thresholds(clf: Classifier) -> None:
    rows = clf.score(TEXTS)
    probs = clf.predict_proba(TEXTS)
    flags = clf.predict(TEXTS)
    for i, row in enumerate(rows):
        assert list(row["probabilities"]) == list(LABEL_KEYS)
        assert [row["probabilities"][k] for k in LABEL_KEYS] == pytest.approx(probs[i].tolist(), abs=1e-9)
        assert [row["flags"][k] for k in LABEL_KEYS] == flags[i].tolist()
        assert (row["risk"] >= 0.5) == any(row["flags"].values())
    assert [r["windows"] for r in rows] == [1, 1, 1, 1, 2]  # the last post is longer than 16 tokens
    assert clf.predict_proba([]).shape == (0, len(LABEL_KEYS))


def test_temperatures_divide_the_logits(tmp_path: Path) -> None:
    plain = build_tiny_transformer(tmp_path / "plain", seed=3)
    warm = Path(shutil.copytree(plain, tmp_path / "warm"))
    save_meta(warm, dataclasses.replace(load_meta(plain), temperatures={"abusive": 2.0}))
    p1 = Classifier.load(plain, stride=4).predict_proba(TEXTS)
    p2 = Classifier.load(warm, stride=4).predict_proba(TEXTS)
    logit = lambda p: np.log(p / (1 - p))
    j = LABEL_KEYS.index("abusive")
    np.testing.assert_allclose(logit(p2[:, j]), logit(p1[:, j]) / 2.0, atol=1e-4)
    others = [k for k in range(len(LABEL_KEYS)) if k != j]
    np.testing.assert_allclose(p2[:, others], p1[:, others], atol=1e-6)


def test_int8_runs_a_cached_quantised_onnx_model_close_to_fp32(
    tiny_model: Path, clf: Classifier, tmp_path: Path
) -> None:
    import onnx

    q = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0)
    (cached,) = list(tmp_path.glob("*.int8.onnx"))
    graph = onnx.load(str(cached)).graph
    ops = [n.op_type for n in graph.node]
    # Each of the 2 layers: query/key/value fused into one int8 QAttention; attention output, feed-forward
    # input and (per-token scales) feed-forward output as int8 MatMulInteger; only the head stays an fp32 MatMul.
    # Residual sums are plain Adds before LayerNormalization (2 per layer, 1 after the embeddings).
    assert ops.count("QAttention") == 2
    assert ops.count("MatMulInteger") == 6
    assert "SkipLayerNormalization" not in ops and ops.count("LayerNormalization") == 5
    plain = [
        n
        for n in graph.node
        if n.op_type == "MatMul" and any(i.name in n.input and len(i.dims) == 2 for i in graph.initializer)
    ]
    assert len(plain) == 1
    diff = np.abs(q.predict_proba(TEXTS) - clf.predict_proba(TEXTS)).max()
    assert diff < 0.05
    # Padding is masked in the exported graph: batched (padded) and one-by-one results agree.
    one_by_one = np.vstack([q.predict_proba([t]) for t in TEXTS])
    assert np.abs(q.predict_proba(TEXTS) - one_by_one).max() < 0.02
    # A second load reuses the cached file instead of quantising again.
    mtime = cached.stat().st_mtime_ns
    again = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0)
    assert cached.stat().st_mtime_ns == mtime
    np.testing.assert_allclose(again.predict_proba(TEXTS), q.predict_proba(TEXTS), atol=1e-6)


def test_int8_rescores_posts_near_a_threshold_in_fp32(
    tiny_model: Path, clf: Classifier, tmp_path: Path
) -> None:
    from pantau.model.calibrate import logit

    texts = TEXTS * 3
    pure = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0)
    p8 = pure.predict_proba(texts)
    p32 = clf.predict_proba(texts)
    margin = float(np.median(np.abs(logit(p8) - logit(clf.thresholds)).min(axis=1)))  # about half the posts
    checked = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=margin)
    got = checked.predict_proba(texts)
    near = (np.abs(logit(p8) - logit(clf.thresholds)) < margin).any(axis=1)
    assert 0 < near.sum() < len(texts) and checked.verified_posts == near.sum()
    np.testing.assert_allclose(got[near], p32[near], atol=1e-6)  # re-scored at full precision
    np.testing.assert_allclose(got[~near], p8[~near], atol=1e-6)  # far from every threshold: int8 kept
    everything = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=20)
    np.testing.assert_allclose(everything.predict_proba(texts), p32, atol=1e-6)
    assert everything.describe()["int8_verify_margin"] == 20
    assert Classifier.load(tiny_model).describe()["int8_verify_margin"] == 0.0  # fp32: nothing to verify
    with pytest.raises(ClassifierError, match="int8_verify_margin"):
        Classifier.load(tiny_model, precision="int8", int8_verify_margin=-1)


def test_building_the_int8_model_leaves_the_fp32_model_in_eval_mode(
    tiny_model: Path, clf: Classifier, tmp_path: Path
) -> None:
    # The first load quantises in this process (empty cache): the export must not switch dropout on in
    # the fp32 model that verifies near-threshold posts, or "verified" scores are random.
    texts = TEXTS * 2
    fresh = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path / "new", int8_verify_margin=20)
    assert not any(m.training for m in fresh._backend.fp32_model.modules())
    np.testing.assert_allclose(fresh.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    np.testing.assert_allclose(fresh.predict_proba(texts), fresh.predict_proba(texts), atol=0)


def test_int8_without_a_recheck_band_does_not_keep_the_fp32_copy(tiny_model: Path, tmp_path: Path) -> None:
    import gc
    import weakref

    checked = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0.5)
    assert checked._backend.fp32_model is not None  # the band re-scores in fp32: it needs it
    pure = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0)
    assert pure._backend.fp32_model is None
    # Nothing else holds the fp32 weights either: a fresh load's encoder is collected.
    from pantau.model import backends

    seen: list[weakref.ref] = []
    original = backends.load_encoder

    def spy(folder: Path):
        encoder = original(folder)
        seen.append(weakref.ref(encoder))
        return encoder

    backends.load_encoder = spy
    try:
        # The int8 copy is cached: the fp32 weights are not even read.
        again = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path, int8_verify_margin=0)
        assert seen == []
        # A cold cache needs them once, to export and quantise; afterwards nothing holds them.
        cold = Classifier.load(tiny_model, precision="int8", stride=4, cache_dir=tmp_path / "cold",
                               int8_verify_margin=0)
    finally:
        backends.load_encoder = original
    gc.collect()
    assert len(seen) == 1 and seen[0]() is None
    np.testing.assert_allclose(again.predict_proba(TEXTS), pure.predict_proba(TEXTS), atol=1e-6)
    np.testing.assert_allclose(cold.predict_proba(TEXTS), pure.predict_proba(TEXTS), atol=1e-6)
    with pytest.raises(ClassifierError, match="without its fp32 copy"):
        again._backend.fp32_logits(TEXTS)
    with pytest.raises(ClassifierError, match="exceeds the encoder's"):
        Classifier.load(tiny_model, precision="int8", cache_dir=tmp_path, int8_verify_margin=0, max_length=10_000)


def test_head_is_mean_pooling_plus_linear(tiny_model: Path, clf: Classifier) -> None:
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    enc = AutoModel.from_pretrained(tiny_model).eval()
    head = load_file(str(tiny_model / HEAD_FILE))
    batch = tok(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        hidden = enc(**batch).last_hidden_state[0]
    logits = hidden.mean(dim=0) @ head["weight"].T + head["bias"]
    np.testing.assert_allclose(clf.predict_proba(TEXTS[:1])[0], torch.sigmoid(logits).numpy(), atol=1e-5)
    assert isinstance(clf._backend.model, MeanPoolClassifier)


def test_baseline_kind_uses_the_saved_object(tmp_path: Path) -> None:
    folder = tmp_path / "baseline"
    folder.mkdir()
    joblib.dump(KeywordBaseline(), folder / "baseline.joblib")
    save_meta(
        folder,
        ModelMeta(
            labels=LABEL_KEYS,
            thresholds={k: 0.5 for k in LABEL_KEYS},
            kind="baseline",
            preprocessing="none",
            version="b1",
        ),
    )
    clf = Classifier.load(folder)
    probs = clf.predict_proba(["dasar cebong", "selamat pagi"])
    np.testing.assert_allclose(probs[0], [0.9, 0.1, 0.9, 0.1], atol=1e-6)
    np.testing.assert_allclose(probs[1], [0.1] * 4, atol=1e-6)
    assert [r["windows"] for r in clf.score(["a", "b"])] == [1, 1]


def test_clear_errors_for_bad_arguments_and_folders(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(ClassifierError, match="precision"):
        Classifier.load(tiny_model, precision="fp16")
    with pytest.raises(ClassifierError, match="stride"):
        Classifier.load(tiny_model, stride=-1)
    assert Classifier.load(tiny_model, stride=64).stride == 7  # shrunk to half of the 14-token text room
    with pytest.raises(ClassifierError, match="batch_size"):
        Classifier.load(tiny_model, batch_size=0)
    with pytest.raises(ModelFolderError, match="does not exist"):
        Classifier.load(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFolderError, match=META_FILE):
        Classifier.load(empty)
    broken = build_tiny_transformer(tmp_path / "broken")
    save_file({"weight": torch.zeros(3, 32), "bias": torch.zeros(3)}, str(broken / HEAD_FILE))
    with pytest.raises(ModelFolderError, match="do not match"):
        Classifier.load(broken, stride=4)
    clf = Classifier.load(tiny_model, stride=4)
    with pytest.raises(ClassifierError, match="strings"):
        clf.predict_proba(["ok", None])  # type: ignore[list-item]


def test_preprocessing_recorded_in_the_model_is_applied(tmp_path: Path) -> None:
    from pantau import text

    raw = build_tiny_transformer(tmp_path / "raw", preprocessing="none")
    pre = Path(shutil.copytree(raw, tmp_path / "pre"))
    save_meta(pre, dataclasses.replace(load_meta(raw), preprocessing="transformer/1"))
    posts = ["RT @user: DASAR CEBOOONG!!! https://t.co/x", "kamu b0d0h bgt"]
    expected = Classifier.load(raw, stride=4).predict_proba(list(text.preprocess(posts, "transformer")))
    np.testing.assert_allclose(Classifier.load(pre, stride=4).predict_proba(posts), expected, atol=1e-6)
    assert not np.allclose(Classifier.load(raw, stride=4).predict_proba(posts), expected, atol=1e-6)
    # Options recorded in the version are honoured; unknown versions are refused.
    save_meta(pre, dataclasses.replace(load_meta(raw), preprocessing="transformer/1+noslang"))
    expected = Classifier.load(raw, stride=4).predict_proba(
        text.preprocess(posts, "transformer", slang=False)
    )
    np.testing.assert_allclose(Classifier.load(pre, stride=4).predict_proba(posts), expected, atol=1e-6)
    for bad, message in (
        ("transformer/0", "trained with preprocessing"),
        ("transformer/1+kamusalay-abc", "kamusalay"),
    ):
        save_meta(pre, dataclasses.replace(load_meta(raw), preprocessing=bad))
        with pytest.raises(ModelFolderError, match=message):
            Classifier.load(pre, stride=4).predict_proba(posts)


def test_risk_maps_each_threshold_to_one_half() -> None:
    thresholds = [0.2, 0.7]
    probs = np.array([[0.2, 0.0], [0.0, 0.7], [0.1, 0.35], [1.0, 0.0], [0.3, 0.6], [0.0, 0.0]])
    risk = risk_from_probabilities(probs, thresholds)
    np.testing.assert_allclose(risk[:4], [0.5, 0.5, 0.25, 1.0])
    # 0.3 on a label tuned at 0.2 is past its threshold; 0.6 on one tuned at 0.7 is not.
    assert risk[4] > 0.5 and risk[5] == 0.0
    flags = probs >= np.array(thresholds)
    assert np.array_equal(risk >= 0.5, flags.any(axis=1))


def test_meta_roundtrip_is_what_the_classifier_reports(tiny_model: Path, clf: Classifier) -> None:
    meta = json.loads((tiny_model / META_FILE).read_text())
    ident = clf.describe()
    assert (ident["model_name"], ident["model_version"], ident["run_id"]) == (
        meta["name"],
        meta["version"],
        meta["run_id"],
    )
