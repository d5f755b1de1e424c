"""Counterfactual copies for unseen camp nicknames: the same post with its divisive terms replaced.

A model trained only on posts whose divisive terms the lexicon knows learns the *term*: on the real-post
dev split the default baseline flags 0 % of hostile uses once their term is swapped for a word it has never
seen, so a nickname coined after training ("termul" in 2023) is invisible to it. Copies of the annotated
posts with every lexicon term replaced by a made-up word (labels unchanged; only ``divisive_label`` is kept,
the other labels are set to missing so the copies teach nothing else) make it read the words around the
term too. ``train.masked_term_copies`` is the weight of those copies, relative to the original row;
0 (the default) adds none. The trade-off is measured in ``benchmarks/quality.py --plans real`` (see the
README's "Which model to use").
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from pantau.labels import LABEL_KEYS
from pantau.text.lexicon import find_spans

_SYLLABLES = tuple(c + v for c in "bdgjklmnprstwz" for v in "aiueo")
AUGMENTED_SUFFIX = "~masked"


def made_up_word(rng: random.Random) -> str:
    """A pronounceable two- or three-syllable word (e.g. ``"wokeri"``): no lexicon or vocabulary entry."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3))))


def replace_terms(text: str, rng: random.Random) -> str:
    """``text`` with every lexicon span replaced by a made-up word (a fresh one per span)."""
    out, pos = [], 0
    for span in find_spans(text):
        out += [text[pos : span.start], made_up_word(rng)]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def masked_term_copies(frame: pd.DataFrame, weight: float, *, seed: int = 13) -> pd.DataFrame:
    """``frame`` plus, for each row with a known ``divisive_label`` and a lexicon term, a copy with the
    terms replaced (``id`` + ``~masked``, ``weight`` × ``weight``, only ``divisive_label`` kept).

    The copies share their original's ``group``, so any later split keeps them together.
    """
    if weight < 0:
        raise ValueError(f"train.masked_term_copies must be ≥ 0, got {weight}")
    if weight == 0 or frame.empty or "divisive_label" not in frame:
        return frame
    texts = frame["text"].astype(str)
    has_term = np.fromiter((bool(find_spans(t)) for t in texts), dtype=bool, count=len(frame))
    chosen = frame[frame["divisive_label"].notna().to_numpy() & has_term]
    if chosen.empty:
        return frame
    rng = random.Random(seed)
    copies = chosen.copy()
    copies["text"] = [replace_terms(t, rng) for t in chosen["text"].astype(str)]
    copies["id"] = chosen["id"].astype(str) + AUGMENTED_SUFFIX
    copies["weight"] = chosen["weight"].astype(float) * weight
    for label in LABEL_KEYS:
        if label != "divisive_label" and label in copies:
            copies[label] = np.nan
    return pd.concat([frame, copies], ignore_index=True)
