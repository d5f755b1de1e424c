"""Tiny, real model folders for the scoring tests (hidden 32, 2 layers), built offline in seconds.

The folders follow the model-folder contract the Classifier reads: ``pantau_model.json`` + an encoder
saved with ``save_pretrained`` + the head written by :func:`pantau.model.layout.save_head`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from pantau.labels import LABEL_KEYS
from pantau.model.layout import save_head
from pantau.model.meta import ModelMeta, save_meta

CORPUS = [
    "dasar cebong tidak tahu diri",
    "kampret dan kadrun sama saja",
    "selamat pagi semua, semoga harimu menyenangkan",
    "usir mereka dari kampung kita sekarang",
    "berita hari ini tentang pemilu dan debat capres",
    "jangan saling menyebut cebong atau kampret, kita semua saudara",
    "makanan di warung itu enak sekali",
    "bodoh banget sih kamu",
] * 4

# Posts to score with the tiny models: short and long, hostile and neutral, one word and several windows.
TEXTS = [
    "dasar cebong tidak tahu diri",
    "selamat pagi semua",
    "usir mereka dari kampung kita sekarang juga",
    "kampret",
    "berita hari ini tentang pemilu dan debat capres, jangan saling menyebut cebong atau kampret",
]


def build_tokenizer(folder: Path) -> PreTrainedTokenizerFast:
    """A WordPiece tokenizer over a handful of Indonesian sentences (lowercasing, [CLS]/[SEP]): every word of
    them, and every character of them alone and as a continuation, so other words split into pieces."""
    # The vocabulary is written out rather than trained: the WordPiece trainer breaks ties between pieces of
    # equal frequency in hash order, so the same seed gave another model from one call to the next.
    tok = Tokenizer(models.WordPiece({"[UNK]": 0}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = sorted({w for text in CORPUS for w, _ in tok.pre_tokenizer.pre_tokenize_str(text.lower())})
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", *chars, *(f"##{c}" for c in chars), *(w for w in words if len(w) > 1)]
    tok.model = models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]")
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    fast.save_pretrained(folder)
    return fast


def build_tiny_transformer(
    folder: Path,
    *,
    labels: tuple[str, ...] = LABEL_KEYS,
    max_length: int = 16,
    preprocessing: str = "none",
    temperatures: dict[str, float] | None = None,
    thresholds: dict[str, float] | None = None,
    seed: int = 0,
) -> Path:
    """Write a random-weight transformer model folder (BERT, hidden 32, 2 layers) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = build_tokenizer(folder)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(folder)
    # Large head weights spread the random model's probabilities so tests see flags on and off.
    head = torch.nn.Linear(32, len(labels))
    with torch.no_grad():
        head.weight.copy_(torch.randn(len(labels), 32) * 0.5)
        head.bias.zero_()
    save_head(folder, head)
    save_meta(
        folder,
        ModelMeta(
            labels=labels,
            thresholds=thresholds or {label: 0.5 for label in labels},
            temperatures=temperatures or {},
            kind="transformer",
            base_model="tiny-bert",
            preprocessing=preprocessing,
            max_length=max_length,
            version="1",
            name="pantau-classifier",
            run_id="test-run",
        ),
    )
    return folder


class KeywordBaseline:
    """A deterministic stand-in for the trained baseline: probability rises with label keywords."""

    keywords: ClassVar[dict[str, tuple[str, ...]]] = {
        "hate_speech": ("cebong", "kadrun"),
        "abusive": ("bodoh", "kampret"),
        "divisive_label": ("cebong", "kampret", "kadrun"),
        "incitement": ("usir", "serang"),
    }

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.full((len(texts), len(LABEL_KEYS)), 0.1)
        for i, text in enumerate(texts):
            for j, label in enumerate(LABEL_KEYS):
                if any(k in text.lower() for k in self.keywords[label]):
                    out[i, j] = 0.9
        return out


HATE_WORDS = ("usir", "cebong", "kadrun", "kampret")


def build_window_probe(folder: Path, *, max_length: int = 16, stride: int = 4) -> Path:
    """A transformer folder whose logit is the share of hate words in a window, by construction.

    Attention and feed-forward outputs are zeroed, so each token's last hidden state is its own
    (layer-normalised) embedding; hate words point along dimension 0, every other token along dimension 1.
    The mean-pooled dimension 0 is therefore proportional to the share of hate words in the window, and
    the head flags a window where that share is above ~15 %: a hateful sentence inside a long post is
    caught in a window of ``max_length`` tokens and diluted away in one of 256.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(folder)
    hidden = 32
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    model = BertModel(config)
    with torch.no_grad():
        for layer in model.encoder.layer:
            layer.attention.output.dense.weight.zero_()
            layer.attention.output.dense.bias.zero_()
            layer.output.dense.weight.zero_()
            layer.output.dense.bias.zero_()
        model.embeddings.position_embeddings.weight.zero_()
        model.embeddings.token_type_embeddings.weight.zero_()
        words = model.embeddings.word_embeddings.weight
        words.zero_()
        words[:, 1] = 1.0
        hate_ids = {tokenizer.convert_tokens_to_ids(w) for w in HATE_WORDS} - {tokenizer.unk_token_id}
        if len(hate_ids) != len(HATE_WORDS):
            raise RuntimeError("the tiny tokenizer split a hate word; extend CORPUS")
        for i in hate_ids:
            words[i, 1] = 0.0
            words[i, 0] = 1.0
    model.save_pretrained(folder)
    # After layer norm a one-hot embedding of 32 dims is ≈ +5.57 on its axis and ≈ -0.18 elsewhere.
    head = torch.nn.Linear(hidden, len(LABEL_KEYS))
    with torch.no_grad():
        head.weight.zero_()
        head.weight[:, 0] = 4.0
        head.bias.fill_(-4.0 * 0.7)
    save_head(folder, head)
    save_meta(folder, ModelMeta(labels=LABEL_KEYS, thresholds={k: 0.5 for k in LABEL_KEYS}, kind="transformer",
                                base_model="tiny-probe", preprocessing="none", max_length=max_length, stride=stride,
                                version="1", name="window-probe"))
    return folder
