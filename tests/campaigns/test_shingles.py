"""Words and shingles: what a near-duplicate must share, after pantau.text's normaliser."""

from __future__ import annotations

import pytest

from pantau.campaigns import shingles, words
from pantau.campaigns.shingles import default_normalise


@pytest.fixture(scope="module")
def norm():
    return default_normalise()


def test_surface_changes_do_not_change_the_words(norm):
    base = words(norm("Ayo dukung paslon nomor dua demi Indonesia maju"))
    for variant in [
        "AYO DUKUNG PASLON NOMOR DUA DEMI INDONESIA MAJU",
        "Ayo dukung paslon nomor dua demi Indonesia maju 🔥🔥🇮🇩",
        "@budi_99 Ayo dukung paslon nomor dua demi Indonesia maju https://t.co/abc",
        "RT @relawan: Ayo dukung paslon nomor dua demi Indonesia majuuuu!!!",
        "Ayo dukung paslon nomor dua, demi Indonesia maju...",
    ]:
        assert words(norm(variant)) == base, variant


def test_hashtags_split_into_words(norm):
    assert words(norm("#IndonesiaMaju")) == ["indonesia", "maju"]


def test_placeholders_emoji_and_punctuation_dropped():
    assert words("rt @user : httpurl emailaddr 😡 !!! halo") == ["halo"]


def test_char_shingles():
    got = {s.decode() for s in shingles(["ayo", "maju"], "char", 5)}
    assert got == {"ayo m", "yo ma", "o maj", " maju"}
    assert shingles(["ayo"], "char", 5) == [b"ayo"]  # shorter than one shingle: itself
    assert shingles([], "char", 5) == []


def test_word_shingles():
    got = {s.decode() for s in shingles(["a", "b", "c", "d"], "word", 2)}
    assert got == {"a b", "b c", "c d"}
    assert shingles(["a", "b"], "word", 3) == [b"a b"]


def test_unknown_unit():
    with pytest.raises(ValueError, match="shingle unit"):
        shingles(["a"], "line", 2)
