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
