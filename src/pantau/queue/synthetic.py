"""Synthetic scored posts in the enqueue row format, for tests, benchmarks and a demo queue."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pantau.labels import LABEL_KEYS

_TEMPLATES = (
    ("dasar {term} semua, tidak tahu malu", "divisive"),
    ("para {term} itu memang bikin rusuh negeri ini", "divisive"),
    ("berhenti saling menyebut {term}, kita semua saudara", "divisive"),
    ("usir saja mereka dari kampung kita sebelum pemilu", None),
    ("kalian {term} goblok, pilih yang benar dong", "divisive"),
)
_TERMS = ("cebong", "kampret", "kadrun", "buzzerRp", "antek asing")
_SOURCES = ("twitter", "facebook", "instagram", "tiktok")


def synthetic_rows(
    n: int, *, model_version: str = "synthetic-v1", seed: int = 13, start: int = 0, min_risk: float = 0.0
) -> Iterator[dict[str, Any]]:
    """``n`` rows shaped like the scoring job's output (ids ``post-<start+i>``), deterministic per seed."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1)
    for i in range(start, start + n):
        template, category = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
        term = _TERMS[rng.randrange(len(_TERMS))]
        text = f"{template.format(term=term)} #{i}"
        probs = {k: round(rng.random(), 4) for k in LABEL_KEYS}
        risk = round(min_risk + (1 - min_risk) * max(probs.values()), 4)
        spans = []
        if category and term in text:
            s = text.index(term)
            spans.append({"start": s, "end": s + len(term), "term": term, "category": category})
        yield {
            "id": f"post-{i}",
            "text": text,
            "source": _SOURCES[i % len(_SOURCES)],
            "author": f"akun{i % 997}",
            "url": f"https://example.org/p/{i}",
            "created_at": (base + timedelta(minutes=i)).isoformat(),
            "probabilities": probs,
            "flags": {k: v >= 0.5 for k, v in probs.items()},
            "thresholds": dict.fromkeys(LABEL_KEYS, 0.5),
            "risk": risk,
            "spans": spans,
            "model_name": "synthetic",
            "model_version": model_version,
        }
