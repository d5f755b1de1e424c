"""Sastrawi stemming: one stemmer, word memo, protected words and exceptions, our stopword list."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from pantau.text import resources, stem_tokens, stem_word
from pantau.text.stem import is_override, sastrawi_stemmer, sastrawi_tokens, stem_cache, warm_stem_cache


def test_one_stemmer_per_process() -> None:
    assert sastrawi_stemmer() is sastrawi_stemmer()


@pytest.mark.parametrize(
    "word", ["bali", "bekasi", "jokowi", "prabowo", "anies", "ahok", "kadrun", "cebong", "kampret", "aseng"]
)
def test_protected_words_are_never_stemmed(word: str) -> None:
    assert stem_word(word) == word
    assert is_override(word) == "protected"


def test_sastrawi_over_stems_what_we_protect() -> None:
    # the reason the lists exist: plain Sastrawi changes these words' meaning
    plain = sastrawi_stemmer()
    assert plain.stem("bali") == "bal" and plain.stem("bekasi") == "bekas"
    assert plain.stem("pemilu") == "milu" and stem_word("pemilu") == "pemilu"
    assert plain.stem("bajingan") == "bajing" and stem_word("bajingan") == "bajingan"


def test_every_exception_changes_sastrawi_output() -> None:
    plain = sastrawi_stemmer()
    same = [w for w, s in resources.stem_exceptions().items() if plain.stem(w) == s]
    assert same == [], "exceptions equal to Sastrawi's own stem are dead entries"


def test_other_words_stem_exactly_like_sastrawi() -> None:
    plain = sastrawi_stemmer()
    words = ["pemerintahan", "mendukung", "diusir", "membunuh", "kebencian", "penista", "teman-teman",
             "bubarkan", "menghina", "pendukungnya", "pengkhianat", "berjuang", "dilawan"]  # fmt: skip
    for word in words:
        assert is_override(word) is None
        assert stem_word(word) == plain.stem(word)


def test_stopwords_keep_negations_and_othering_pronouns() -> None:
    stop = resources.stopwords()
    for kept in ["tidak", "bukan", "jangan", "belum", "kalian", "mereka", "kaum", "antek", "semua", "harus"]:
        assert kept not in stop
    for dropped in ["yang", "dan", "di", "ini", "itu", "sih", "rt"]:
        assert dropped in stop


def test_stem_tokens_classic_example() -> None:
    assert stem_tokens("mereka yang tidak mendukung pemilu di bali harus diusir") == [
        "mereka", "tidak", "dukung", "pemilu", "bali", "harus", "usir",
    ]  # fmt: skip
    assert stem_tokens("yang - dan", stopwords=False) == ["yang", "dan"]


def test_sastrawi_tokens_match_sastrawi_normalisation() -> None:
    from Sastrawi.Stemmer.Filter.TextNormalizer import normalize_text

    for text in ["Halo, @user: httpurl!!", "teman-teman 2019 ✨ kadrun#", "  "]:
        assert sastrawi_tokens(text) == normalize_text(text).split()


def test_stem_cache_round_trip() -> None:
    stem_word("mendukung")
    snapshot = stem_cache()
    assert snapshot["mendukung"] == "dukung"
    assert warm_stem_cache({"mendukung": "dukung", "bali": "bal"}) == 2
    assert stem_word("bali") == "bali"  # protected words win over a cache file
    with pytest.raises(ValueError, match="non-empty"):
        warm_stem_cache({"x": ""})


@pytest.mark.realdata
def test_real_posts_differ_from_sastrawi_only_on_protected_words(shared_data: Path) -> None:
    from pantau.text import normalise

    plain = sastrawi_stemmer()
    path = shared_data / "ibrohim2019" / "re_dataset.csv"
    with path.open(encoding="latin-1", newline="") as f:
        posts = [row[0] for row in itertools.islice(csv.reader(f), 1, 1501)]
    reasons: dict[str | None, int] = {}
    for post in posts:
        text = normalise(post)
        ours = stem_tokens(text, stopwords=False)
        theirs = [w for w in plain.stem(text).split(" ") if w.strip("-")]
        assert len(ours) == len(theirs)
        words = [w for w in sastrawi_tokens(text) if w.strip("-")]
        for word, a, b in zip(words, ours, theirs, strict=True):
            if a != b:
                reasons[is_override(word)] = reasons.get(is_override(word), 0) + 1
    assert reasons.get(None, 0) == 0
    assert reasons.get("protected", 0) > 0


def test_shortcuts_agree_with_sastrawi() -> None:
    """Dictionary words and words with digits are returned without running Sastrawi: check that is exact."""
    from pantau.text.stem import _stem_plain

    plain = sastrawi_stemmer()
    roots = resources.sastrawi_roots()
    assert roots == set(plain.delegatedStemmer.dictionary.words)  # the same dictionary Sastrawi consults
    assert not any(ch.isdigit() for root in roots for ch in root)
    sample = sorted(roots)[::50] + ["k4drun", "2019", "di2", "me3nang", "ber4ni", "kan1", "teman2an", "se7"]
    sample += ["teman-teman", "berbalas-balasan", "meniru-nirukan", "malaikat-malaikat-nya", "anak-anaknya",
               "kata-nya", "orang-orang-an", "-abc", "abc-", "a-b-c", "bolak-balik", "sayur-mayur", "2-2",
               "kekanak-kanakan", "sebaik-baiknya", "buku-buku-mu", "huru-hara", "tiba-tiba", "x--y",
               "rumahnya", "makanan", "jualan", "jualkan", "rasisme", "premanisme", "lahan", "pun", "lah",
               "nyanyikan", "tanamkan", "gaulnya", "akal", "ikan", "ian", "kan", "anaklah", "bukunyapun"]  # fmt: skip
    for word in sample:
        assert _stem_plain(word) == plain.stem(word), word


@pytest.mark.realdata
def test_shortcuts_agree_with_sastrawi_on_real_vocabulary(shared_data: Path) -> None:
    from pantau.text.stem import _stem_plain

    plain = sastrawi_stemmer()
    with (shared_data / "ibrohim2019" / "re_dataset.csv").open(encoding="latin-1", newline="") as f:
        posts = [row[0] for row in itertools.islice(csv.reader(f), 1, 3001)]
    words = {w for post in posts for w in sastrawi_tokens(post) if w.strip("-")}
    assert len(words) > 5000
    assert [w for w in sorted(words) if _stem_plain(w) != plain.stem(w)] == []
