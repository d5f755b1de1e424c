"""Divisive-term lexicon and a matcher that returns spans in the ORIGINAL text.

The matcher works on a per-character "skeleton" of the post (NFKC, lowercase, look-alikes mapped, zero-width
and combining characters dropped) that remembers, for each skeleton character, the index of the original
character it came from. Patterns on the skeleton accept leetspeak (``k4drun``, ``c3bong``), repeated
letters (``KADRUNNN``), ``*`` for a vowel (``k*mpret``), words run together or hyphenated
(``#AntekAsing``) and spaced-out letters (``k a d r u n``, ``k.a.d.r.u.n``); a match maps back to
``text[start:end]``. A span is evidence for a reviewer, not a verdict: the model decides mention vs use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pantau.text import resources
from pantau.text.normaliser import _CONFUSABLES, _DELETE

_LETTER_CLASS: dict[str, str] = {
    "a": "a4@*", "b": "b8", "e": "e3*", "g": "g96", "i": "i1!|*", "l": "l1|", "o": "o0*", "s": "s5$",
    "t": "t7+", "u": "u*", "z": "z2",
}  # fmt: skip
_SPACED_SEP = r"[\s.\-_*/,|]{1,3}"
_WORD_SEP = r"[\s.\-_#]{0,3}"
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
_CHAR_TRANSLATE = {
    **dict.fromkeys(map(ord, _DELETE + "\u200d")),
    **{ord(k): v for k, v in _CONFUSABLES.items()},
}


@dataclass(frozen=True)
class Span:
    """A lexicon match: ``text[start:end] == matched`` in the original post."""

    start: int
    end: int
    term: str
    category: str
    matched: str


@dataclass(frozen=True)
class Term:
    """One lexicon entry."""

    term: str
    variants: tuple[str, ...]
    category: str
    gloss_en: str
    gloss_id: str


def _char_class(ch: str, *, symbols: bool = True) -> str:
    chars = _LETTER_CLASS.get(ch, ch)
    if not symbols:
        chars = "".join(c for c in chars if c.isalnum())
    return "[" + re.escape(chars) + "]" if len(chars) > 1 else re.escape(chars)


def _compact_letter(ch: str, last: bool) -> str:
    """One letter, repeatable; leet symbols (! | @ $ + *) once and never word-final ("pki!!!" is "pki")."""
    letters = _char_class(ch, symbols=False) + "{1,20}"  # bounded: a run of 100k "k" stays linear
    symbols = "".join(c for c in _LETTER_CLASS.get(ch, "") if not c.isalnum())
    if last or not symbols:
        return letters
    return f"(?:{letters}|[{re.escape(symbols)}])"


def _variant_patterns(variant: str) -> list[str]:
    words = [w for w in re.split(r"[\s\-]+", variant.lower()) if w]
    letters = "".join(words)
    n = len(letters)
    compact = _WORD_SEP.join(
        "".join(_compact_letter(c, i == len(w) - 1) for i, c in enumerate(w)) for w in words
    )
    left = r"(?<![^\W\d_])" if n <= 5 else ""
    right = r"(?:nya|lah|kah|mu|ku|kan|an|in|er|ers|s)?(?![^\W\d_])" if n <= 5 else ""
    spaced = _SPACED_SEP.join(_char_class(c) for c in letters)
    return [f"{left}{compact}{right}", rf"(?<![^\W_]){spaced}(?![^\W_])"]


_SIG_TRANSLATE = str.maketrans(
    {"5": "s", "$": "s", "7": "t", "+": "t", "9": "g", "6": "g", "8": "b", "2": "z"}
)
_NON_CONSONANT = re.compile(r"[^bcdfghjklmnpqrstvwxyz]+")
_REPEAT = re.compile(r"(.)\1+")


def _signature(skeleton: str) -> str:
    """Consonants only, leetspeak mapped, repeats squeezed: a necessary condition for any pattern match."""
    return _REPEAT.sub(r"\1", _NON_CONSONANT.sub("", skeleton.translate(_SIG_TRANSLATE)))


def _variant_signatures(variant: str) -> set[str]:
    sig = _signature(variant.lower())
    # "1" and "|" may stand for "l" (and are dropped like vowels), so an "l" may be missing from the text's
    return {sig, _REPEAT.sub(r"\1", sig.replace("l", ""))} - {""}


class Lexicon:
    """A loaded lexicon with its compiled matcher."""

    def __init__(self, data: dict[str, Any]):
        categories = data.get("categories")
        terms = data.get("terms")
        if not isinstance(categories, dict) or not isinstance(terms, list) or not terms:
            raise ValueError("a lexicon needs a 'categories' mapping and a non-empty 'terms' list")
        self.categories: tuple[str, ...] = tuple(categories)
        self.category_glosses: dict[str, dict[str, str]] = {k: dict(v or {}) for k, v in categories.items()}
        parsed: list[Term] = []
        for i, entry in enumerate(terms):
            if (
                not isinstance(entry, dict)
                or not entry.get("term")
                or entry.get("category") not in categories
            ):
                raise ValueError(
                    f"lexicon term #{i} needs 'term' and a 'category' from {self.categories}: {entry!r}"
                )
            variants = tuple(dict.fromkeys(str(v) for v in [entry["term"], *entry.get("variants", [])]))
            parsed.append(
                Term(
                    term=str(entry["term"]),
                    variants=variants,
                    category=str(entry["category"]),
                    gloss_en=str(entry.get("gloss_en", "")),
                    gloss_id=str(entry.get("gloss_id", "")),
                )
            )
        self.terms: tuple[Term, ...] = tuple(parsed)
        # Per term: one regex over its variants (longest first) and the consonant signatures that any match
        # must contain, so most posts are ruled out by a few substring tests before any regex runs.
        self._matchers: list[tuple[Term, re.Pattern[str], tuple[str, ...]]] = []
        for term in self.terms:
            variants = sorted(term.variants, key=lambda v: -len(re.sub(r"[\s\-]", "", v)))
            patterns = [p for v in variants for p in _variant_patterns(v)]
            sigs = {sig for v in variants for sig in _variant_signatures(v)}
            self._matchers.append((term, re.compile("|".join(patterns)), tuple(sorted(sigs))))
        self._category_index = {c: i for i, c in enumerate(self.categories)}

    def find_spans(self, text: str) -> list[Span]:
        """Non-overlapping lexicon matches (the longest where they overlap) as spans of the original ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"find_spans() expects str, got {type(text).__name__}")
        skeleton, index = _skeleton(text)
        sig = _signature(skeleton)
        found: list[tuple[int, int, Term]] = []
        for term, pattern, sigs in self._matchers:
            if any(s in sig for s in sigs):
                found.extend(
                    (m.start(), m.end(), term) for m in pattern.finditer(skeleton) if m.end() > m.start()
                )
        if not found:
            return []
        # longest match first, then leftmost: "antek aseng" beats the "aseng" inside it, and
        # "4 s e n g k u n i" is sengkuni, not a spaced-out "aseng" followed by letters
        found.sort(key=lambda f: (f[0] - f[1], f[0]))
        chosen: list[tuple[int, int, Term]] = []
        for start, end, term in found:
            if all(end <= s or start >= e for s, e, _ in chosen):
                chosen.append((start, end, term))
        chosen.sort(key=lambda f: f[0])
        spans: list[Span] = []
        for start, end, term in chosen:
            if index is not None:
                start, end = index[start], index[end - 1] + 1
            spans.append(Span(start, end, term.term, term.category, text[start:end]))
        return spans

    def features(self, texts: Iterable[str]) -> np.ndarray:
        """Counts of matches per category, shape ``(n_texts, len(categories))``, float32."""
        rows = []
        width = len(self.categories)
        for text in texts:
            row = [0.0] * width
            for span in self.find_spans(text):
                row[self._category_index[span.category]] += 1.0
            rows.append(row)
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), width)


