"""Agreement between the first and the blind second pass: Cohen's kappa per label, as the data card reports.

    python data/annotations/agreement.py

Joins ``second_pass.csv`` to the first-pass files on (corpus, file, row) and prints, per round of
selection and overall, the rows compared, raw agreement, positives in each pass and
``sklearn.metrics.cohen_kappa_score`` for each label the round annotated (Ibrohim rows: divisive_label,
incitement, kind; EmoT rows: all four labels and kind).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
FIRST = ("ibrohim2019_divisive.csv", "ibrohim2019_terms.csv", "emot.csv")
KEY = ["corpus", "file", "row"]
LABELS = ("hate_speech", "abusive", "divisive_label", "incitement", "kind")


def joined() -> pd.DataFrame:
    """One row per second-pass row: first-pass labels (``_1``), second-pass labels (``_2``), its round's file."""
    first = pd.concat([pd.read_csv(HERE / name, dtype={"kind": str}).assign(round=name)
                       for name in FIRST if (HERE / name).exists()], ignore_index=True)
    second = pd.read_csv(HERE / "second_pass.csv", dtype={"kind": str})
    both = second.merge(first, on=KEY, suffixes=("_2", "_1"), how="left", validate="one_to_one")
    missing = both["round"].isna()
    if missing.any():
        raise SystemExit(f"{int(missing.sum())} second-pass rows have no first-pass label, e.g. "
                         f"{both.loc[missing, KEY].head(3).to_dict('records')}")
    return both


def table(both: pd.DataFrame) -> pd.DataFrame:
    """Kappa per label for each round and for all rows."""
    rows = []
    for name, part in [*both.groupby("round"), ("all", both)]:
        for label in LABELS:
            a, b = part[f"{label}_1"], part[f"{label}_2"]
            known = a.notna() & b.notna()
            if not known.any():
                continue
            a, b = (c[known].map(lambda v: v if isinstance(v, str) else str(int(v))) for c in (a, b))
            positives = f"{int((a == '1').sum())} / {int((b == '1').sum())}" if label != "kind" else "-"
            # Kappa is undefined when both passes used a single value (e.g. no incitement in either).
            kappa = cohen_kappa_score(a, b) if len(set(a) | set(b)) > 1 else float("nan")
            rows.append({"round": name, "label": label, "rows": int(known.sum()),
                         "agreement": round(float((a == b).mean()), 3), "positives 1st / 2nd": positives,
                         "kappa": round(float(kappa), 3)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(table(joined()).to_string(index=False))
