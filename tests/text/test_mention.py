"""Mention cues around divisive terms, read from the raw text."""

from __future__ import annotations

import numpy as np

from pantau.text import find_spans
from pantau.text.mention import CUE_NAMES, cues_at, mention_cues


def cues(text: str) -> dict[str, float]:
    return dict(zip(CUE_NAMES, mention_cues([text])[0], strict=True))


def test_a_used_label_has_no_mention_cue() -> None:
    assert cues("dasar kadrun semua, tidak tahu malu") == {
        "quoted": 0,
        "after_reporting_word": 0,
        "appeal_in_sentence": 0,
        "spans": 1,
    }


def test_reported_and_prohibited_labels_are_mentions() -> None:
    got = cues("Bawaslu imbau peserta pemilu tidak menggunakan sebutan cebong dalam kampanye")
    assert got["after_reporting_word"] == 1 and got["appeal_in_sentence"] == 1 and got["quoted"] == 0


def test_a_quoted_term_counts_whatever_the_quote_character() -> None:
    for quote in ("'", '"', "“", "‘"):
        closing = {"“": "”", "‘": "’"}.get(quote, quote)
        got = cues(f"Temen kantor nulis {quote}dasar kampret{closing} di grup")
        assert got["quoted"] == 1, quote
        assert got["after_reporting_word"] == 1  # "nulis" is within four words before the term


def test_cues_stop_at_the_sentence_end() -> None:
    # The appeal and the quote belong to the first sentence; the label is used in the second.
    got = cues("Jangan begitu 'katanya'. Dasar kadrun semua")
    assert got == {"quoted": 0, "after_reporting_word": 0, "appeal_in_sentence": 0, "spans": 1}


def test_every_span_counts_and_texts_without_terms_are_zero() -> None:
    out = mention_cues(["kalian cebong dan kampret sama saja", "selamat pagi", ""])
    assert out.shape == (3, len(CUE_NAMES))
    assert out[0, CUE_NAMES.index("spans")] == 2
    np.testing.assert_array_equal(out[1:], 0)
    assert mention_cues([]).shape == (0, len(CUE_NAMES))


def test_cues_at_names_the_words_behind_each_terms_reading() -> None:
    text = "Imbauan panitia: jangan ada kata cebong kadrun di grup. Tapi dasar kadrun semua"
    first, second, third = (cues_at(text, s.start) for s in find_spans(text))
    assert first.mentioned and first.reporting_words == ("kata",) and first.appeal_words == ("jangan",)
    assert second.mentioned and second.reporting_words == ("kata",)
    assert not third.mentioned and third.reporting_words == () and not third.quoted  # a new sentence uses it
    assert cues_at('dia dipanggil "kadrun', 15).quoted
    # mention_cues counts exactly these per-term cues
    assert mention_cues([text]).tolist() == [[0, 2, 2, 3]]
