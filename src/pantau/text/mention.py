"""Mention cues: is a divisive term *used* as a label for people, or *talked about*?

"dasar kadrun semua" uses the label; "Bawaslu imbau tidak menggunakan sebutan cebong" and "dia
dipanggil 'anak kadrun' di sekolah" mention it. The word alone cannot tell them apart (a keyword rule
gets precision 0.60 on our sample), and bag-of-words models lose the best evidence: the ``classic``
pipeline strips quotation marks, and word n-grams rarely link a reporting verb to the term a few words
later. These cues are read from the raw text around each lexicon span, so they survive any preprocessing:

* the term sits inside quotation marks in its sentence;
* a reporting word (sebut, panggil, ngatain, istilah, label, tuduhan, …) comes within four words before it;
* an appeal or prohibition (jangan, stop, berhenti, dilarang, imbau, …) comes before it in its sentence;
* plus the number of lexicon spans, so the cues are read relative to how many terms there are.

Measured with ``benchmarks/quality.py --skip-e5`` (the baseline, cues given to ``divisive_label`` only):
on our sample's test split ``divisive_label`` F1 0.833 → 0.909 and mentions/literal uses flagged 26.1 % →
0 % (0 of 23); every other figure, in-domain and across sources, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pantau.text.lexicon import find_spans

QUOTES = "'\"‘’“”«»`"
# Words that introduce a term as something said or written, not something the writer calls people.
REPORTING_WORDS = frozenset((
    "sebut", "sebutan", "menyebut", "nyebut", "disebut", "sebutin", "panggil", "dipanggil", "manggil",
    "panggilan", "ngatain", "dikatain", "mengatai", "katain", "label", "melabeli", "istilah", "julukan",
    "menjuluki", "tuduhan", "menuduh", "nuduh", "dituduh", "nulis", "menulis", "tulis", "ditulis", "bilang",
    "pakai", "pake", "dipake", "dipakai", "menggunakan", "kata", "hapus", "dihapus",
))  # fmt: skip
# Appeals and prohibitions: the writer argues against the label ("jangan saling sebut cebong").
APPEAL_WORDS = frozenset((
    "jangan", "stop", "berhenti", "hentikan", "dilarang", "larang", "imbau", "mengimbau", "tolong",
))  # fmt: skip
CUE_NAMES = ("quoted", "after_reporting_word", "appeal_in_sentence", "spans")
_SENTENCE_END = re.compile(r"[.!?\n]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SpanCues:
    """The cues for one term: each flag with the words that raised it (empty: the cue is absent)."""

    quoted: bool
    reporting_words: tuple[str, ...]
    appeal_words: tuple[str, ...]

    @property
    def after_reporting_word(self) -> bool:
        return bool(self.reporting_words)

    @property
    def appeal_in_sentence(self) -> bool:
        return bool(self.appeal_words)

    @property
    def mentioned(self) -> bool:
        """Any cue at all: the term reads as talked about rather than used on people."""
        return self.quoted or self.after_reporting_word or self.appeal_in_sentence


def cues_at(text: str, start: int) -> SpanCues:
    """The mention cues for a term starting at ``start`` in ``text`` (its sentence up to the term)."""
    sentence = _SENTENCE_END.split(text[:start])[-1]
    words = [w.lower() for w in _WORD.findall(sentence)]
    return SpanCues(
        quoted=sum(sentence.count(q) for q in QUOTES) % 2 == 1,
        reporting_words=tuple(w for w in words[-4:] if w in REPORTING_WORDS),
        appeal_words=tuple(dict.fromkeys(w for w in words if w in APPEAL_WORDS)),
    )


def mention_cues(texts: Iterable[str]) -> np.ndarray:
    """Counts per text [n, 4] in :data:`CUE_NAMES` order, over the lexicon spans of the raw text."""
    rows = []
    for text in texts:
        counts = [0, 0, 0, 0]
        for span in find_spans(text):
            cues = cues_at(text, span.start)
            counts[0] += cues.quoted
            counts[1] += cues.after_reporting_word
            counts[2] += cues.appeal_in_sentence
            counts[3] += 1
        rows.append(counts)
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(CUE_NAMES))


TERM_TOKEN = "xterm"
QUOTED_TOKEN = "xquoted"
_CONTEXT_WORDS = 8


def span_contexts(text: str) -> list[str]:
    """The words around each lexicon span of ``text``, with the term itself masked.

    One string per span: up to eight words either side within its sentence, lower-cased, the term
    replaced by ``xterm`` (``xquoted`` when it sits in quotation marks). Masking is what lets a model
    learn *how* a term is used (reported, prohibited, aimed at people) instead of *which* term it is, so
    what it learns about "cebong" carries over to "kadrun", which our training corpora barely contain.
    """
    contexts = []
    for span in find_spans(text):
        start = max(m.end() for m in [re.match("", text), *_SENTENCE_END.finditer(text[: span.start])])
        end_match = _SENTENCE_END.search(text, span.end)
        end = end_match.start() if end_match else len(text)
        before, after = text[start : span.start], text[span.end : end]
        quoted = sum(before.count(q) for q in QUOTES) % 2 == 1
        left = _WORD.findall(before.lower())[-_CONTEXT_WORDS:]
        right = _WORD.findall(after.lower())[:_CONTEXT_WORDS]
        contexts.append(" ".join([*left, QUOTED_TOKEN if quoted else TERM_TOKEN, *right]))
    return contexts
