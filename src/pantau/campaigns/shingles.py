"""From a post's text to the shingle set MinHash signs: normalised words, then character or word n-grams.

The words come from :mod:`pantau.text`'s normaliser (case, elongation, leetspeak, slang, hashtags split),
with its placeholders (``@user``, ``httpurl``, ``emailaddr``), the retweet marker ``rt``, emoji and
punctuation dropped: changing a handle, a link or an emoji does not change the shingles.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pantau.text import EMAIL_TOKEN, URL_TOKEN, USER_TOKEN, get_normaliser

_WORD = re.compile(r"[^\W_]+")
_DROPPED = frozenset({URL_TOKEN, USER_TOKEN.lstrip("@"), EMAIL_TOKEN, "rt"})


def default_normalise() -> Callable[[str], str]:
    """The shared normaliser the index uses (lowercase, core slang)."""
    return get_normaliser().normalise


def words(normalised: str) -> list[str]:
    """The words of a normalised post that near-duplicates share (no placeholders, emoji, punctuation)."""
    return [w for w in _WORD.findall(normalised) if w not in _DROPPED]


def shingles(tokens: list[str], unit: str, size: int) -> list[bytes]:
    """Distinct ``size``-grams of characters (bytes of the words joined by spaces) or of words, as UTF-8.

    A text shorter than one shingle is one shingle; no words, no shingles.
    """
    if not tokens:
        return []
    if unit == "word":
        if len(tokens) <= size:
            grams = {" ".join(tokens)}
        else:
            grams = {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
        return [g.encode("utf-8") for g in grams]
    if unit == "char":  # n-grams of the UTF-8 bytes: the same as characters for the (ASCII) normalised words
        b = " ".join(tokens).encode("utf-8")
        return [b] if len(b) <= size else list({b[i : i + size] for i in range(len(b) - size + 1)})
    raise ValueError(f"unknown shingle unit {unit!r}; expected char or word")
