"""Preprocessing throughput on real posts, side by side in one run, per CPU core.

Reads the real corpora from ``../shared/data`` (Ibrohim & Budi 2019 ``re_dataset.csv`` as latin-1, IndoNLU
EmoT and SmSA) plus our sample (``data/sample/*.csv``), and times, single-threaded, from cold caches:

* ``transformer``: ``pantau.text.preprocess(posts, "transformer")`` (normalise only);
* ``classic``: ``pantau.text.preprocess(posts, "classic")`` (normalise + Sastrawi stems + stopwords);
* (a) PySastrawi as most tutorials use it: one stemmer, a hand-written lowercase/regex clean, ``stem()``
  per post;
* (b) a stemmer created per post (timed on a small subsample and extrapolated, as it is ~100x slower).

The corpora hold ~32k distinct posts; to time at least ``--min-posts`` posts in one run the list is cycled
(distinct posts first, then repeats), and the distinct part and the repeats are also reported apart: the
first pass pays for every new word once (cold caches), the repeats show the steady state of a long job.
"posts/s per core" is posts divided by the process's CPU time (``time.process_time``) of this one thread;
each pipeline runs ``--repeat`` times from cold caches and the best run is printed (as ``timeit`` does),
because a shared machine inflates CPU time too.

Finally it counts, over the distinct posts, where our classic stems differ from plain Sastrawi's ``stem()``
on the same normalised text, split into differences due to protected words, due to the listed over-stemming
exceptions, and any other (which must be 0).

    python benchmarks/preprocess.py [--data ../shared/data] [--min-posts 50000] [--per-post-sample 300]
                                    [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import glob
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_posts(data: Path) -> dict[str, list[str]]:
    """Real posts per source; the reference corpora must exist, our sample is optional."""
    sources: dict[str, list[str]] = {}
    with (data / "ibrohim2019" / "re_dataset.csv").open(encoding="latin-1", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        sources["ibrohim2019"] = [row[0] for row in reader if row]
    emot = []
    for path in sorted(glob.glob(str(data / "indonlu" / "emot" / "*.csv"))):
        with open(path, encoding="utf-8", newline="") as f:
            emot += [row["tweet"] for row in csv.DictReader(f)]
    sources["indonlu-emot"] = emot
    smsa = []
    for path in sorted(glob.glob(str(data / "indonlu" / "smsa" / "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            smsa += [line.rsplit("\t", 1)[0] for line in f if line.strip()]
    sources["indonlu-smsa"] = smsa
    sample = []
    for path in sorted((REPO / "data" / "sample").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            sample += [row["text"] for row in csv.DictReader(f) if row.get("text")]
    if sample:
        sources["pantau-sample"] = sample
    return sources


_URL = re.compile(r"http\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_NON_LETTER = re.compile(r"[^a-z\s]")
_SPACES = re.compile(r"\s+")


def tutorial_clean(text: str) -> str:
    """The hand-written clean-up most PySastrawi tutorials put before ``stem()``."""
    text = text.lower()
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _NON_LETTER.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def cpu_timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def reset_caches() -> None:
    """Fresh stemmer, empty memos, word lists re-read: every timed pipeline starts cold."""
    import importlib

    from pantau.text import resources

    # the submodules, not the functions of the same name that pantau.text re-exports
    normaliser = importlib.import_module("pantau.text.normaliser")
    pipeline = importlib.import_module("pantau.text.pipeline")
    stem = importlib.import_module("pantau.text.stem")
    from pantau.text.lexicon import default_lexicon

    stem.sastrawi_stemmer.cache_clear()
    stem._overrides.cache_clear()
    stem._STEMS.clear()
    normaliser.default_normaliser.cache_clear()
    normaliser._known_words.cache_clear()
    pipeline._kamusalay_normaliser.cache_clear()
    default_lexicon.cache_clear()
    for loader in (resources.stopwords, resources.lexicon_data, resources.protected_words, resources.core_slang,
                   resources.stem_exceptions, resources.sastrawi_roots):  # fmt: skip
        loader.cache_clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--min-posts", type=int, default=50_000)
    parser.add_argument("--per-post-sample", type=int, default=300, help="posts timed for (b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per pipeline; the best is printed")
    args = parser.parse_args()
    if not (args.data / "ibrohim2019" / "re_dataset.csv").exists():
        print(f"reference corpora not found under {args.data} (use --data)", file=sys.stderr)
        return 2

    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    from pantau.text import preprocess
    from pantau.text.lexicon import find_spans
    from pantau.text.normaliser import normalise
    from pantau.text.stem import is_override, sastrawi_tokens, stem_tokens

    sources = load_posts(args.data)
    distinct = list(dict.fromkeys(p for posts in sources.values() for p in posts))
    repeats = [distinct[i % len(distinct)] for i in range(max(0, args.min_posts - len(distinct)))]
    total = len(distinct) + len(repeats)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores visible; "
          "one thread, CPU time")  # fmt: skip
    print("posts: " + ", ".join(f"{k} {len(v):,}" for k, v in sources.items()))
    print(f"timed per pipeline: {total:,} posts = {len(distinct):,} distinct (cold caches) "
          f"+ {len(repeats):,} repeats (corpus cycled to reach {args.min_posts:,})\n")  # fmt: skip

    results: dict[str, dict[str, float]] = {}

    def run(name: str, make: Callable[[], Callable[[list[str]], object]]) -> None:
        """Best of ``--repeat`` runs, each from cold caches with a fresh batch function."""
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            reset_caches()
            fn = make()
            cold_cpu, cold_wall = cpu_timed(lambda: fn(distinct))  # noqa: B023
            warm_cpu, warm_wall = cpu_timed(lambda: fn(repeats))  # noqa: B023
            r = {
                "all": total / (cold_cpu + warm_cpu),
                "cold": len(distinct) / cold_cpu,
                "warm": len(repeats) / warm_cpu if repeats else float("nan"),
                "wall": total / (cold_wall + warm_wall),
            }
            if not best or r["all"] > best["all"]:
                best = r
        results[name] = best

    def transformer() -> Callable[[list[str]], object]:
        return lambda posts: preprocess(posts, "transformer")

    def classic() -> Callable[[list[str]], object]:
        return lambda posts: preprocess(posts, "classic")

    def tutorial() -> Callable[[list[str]], object]:
        stemmer = StemmerFactory().create_stemmer()  # one stemmer for the whole file, as tutorials do
        return lambda posts: [stemmer.stem(tutorial_clean(p)) for p in posts]

    run("transformer", transformer)
    run("classic", classic)
    run("(a) tutorial PySastrawi", tutorial)

    step = max(1, len(distinct) // args.per_post_sample)
    subsample = distinct[::step][: args.per_post_sample]
    cpu, wall = cpu_timed(
        lambda: [StemmerFactory().create_stemmer().stem(tutorial_clean(p)) for p in subsample]
    )
    per_post = len(subsample) / cpu
    results["(b) stemmer per post*"] = {"all": per_post, "cold": per_post, "warm": per_post,
                                         "wall": len(subsample) / wall}  # fmt: skip

    header = (
        f"{'pipeline':<26}{'posts/s/core':>14}{'cold pass':>12}{'repeats':>12}{'vs (a)':>9}{'vs (b)':>10}"
    )
    print(header)
    print("-" * len(header))
    base_a = results["(a) tutorial PySastrawi"]["all"]
    base_b = results["(b) stemmer per post*"]["all"]
    for name, r in results.items():
        print(f"{name:<26}{r['all']:>14,.0f}{r['cold']:>12,.0f}{r['warm']:>12,.0f}"
              f"{r['all'] / base_a:>8.2f}x{r['all'] / base_b:>9.0f}x")  # fmt: skip
    print(f"* (b) timed on {len(subsample)} posts ({cpu:.2f} s CPU) and extrapolated: "
          f"{total:,} posts would take ~{total / per_post / 60:.0f} min per core")  # fmt: skip
    print("targets: classic >= 10,000 posts/s/core, transformer >= 20,000 posts/s/core "
          f"-> classic {'OK' if results['classic']['all'] >= 10_000 else 'MISSED'}, "
          f"transformer {'OK' if results['transformer']['all'] >= 20_000 else 'MISSED'} (all {total:,} posts)")  # fmt: skip

    # lexicon spans, for scale (review-queue highlights and baseline features)
    reset_caches()
    span_cpu, _ = cpu_timed(lambda: [find_spans(p) for p in distinct])
    print(f"find_spans: {len(distinct) / span_cpu:,.0f} posts/s/core on the distinct posts (cold)")

    # stems vs plain Sastrawi on the same normalised text
    plain = StemmerFactory().create_stemmer()
    diffs = {"protected": 0, "exception": 0, "other": 0}
    examples: dict[str, set[str]] = {k: set() for k in diffs}
    words = 0
    for post in distinct:
        text = normalise(post)
        ours = stem_tokens(text, stopwords=False)
        theirs = [w for w in plain.stem(text).split(" ") if w.strip("-")]
        tokens = [w for w in sastrawi_tokens(text) if w.strip("-")]
        if not len(ours) == len(theirs) == len(tokens):
            diffs["other"] += 1
            examples["other"].add(post[:60])
            continue
        words += len(tokens)
        for token, a, b in zip(tokens, ours, theirs, strict=True):
            if a != b:
                reason = is_override(token) or "other"
                diffs[reason] += 1
                if len(examples[reason]) < 8:
                    examples[reason].add(f"{token}: {b}->{a}")
    print(f"\nstems vs plain Sastrawi over {words:,} words of {len(distinct):,} distinct posts:")
    print(
        f"  differences due to protected words:      {diffs['protected']:,}  e.g. {sorted(examples['protected'])[:6]}"
    )
    print(
        f"  differences due to over-stemming fixes:  {diffs['exception']:,}  e.g. {sorted(examples['exception'])[:6]}"
    )
    print(f"  other differences (must be 0):           {diffs['other']:,}  {sorted(examples['other'])[:6]}")
    return 1 if diffs["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
