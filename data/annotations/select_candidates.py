"""Choose the real public posts the team annotates, as row references (no corpus text is written).

Run once from the repository root with ../shared/data beside it:

    python data/annotations/select_candidates.py          # the first selection (2026-12-01)
    python data/annotations/select_candidates.py --rest   # the second: every other Ibrohim tweet with a term

Writes ``data/annotations/candidates/{ibrohim2019_divisive,emot}.csv`` (corpus, file, row, text_sha256)
and ``.../second_pass.csv`` (the 15 % random sample the second annotator labels independently).
Row numbers are 0-based data rows as Python's csv module reads the file (the header is not a row), the
same convention as ``ibrohim2019/holdout_rows.txt``. Holdout rows are never selected.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "data" / "annotations" / "candidates"
SEED = 13
EMOT_PER_LABEL = {"anger": 400, "sadness": 150, "happy": 150, "fear": 150, "love": 150}  # 1,000 in all
# Words the issue names beside the lexicon's (religious/communist/foreign-agent smears, camp nicknames).
# Tier 1, every row: camp labels and foreign-agent smears (the lexicon's pro-government, opposition and
# foreign-agent categories), plus the group nicknames the issue names. Tier 2, a random sample topping the
# set up to TARGET rows: religious and communist smears (PKI, kafir, komunis), which are mostly ordinary
# words in this corpus and would otherwise swamp the set.
TIER1_CATEGORIES = {"pro-government-smear", "opposition-smear", "foreign-agent-smear"}
TIER1_EXTRA = ["antek aseng", "antek-antek aseng", "kacung aseng", "onta", "unta", "bani serbet", "bani taplak", "antek"]
TIER2_TERMS = ["pki", "anak pki", "antek pki", "kader pki", "komunis", "komunist", "kafir", "kafirun", "kapir"]
TARGET = 700


def text_sha256(text: str) -> str:
    """The hash an annotation keeps of the text it was made on: sha256 of the field as csv reads it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _pattern(variants: set[str]) -> re.Pattern[str]:
    parts = []
    for variant in sorted(variants, key=len, reverse=True):
        body = r"[\s_\-]*".join(re.escape(w) for w in variant.split())
        parts.append(body if len(variant) >= 6 else body + r"(?![a-z])")
    return re.compile(r"(?<![a-z])(?:" + "|".join(parts) + ")")


def holdout_rows() -> set[int]:
    """Ibrohim 2019 rows held out for evaluation (never annotated)."""
    lines = (SHARED / "ibrohim2019" / "holdout_rows.txt").read_text("utf-8").splitlines()
    return {int(line) for line in lines if line.strip() and not line.startswith("#")}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lexicon = yaml.safe_load((ROOT / "src" / "pantau" / "resources" / "lexicon.yaml").read_text("utf-8"))
    tier1 = _pattern({v.lower() for t in lexicon["terms"] if t["category"] in TIER1_CATEGORIES
                      for v in t["variants"]} | set(TIER1_EXTRA))
    tier2 = _pattern(set(TIER2_TERMS))
    held = holdout_rows()
    rng = random.Random(SEED)
    with open(SHARED / "ibrohim2019" / "re_dataset.csv", encoding="latin-1", newline="") as fh:
        ibrohim = [row["Tweet"] for row in csv.DictReader(fh)]
    first = [i for i, t in enumerate(ibrohim) if i not in held and tier1.search(t.lower())]
    rest = [i for i, t in enumerate(ibrohim) if i not in held and i not in set(first) and tier2.search(t.lower())]
    picked = sorted(first + rng.sample(rest, max(0, TARGET - len(first))))
    chosen = [(i, ibrohim[i]) for i in picked]
    with open(OUT / "ibrohim2019_divisive.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["corpus", "file", "row", "text_sha256"])
        for i, t in chosen:
            w.writerow(["ibrohim2019", "re_dataset.csv", i, text_sha256(t)])

    with open(SHARED / "indonlu" / "emot" / "train_preprocess.csv", encoding="utf-8", newline="") as fh:
        emot = list(csv.DictReader(fh))
    emot_rows: list[int] = []
    for label, n in EMOT_PER_LABEL.items():
        rows = [i for i, r in enumerate(emot) if r["label"] == label]
        emot_rows += rng.sample(rows, n)
    emot_rows.sort()
    with open(OUT / "emot.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["corpus", "file", "row", "text_sha256"])
        for i in emot_rows:
            w.writerow(["emot", "train_preprocess.csv", i, text_sha256(emot[i]["tweet"])])

    second = rng.sample([("ibrohim2019", "re_dataset.csv", i, text_sha256(t)) for i, t in chosen],
                        round(0.15 * len(chosen)))
    second += rng.sample([("emot", "train_preprocess.csv", i, text_sha256(emot[i]["tweet"])) for i in emot_rows],
                         round(0.15 * len(emot_rows)))
    second.sort()
    with open(OUT / "second_pass.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["corpus", "file", "row", "text_sha256"])
        w.writerows(second)
    print(f"ibrohim2019: {len(chosen)} rows ({len(first)} camp labels, the rest of {len(rest)} religious/communist"
          f" smears sampled; holdout excluded: {len(held)})")
    print(f"emot: {len(emot_rows)} rows; second pass: {len(second)} rows")


def select_rest() -> None:
    """The second selection (2026-12-02): every other Ibrohim tweet in which pantau's lexicon finds a term.

    The first selection sampled the religious/communist smears down to ``TARGET`` rows; these are the
    remaining tweets with any lexicon term (PKI, kafir, komunis, cina, sipit, aseng, kunyuk, …), mostly
    ordinary mentions and literal uses, which is exactly what mention-vs-use training and measurement
    lacked. Rows already annotated and holdout rows are excluded. Writes ``candidates/ibrohim2019_rest.csv``
    and ``candidates/second_pass_rest.csv`` (15 %, random, for the blind second pass).
    """
    from pantau.text import find_spans

    held = holdout_rows()
    with open(ROOT / "data" / "annotations" / "ibrohim2019_divisive.csv", encoding="utf-8", newline="") as fh:
        done = {int(r["row"]) for r in csv.DictReader(fh) if r["corpus"] == "ibrohim2019"}
    with open(SHARED / "ibrohim2019" / "re_dataset.csv", encoding="latin-1", newline="") as fh:
        ibrohim = [row["Tweet"] for row in csv.DictReader(fh)]
    chosen = [(i, t) for i, t in enumerate(ibrohim) if i not in held and i not in done and find_spans(t)]
    refs = [("ibrohim2019", "re_dataset.csv", i, text_sha256(t)) for i, t in chosen]
    second = sorted(random.Random(SEED + 1).sample(refs, round(0.15 * len(refs))))
    for name, rows in (("ibrohim2019_rest.csv", refs), ("second_pass_rest.csv", second)):
        with open(OUT / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["corpus", "file", "row", "text_sha256"])
            w.writerows(rows)
    print(f"ibrohim2019 rest: {len(refs)} rows with a lexicon term, not yet annotated (holdout excluded: "
          f"{len(held)}); second pass: {len(second)} rows")


if __name__ == "__main__":
    import sys

    select_rest() if "--rest" in sys.argv[1:] else main()
