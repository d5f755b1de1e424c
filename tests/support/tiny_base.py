"""A tiny random base model shaped exactly like the imported e5-small (for model and end-to-end tests)."""

from __future__ import annotations

from pathlib import Path


def build_tiny_base(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny random BERT (hidden 32, 2 layers, 2 heads) with the real imported e5/XLM-R tokenizer.

    Same architecture, vocabulary, special tokens and config keys as the imported
    ``e5-small-offline`` base, so code that works on it works on the real one — only smaller.
    """
    import torch
    from transformers import BertConfig, BertModel

    from pantau.training.e5_import import default_source, read_e5, save_tokenizer

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
