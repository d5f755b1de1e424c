"""Duplicate detection: one normalised key for exact/near duplicates, and similarity groups for splits.

``dedup_key`` is deliberately blunt (lowercase, no URLs/mentions/emoji/punctuation, repeated letters
squeezed): two posts with the same key are the same post for training purposes. ``similarity_groups``
goes further and links posts whose character n-grams are nearly the same, so that near-duplicates that
survive dedup still land in one split.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_URL = re.compile(r"(?:https?://|www\.)\S+|\bURL\b", re.IGNORECASE)
_MENTION = re.compile(r"@\w+|\bUSER\b")
_RT = re.compile(r"\brt\b", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+|_")
_REPEAT = re.compile(r"(\w)\1+")
_SPACE = re.compile(r"\s+")


def dedup_key(text: str) -> str:
    """The normalised form two posts must share to count as duplicates."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    text = _RT.sub(" ", text.lower())
    text = _NON_WORD.sub(" ", text)
    text = _REPEAT.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()


def similarity_groups(keys: Sequence[str], *, threshold: float = 0.9, block: int = 2048) -> np.ndarray:
    """Group ids (one per key) linking keys whose character 3–5-gram TF-IDF cosine is ≥ ``threshold``.

    Exact-equal keys always share a group. Work is done in blocks of rows so memory stays bounded.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(keys)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in first:
            union(first[key], i)
        else:
            first[key] = i
    docs = [k if k else "\x00" for k in keys]
    if n > 1:
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, dtype=np.float32).fit_transform(docs)
        for start in range(0, n, block):
            sims = (matrix[start : start + block] @ matrix.T).tocoo()
            mask = (sims.data >= threshold) & (sims.row + start < sims.col)
            for r, c in zip(sims.row[mask] + start, sims.col[mask], strict=True):
                union(int(r), int(c))
    return np.array([find(i) for i in range(n)])
