"""Print candidate posts for annotation: ``python data/annotations/show.py CANDIDATES.csv START COUNT``.

Reads the texts from ../shared/data at run time (the repository keeps row references only) and checks
each text against the hash recorded when the row was selected.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from select_candidates import SHARED, text_sha256

FILES = {
    ("ibrohim2019", "re_dataset.csv"): (SHARED / "ibrohim2019" / "re_dataset.csv", "latin-1", "Tweet"),
    ("emot", "train_preprocess.csv"): (SHARED / "indonlu" / "emot" / "train_preprocess.csv", "utf-8", "tweet"),
}


def _texts(corpus: str, file: str) -> list[str]:
    path, encoding, column = FILES[(corpus, file)]
    with open(path, encoding=encoding, newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def main() -> None:
    candidates, start, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    with open(candidates, encoding="utf-8", newline="") as fh:
        refs = list(csv.DictReader(fh))[start : start + count]
    cache: dict[tuple[str, str], list[str]] = {}
    for ref in refs:
        key = (ref["corpus"], ref["file"])
        texts = cache.setdefault(key, _texts(*key))
        text = texts[int(ref["row"])]
        if text_sha256(text) != ref["text_sha256"]:
            raise SystemExit(f"{ref['corpus']} row {ref['row']}: text changed since selection")
        shown = text.replace("\\n", " ").replace("\n", " ").strip()
        print(f"{ref['corpus']}\t{ref['row']}\t{shown}")


if __name__ == "__main__":
    main()
