"""The named pipelines, their versions and the public API the team codes against."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau import text
from pantau.text import PIPELINES, PREPROCESSING_VERSION, preprocess, preprocessing_version


def test_public_api() -> None:
    for name in ["normalise", "preprocess", "PREPROCESSING_VERSION", "find_spans", "Span", "lexicon_features",
                 "load_kamusalay"]:  # fmt: skip
        assert hasattr(text, name)
    assert PREPROCESSING_VERSION == {"transformer": "transformer/1", "classic": "classic/1"}
    assert PIPELINES == ("transformer", "classic")


def test_transformer_and_classic() -> None:
    posts = ["Dasar k4drun, mereka yg gk mendukung pemilu harus diusir!!! https://t.co/x"]
    assert preprocess(posts) == ["dasar kadrun, mereka yang tidak mendukung pemilu harus diusir!!! httpurl"]
    assert preprocess(posts, "classic") == ["dasar kadrun mereka tidak dukung pemilu harus usir httpurl"]
    assert preprocess([], "classic") == []


def test_unknown_pipeline_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="transformer, classic"):
        preprocess(["x"], "bert")


def test_non_string_items_are_rejected() -> None:
    with pytest.raises(TypeError):
        preprocess(["ok", 3])  # type: ignore[list-item]


def test_preprocessing_version_records_options(tmp_path: Path) -> None:
    assert preprocessing_version("classic") == "classic/1"
    assert preprocessing_version("transformer", lowercase=False, slang=False) == "transformer/1+cased+noslang"
    kamus = tmp_path / "k.csv"
    kamus.write_text("gw,gue\n", encoding="utf-8")
    version = preprocessing_version("transformer", kamusalay_path=kamus)
    assert version.startswith("transformer/1+kamusalay-") and len(version.split("-")[-1]) == 12
    assert preprocess(["gw gk"], kamusalay_path=kamus) == ["gue tidak"]
    with pytest.raises(ValueError):
        preprocessing_version("nope")


def test_classic_chunk_memo_equals_stemming_the_normalised_post() -> None:
    from pantau.text import normalise, stem_tokens

    posts = [
        "Dasar k4drun!! mereka yg mendukung pemilu di Bali",
        "k a d r u n #KadrunLaknat teman2",
        "yang dan di",
    ]
    for _ in range(2):  # second round comes from the memo
        for post, out in zip(posts, preprocess(posts, "classic"), strict=True):
            assert out == " ".join(stem_tokens(normalise(post)))