@functools.lru_cache(maxsize=4096)
def _char_skeleton(ch: str) -> str:
    s = unicodedata.normalize("NFKC", ch).translate(_CHAR_TRANSLATE).lower()
    s = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", s))
    return unicodedata.normalize("NFC", s)


def _skeleton(text: str) -> tuple[str, list[int] | None]:
    """The matching skeleton of ``text`` and, for non-ASCII text, each skeleton char's original index."""
    if text.isascii():
        return text.lower(), None
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        s = ch.lower() if ch.isascii() else _char_skeleton(ch)
        for c in s:
            chars.append(c)
            index.append(i)
    return "".join(chars), index


@functools.cache
def default_lexicon() -> Lexicon:
    """The packaged lexicon (``pantau/resources/lexicon.yaml``), compiled once per process."""
    return Lexicon(resources.lexicon_data())


def load_lexicon(path: str | Path) -> Lexicon:
    """A lexicon from a YAML file in the packaged format (categories + terms)."""
    return Lexicon(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


# Scoring asks for one post's spans three times (the output's highlights, the baseline's mention cues and
# its span contexts), a batch apart at most; remembering the last few thousand posts makes the repeats free.
# Long texts are not kept, so the cache stays small whatever the input holds.
_SPAN_CACHE_SIZE = 4096
_SPAN_CACHE_MAX_CHARS = 5_000


@functools.lru_cache(maxsize=_SPAN_CACHE_SIZE)
def _packaged_spans(text: str) -> tuple[Span, ...]:
    return tuple(default_lexicon().find_spans(text))


def find_spans(text: str) -> list[Span]:
    """Divisive-term spans in ``text`` (offsets into the original string) using the packaged lexicon."""
    if isinstance(text, str) and len(text) <= _SPAN_CACHE_MAX_CHARS:
        return list(_packaged_spans(text))
    return default_lexicon().find_spans(text)


def lexicon_categories() -> tuple[str, ...]:
    """Column order of :func:`lexicon_features`."""
    return default_lexicon().categories


def lexicon_features(texts: Iterable[str]) -> np.ndarray:
    """Per-category match counts for the baseline, shape ``(n, len(lexicon_categories()))``."""
    return default_lexicon().features(texts)
