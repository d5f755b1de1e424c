"""Fine-tuning a real tiny transformer (BERT hidden 32, 2 layers, real XLM-R tokenizer) end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from support.training_data import tiny_splits

from pantau.config import TrainSettings
from pantau.labels import LABEL_KEYS
from pantau.model.classifier import Classifier
from pantau.model.layout import HEAD_FILE
from pantau.model.meta import load_meta
from pantau.training.data import (
    TrainDataError,
    data_fingerprint,
    positive_weights,
    validate_frame,
)
from pantau.training.transformer import (
    MeanPoolingModel,
    PaddingCollator,
    choose_max_length,
    macro_f1_tuned,
    masked_bce,
    train_transformer,
)

FAST = TrainSettings(
    epochs=2, batch_size=8, learning_rate=5e-3, threads=1, early_stopping_patience=1, eval_batch_size=16
)


@pytest.fixture(scope="module")
def trained(tiny_base_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    splits = tiny_splits()
    out = tmp_path_factory.mktemp("trained") / "model"
    return train_transformer(
        splits["train"],
        splits["val"],
        base_model=tiny_base_dir,
        out_dir=out,
        settings=FAST,
        preprocessing="none",
        base_name="tiny-e5",
    ), splits


def test_masked_bce_ignores_unannotated_cells() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    labels = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    loss = masked_bce(logits, labels, None, None)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], labels[:, 0])
    assert torch.isclose(loss, expected)
    # Changing the logits of unannotated cells does not change the loss or its gradient path.
    logits2 = logits.clone()
    logits2[:, 1] = 100.0
    assert torch.isclose(masked_bce(logits2, labels, None, None), loss)
    assert torch.isfinite(loss)


def test_masked_bce_weights_rows_and_positives() -> None:
    logits = torch.tensor([[0.0], [0.0]])
    labels = torch.tensor([[1.0], [0.0]])
    plain = masked_bce(logits, labels, None, None)
    pos_heavy = masked_bce(logits, labels, None, torch.tensor([3.0]))
    assert pos_heavy > plain  # the positive cell's loss is multiplied by 3
    # Row weight 0 removes the row: only the negative remains.
    only_neg = masked_bce(logits, labels, torch.tensor([0.0, 1.0]), None)
    assert torch.isclose(only_neg, torch.tensor(math.log(2.0)))


def test_positive_weights_are_ratio_clipped() -> None:
    y = np.array([[1, 0, np.nan], [0, 0, np.nan], [0, 0, 1], [0, 1, 0]], dtype=float)
    np.testing.assert_allclose(positive_weights(y, cap=2.5), [2.5, 2.5, 1.0])


def test_validate_frame_errors_are_clear() -> None:
    frame = tiny_splits(8, 4, 4)["train"]
    with pytest.raises(TrainDataError, match="missing column"):
        validate_frame(frame.drop(columns=["weight"]))
    bad = frame.copy()
    bad.loc[0, "abusive"] = 2.0
    with pytest.raises(TrainDataError, match="abusive"):
        validate_frame(bad)
    with pytest.raises(TrainDataError, match="no rows"):
        validate_frame(frame.iloc[:0])


def test_fingerprint_depends_on_content_not_order() -> None:
    frame = tiny_splits(12, 4, 4)["train"]
    fp = data_fingerprint(frame)
    assert fp.startswith("sha256:")
    assert data_fingerprint(frame.iloc[::-1]) == fp
    changed = frame.copy()
    changed.loc[3, "hate_speech"] = 1.0 - changed.loc[3, "hate_speech"]
    assert data_fingerprint(changed) != fp
    unannotated = frame.copy()
    unannotated.loc[0, "abusive"] = np.nan
    assert data_fingerprint(unannotated) != fp


def test_choose_max_length_uses_percentile_and_cap(tiny_base_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base_dir)
    texts = ["pendek"] * 19 + [" ".join(["kata"] * 300)]
    assert choose_max_length(tok, texts, percentile=90, cap=64) == 16  # floor wins for short texts
    assert choose_max_length(tok, texts, percentile=100, cap=64) == 64  # the cap wins
    with pytest.raises(TrainDataError):
        choose_max_length(tok, [], percentile=95, cap=64)


def test_collator_pads_dynamically_and_keeps_nan() -> None:
    batch = PaddingCollator(pad_id=1)(
        [
            {"input_ids": [0, 5, 2], "labels": np.array([1.0, np.nan]), "sample_weight": 0.5},
            {"input_ids": [0, 2], "labels": np.array([0.0, 1.0]), "sample_weight": 1.0},
        ]
    )
    assert batch["input_ids"].tolist() == [[0, 5, 2], [0, 2, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert torch.isnan(batch["labels"][0, 1]) and batch["sample_weight"].tolist() == [0.5, 1.0]


def test_macro_f1_tuned_skips_labels_without_positives() -> None:
    logits = np.array([[3.0, 0.0], [-3.0, 0.0], [2.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, np.nan], [1.0, 0.0]])
    macro, per_label = macro_f1_tuned(logits, y)
    assert macro == 1.0 and per_label[0] == 1.0 and math.isnan(per_label[1])


def test_mean_pooling_ignores_padding(tiny_base_dir: Path) -> None:
    from transformers import AutoModel

    torch.manual_seed(0)
    model = MeanPoolingModel(AutoModel.from_pretrained(tiny_base_dir), 4).eval()
    ids = torch.tensor([[0, 1000, 2000, 2]])
    padded = torch.tensor([[0, 1000, 2000, 2, 1, 1]])
    a = model(ids, torch.ones_like(ids))["logits"]
    b = model(padded, torch.tensor([[1, 1, 1, 1, 0, 0]]))["logits"]
    assert torch.allclose(a, b, atol=1e-5)


def test_train_writes_a_folder_the_classifier_loads(trained, tiny_base_dir: Path) -> None:
    result, splits = trained
    folder = result.folder
    meta = load_meta(folder)
    assert meta.kind == "transformer" and meta.labels == LABEL_KEYS and meta.pooling == "mean"
    assert meta.base_model == "tiny-e5" and meta.preprocessing == "none"
    assert meta.data_fingerprint == data_fingerprint(splits["train"])
    assert 16 <= meta.max_length <= FAST.max_length
    assert set(meta.thresholds) == set(LABEL_KEYS) and all(0 < t < 1 for t in meta.thresholds.values())
    assert all(t > 0 for t in meta.temperatures.values()) and set(meta.temperatures) == set(LABEL_KEYS)
    assert (folder / "README.md").read_text(encoding="utf-8").startswith("# pantau-classifier")
    head = load_file(str(folder / HEAD_FILE))
    assert tuple(head["weight"].shape) == (4, 32) and tuple(head["bias"].shape) == (4,)
    clf = Classifier.load(folder, stride=meta.max_length // 4)
    probs = clf.predict_proba(splits["test"]["text"].tolist())
    assert probs.shape == (len(splits["test"]), 4) and np.all((probs >= 0) & (probs <= 1))
    # One history row per epoch with the validation macro-F1 the early stopping read.
    assert [h["epoch"] for h in result.history] == [1.0, 2.0]
    assert all("eval_macro_f1" in h and "loss" in h for h in result.history)
    assert result.timings["train_samples_per_second"] > 0 and result.timings["epoch_1_seconds"] > 0


def test_training_moves_the_head_but_not_frozen_embeddings(trained, tiny_base_dir: Path) -> None:
    result, _ = trained
    base = load_file(str(tiny_base_dir / "model.safetensors"))
    tuned = load_file(str(result.folder / "model.safetensors"))
    emb_key = next(k for k in base if k.endswith("word_embeddings.weight"))
    assert torch.equal(base[emb_key], tuned[next(k for k in tuned if k.endswith("word_embeddings.weight"))])
    layer_key = next(k for k in base if "encoder.layer.0.attention" in k and k.endswith("weight"))
    tuned_key = next(k for k in tuned if k.endswith(layer_key.split("encoder.", 1)[1]))
    assert not torch.equal(base[layer_key], tuned[tuned_key])


@pytest.mark.slow
def test_training_is_reproducible(trained, tiny_base_dir: Path, tmp_path: Path) -> None:
    result, splits = trained
    again = train_transformer(
        splits["train"],
        splits["val"],
        base_model=tiny_base_dir,
        out_dir=tmp_path / "m",
        settings=FAST,
        preprocessing="none",
        base_name="tiny-e5",
    )
    a = load_file(str(result.folder / HEAD_FILE))
    b = load_file(str(again.folder / HEAD_FILE))
    assert torch.equal(a["weight"], b["weight"]) and torch.equal(a["bias"], b["bias"])
    assert again.meta.thresholds == result.meta.thresholds


@pytest.mark.slow
def test_early_stopping_stops_when_macro_f1_stalls(tiny_base_dir: Path, tmp_path: Path) -> None:
    splits = tiny_splits()
    settings = TrainSettings(
        epochs=8, batch_size=16, learning_rate=1e-9, threads=1, early_stopping_patience=1, eval_batch_size=16
    )
    result = train_transformer(
        splits["train"], splits["val"], base_model=tiny_base_dir, out_dir=tmp_path / "m", settings=settings
    )
    assert 2 <= len(result.history) < 8  # a learning rate of 1e-9 cannot improve: patience 1 stops it


def test_train_rejects_frames_without_labels(tiny_base_dir: Path, tmp_path: Path) -> None:
    frame = tiny_splits(8, 4, 4)["train"].drop(columns=["incitement"])
    with pytest.raises(TrainDataError, match="incitement"):
        train_transformer(frame, frame, base_model=tiny_base_dir, out_dir=tmp_path, settings=FAST)


def test_optimizer_gives_the_head_a_higher_rate_and_skips_frozen_embeddings(tiny_base_dir: Path,
                                                                             tmp_path: Path) -> None:
    from transformers import AutoModel, TrainingArguments

    from pantau.training.transformer import MaskedBCETrainer

    encoder = AutoModel.from_pretrained(tiny_base_dir)
    encoder.get_input_embeddings().weight.requires_grad_(False)
    model = MeanPoolingModel(encoder, 4)
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, weight_decay=0.01, use_cpu=True,
                             report_to="none")
    trainer = MaskedBCETrainer(model=model, args=args, head_lr_multiplier=5.0)
    optimizer = trainer.create_optimizer()
    lrs = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    assert lrs[id(model.head.weight)] == pytest.approx(5e-3)
    assert lrs[id(encoder.encoder.layer[0].attention.self.query.weight)] == pytest.approx(1e-3)
    assert id(encoder.get_input_embeddings().weight) not in lrs
    # Biases and LayerNorm weights are not decayed, as in the Trainer's default optimiser.
    assert {g["weight_decay"] for g in optimizer.param_groups} == {0.0, 0.01}


def test_freeze_bottom_layers_stops_gradients_below_the_top_blocks(tiny_base_dir: Path) -> None:
    from transformers import AutoModel

    from pantau.training.transformer import freeze_bottom_layers

    encoder = AutoModel.from_pretrained(tiny_base_dir)
    frozen = freeze_bottom_layers(encoder, 1)
    blocks = encoder.encoder.layer
    assert frozen == sum(p.numel() for p in encoder.embeddings.parameters()) + sum(
        p.numel() for p in blocks[0].parameters()
    )
    assert not any(p.requires_grad for p in blocks[0].parameters())
    assert all(p.requires_grad for p in blocks[1].parameters())
    model = MeanPoolingModel(encoder, len(LABEL_KEYS))
    ids = torch.tensor([[0, 100, 200, 2]])
    out = model(ids, torch.ones_like(ids))["logits"].sum()
    out.backward()
    assert blocks[0].attention.self.query.weight.grad is None
    assert blocks[1].attention.self.query.weight.grad is not None
    with pytest.raises(TrainDataError, match="at most 1"):
        freeze_bottom_layers(AutoModel.from_pretrained(tiny_base_dir), 2)
    assert freeze_bottom_layers(AutoModel.from_pretrained(tiny_base_dir), 0) == 0


def test_bf16_supported_reads_the_hardware() -> None:
    from pantau.training.transformer import bf16_supported

    assert bf16_supported() is (torch.cuda.is_available() or _cpu_has_bf16())


def test_training_with_frozen_layers_records_them(tiny_base_dir: Path, tmp_path: Path) -> None:
    import dataclasses

    splits = tiny_splits()
    settings = dataclasses.replace(FAST, epochs=1, freeze_layers=1, bf16=True)
    result = train_transformer(
        splits["train"], splits["val"], base_model=tiny_base_dir, out_dir=tmp_path / "m",
        settings=settings, preprocessing="none", base_name="tiny-e5",
    )
    assert result.params["freeze_layers"] == 1
    assert result.params["bf16_used"] == (torch.cuda.is_available() or _cpu_has_bf16())
    encoder_frozen = result.params["frozen"]
    assert encoder_frozen > 0
    probs = Classifier.load(result.folder).predict_proba(splits["val"]["text"].tolist())
    assert probs.shape == (len(splits["val"]), len(LABEL_KEYS)) and np.isfinite(probs).all()


def _cpu_has_bf16() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags
