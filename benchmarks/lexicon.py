"""Lexicon passes per scored post, side by side in one run: each caller scanning vs the memoised spans.

Scoring the default baseline asks for every post's divisive-term spans three times: the output's
``spans`` column (``pantau.scoring.frame``), the mention cues and the span contexts
(``pantau.text.mention``). ``pantau.text.find_spans`` remembers the most recent posts, so the second
and third asks are free. This times the three asks per post, in batches of ``--batch`` posts as
``pantau score`` makes them, with the memo off (``scan``: every ask scans the lexicon, as before) and on
(``memoised``), interleaved ``--repeat`` times; the best of each is printed with the ratio.

    python benchmarks/lexicon.py [--posts 5000] [--batch 64] [--repeat 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PANTAU_SHARED_DATA", REPO.parent / "shared" / "data"))


def load_posts(limit: int) -> list[str]:
    """Real posts from Ibrohim 2019 (latin-1 as shipped), else our sample's unlabelled posts."""
    path = SHARED / "ibrohim2019" / "re_dataset.csv"
    if path.exists():
        with path.open(encoding="latin-1", newline="") as f:
            rows = [row[0] for row in csv.reader(f)][1:]
    else:
        with (REPO / "data" / "sample" / "unlabelled.csv").open(encoding="utf-8", newline="") as f:
            rows = [row["text"] for row in csv.DictReader(f)]
    return (rows * (limit // max(len(rows), 1) + 1))[:limit]


def three_asks(batch: list[str]) -> None:
    from pantau.text.lexicon import find_spans
    from pantau.text.mention import mention_cues, span_contexts

    for text in batch:
        find_spans(text)
    mention_cues(batch)
    for text in batch:
        span_contexts(text)


def run(posts: list[str], batch: int, memoised: bool) -> float:
    from pantau.text import lexicon

    lexicon._packaged_spans.cache_clear()
    limit = lexicon._SPAN_CACHE_MAX_CHARS
    lexicon._SPAN_CACHE_MAX_CHARS = limit if memoised else -1  # -1: no text is kept, every ask scans
    try:
        started = time.perf_counter()
        for i in range(0, len(posts), batch):
            three_asks(posts[i : i + batch])
        return time.perf_counter() - started
    finally:
        lexicon._SPAN_CACHE_MAX_CHARS = limit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    posts = load_posts(args.posts)
    run(posts[: args.batch], args.batch, memoised=True)  # compile the lexicon outside the timings
    best = {"scan": float("inf"), "memoised": float("inf")}
    for _ in range(args.repeat):
        best["scan"] = min(best["scan"], run(posts, args.batch, memoised=False))
        best["memoised"] = min(best["memoised"], run(posts, args.batch, memoised=True))
    for name, seconds in best.items():
        print(f"{name:9s} {seconds:7.3f} s  {len(posts) / seconds:8.0f} posts/s  ({seconds / len(posts) * 1e3:.3f} ms/post)")
    print(f"memoised / scan: {best['scan'] / best['memoised']:.2f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
