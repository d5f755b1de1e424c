"""Why a post was flagged, for the item page: each highlighted term read as *used* or *mentioned*, who
made that reading, what the terms' categories mean in Indonesian, the risk in one line, and the
characters that can make a post display in another order than it reads (bidi controls).

The reading comes from the model where the model has one: a baseline's span-context model
(:mod:`pantau.model.span`) scores every term at scoring time, and the queue keeps that probability as
the span's ``use``. Items scored by a model without it (transformers, ensembles, older queues) get the
mention cues of :mod:`pantau.text.mention` computed from the post text when the page is shown, and the
page says so: a cue reading is not the model's score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pantau.labels import LABELS_BY_KEY
from pantau.text.lexicon import default_lexicon
from pantau.text.mention import cues_at

Reading = Literal["used", "mentioned"]
Source = Literal["model", "cues"]

READING_TEXT: dict[Reading, str] = {"used": "dipakai (used)", "mentioned": "disebut (mentioned)"}
SOURCE_TEXT: dict[Source, str] = {
    "model": "bacaan model konteks-istilah saat penilaian (the model's span-context reading, at scoring)",
    "cues": "petunjuk kata di sekitarnya, dihitung saat ditampilkan — bukan skor model "
    "(cue words around the term, computed for this page — not the model's score)",
}
UNKNOWN_CATEGORY = "istilah dari leksikon (lexicon term)"
# A term the model reads as used with at least this probability counts as used.
USE_AT = 0.5

# Left-to-right/right-to-left embeddings, overrides and isolates: they reorder how text is displayed.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class TermReading:
    """One highlighted term: where it is, what it is, and how pantau reads it."""

    start: int
    end: int
    term: str
    category: str  # Indonesian phrase for the lexicon category
    gloss: str  # Indonesian gloss of the term ("" if the lexicon has none)
    reading: Reading
    source: Source
    use: float | None  # the model's probability that the term is used (None for a cue reading)
    why: str  # Indonesian (English) reason for the reading

    @property
    def tooltip(self) -> str:
        """The mark's title: category, gloss and reading, in Indonesian (English in brackets)."""
        parts = [self.category, self.gloss, f"dibaca: {READING_TEXT[self.reading]} — {self.why}"]
        return " · ".join(p for p in parts if p)


def category_phrase(category: str) -> str:
    """The lexicon category in Indonesian words (the lexicon's own ``id`` gloss), never its key."""
    gloss = default_lexicon().category_glosses.get(category, {}).get("id")
    return gloss or UNKNOWN_CATEGORY


def _term_gloss(term: str) -> str:
    for entry in default_lexicon().terms:
        if entry.term == term:
            return entry.gloss_id
    return ""


def _cue_reason(text: str, start: int) -> tuple[Reading, str]:
    cues = cues_at(text, start)
    reasons = []
    if cues.quoted:
        reasons.append("di dalam tanda kutip (in quotation marks)")
    if cues.reporting_words:
        reasons.append(f"sesudah kata «{cues.reporting_words[-1]}» (after a reporting word)")
    if cues.appeal_words:
        reasons.append(f"kalimatnya memuat «{cues.appeal_words[0]}» (an appeal or prohibition)")
    if reasons:
        return "mentioned", "; ".join(reasons)
    return "used", "tanpa tanda kutip, kata pelapor atau larangan (no quote, reporting word or prohibition)"


def term_readings(text: str, spans: Sequence[Mapping[str, Any]]) -> list[TermReading]:
    """A reading per valid span of ``text`` (in text order; spans outside the text are skipped)."""
    out = []
    for span in sorted(spans, key=lambda s: int(s.get("start", 0))):
        start, end = int(span.get("start", -1)), int(span.get("end", -1))
        if not 0 <= start < end <= len(text):
            continue
        term = str(span.get("term") or text[start:end])
        use = span.get("use")
        if isinstance(use, int | float) and not isinstance(use, bool):
            reading: Reading = "used" if use >= USE_AT else "mentioned"
            source: Source = "model"
            why = f"peluang dipakai {use:.0%} menurut model (probability used)"
        else:
            use, source = None, "cues"
            reading, why = _cue_reason(text, start)
        out.append(
            TermReading(
                start=start,
                end=end,
                term=term,
                category=category_phrase(str(span.get("category") or "")),
                gloss=_term_gloss(term),
                reading=reading,
                source=source,
                use=float(use) if use is not None else None,
                why=why,
            )
        )
    return out


def risk_line(risk: float, probabilities: Mapping[str, float], thresholds: Mapping[str, float] | None) -> str:
    """Risk and the threshold tick in one Indonesian sentence (English after it)."""
    top = ""
    if thresholds:
        key = max(thresholds, key=lambda k: probabilities.get(k, 0.0) - thresholds[k])
        label = LABELS_BY_KEY[key].name_id if key in LABELS_BY_KEY else key
        top = (
            f" Paling jauh: {label} {probabilities.get(key, 0.0):.2f} terhadap ambang {thresholds[key]:.2f}."
        )
    return (
        f"Risiko {risk:.2f}: seberapa jauh label terkuat melewati ambangnya — 0.50 tepat di ambang, di atasnya "
        f"minimal satu label ditandai; garis hitam pada bar adalah ambang label.{top} "
        "(Risk: how far the strongest label is past its threshold — 0.50 is at it; the black tick is the threshold.)"
    )


def bidi_controls(text: str) -> list[str]:
    """The bidi control characters in ``text`` as ``U+202E``-style code points, once each, in order."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in BIDI_CONTROLS.findall(text)))


def without_bidi(text: str) -> str:
    """``text`` with its bidi controls removed: the characters in the order they are stored."""
    return BIDI_CONTROLS.sub("", text)


__all__ = [
    "BIDI_CONTROLS",
    "READING_TEXT",
    "SOURCE_TEXT",
    "TermReading",
    "bidi_controls",
    "category_phrase",
    "risk_line",
    "term_readings",
    "without_bidi",
]
