"""Input files of posts for the scoring tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WORDS = ["dasar", "cebong", "kampret", "selamat", "pagi", "berita", "pemilu", "usir", "mereka", "kampung"]


def write_posts(path: Path, n: int, *, bad_every: int = 0, seed: int = 0) -> set[str]:
    """A CSV of ``n`` posts (some long); every ``bad_every``-th row has empty text. Returns the good ids."""
    rng = np.random.default_rng(seed)
    rows, good = [], set()
    for i in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(1, 40)))
        text = "" if bad_every and i % bad_every == 3 else " ".join(words)
        rows.append({"id": f"p{i}", "text": text, "author": f"user{i % 7}", "url": f"https://x.test/{i}"})
        if text:
            good.add(f"p{i}")
    pd.DataFrame(rows).to_csv(path, index=False)
    return good


def write_bad_posts(
    path: Path, n: int, *, seed: int = 0, shared_ids: list[str] | None = None
) -> tuple[set[str], int]:
    """``n`` posts as CSV or JSONL (by suffix) with empty texts, a duplicate id, an over-long text and
    ids ``shared_ids`` taken from another file. Returns (ids that must be scored, rows in the file)."""
    import json

    rng = np.random.default_rng(seed)
    stem = path.stem
    rows, good = [], set()
    for i in range(n):
        post_id = f"{stem}{i}"
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 12))))
        if i % 9 == 4:
            text = ""
        if i == 7 and n > 10:
            post_id = f"{stem}3"  # duplicate of an earlier row
        if shared_ids and i < len(shared_ids):
            post_id = shared_ids[i]  # seen in another input of the run
        rows.append({"id": post_id, "text": text, "author": f"user{i % 5}"})
        if text and post_id not in good and not (shared_ids and post_id in shared_ids):
            good.add(post_id)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        pd.DataFrame(rows).to_csv(path, index=False)
    return good, n
