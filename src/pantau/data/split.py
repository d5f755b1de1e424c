"""Deduplication with a stated conflict rule, and a deterministic, group-aware, stratified split."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pantau.data.dedup import dedup_key, similarity_groups
from pantau.labels import LABEL_KEYS

SPLITS = ("train", "val", "test")
CONFLICT_RULES = ("max", "drop")


@dataclass
class DedupReport:
    """What deduplication removed and why."""

    exact_duplicates: int = 0  # same text and same labels as an earlier row
    near_duplicates: int = 0  # same dedup key (after normalisation), labels agree
    conflicts: int = 0  # groups whose duplicates disagree on some label
    conflict_rows_dropped: int = 0
    by_source: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly copy."""
        return {
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "conflicts": self.conflicts,
            "conflict_rows_dropped": self.conflict_rows_dropped,
            "by_source": {s: dict(c) for s, c in self.by_source.items()},
        }


def _merge_labels(values: np.ndarray) -> float:
    known = values[~np.isnan(values)]
    return float(known.max()) if known.size else float("nan")


def deduplicate(frame: pd.DataFrame, *, conflict_rule: str = "max") -> tuple[pd.DataFrame, DedupReport]:
    """Keep one row per dedup key.

    Conflict rule (duplicates that disagree on a label): ``max`` keeps the row and sets the label to 1 if
    any duplicate says 1 — for a review queue a missed offence costs more than a false alarm, and the
    annotators who said 1 saw something; ``drop`` removes the whole group. Missing labels (NaN) never
    conflict with known ones; they are filled from a duplicate that has them.
    """
    if conflict_rule not in CONFLICT_RULES:
        raise ValueError(f"conflict_rule must be one of {CONFLICT_RULES}, got {conflict_rule!r}")
    report = DedupReport()
    frame = frame.reset_index(drop=True).copy()
    frame["dedup_key"] = frame["text"].map(dedup_key)
    keep_rows: list[int] = []
    merged: dict[int, dict[str, float]] = {}
    drop_groups: set[str] = set()
    labels = frame[list(LABEL_KEYS)].to_numpy(dtype="float64")
    for key, idx in frame.groupby("dedup_key", sort=False).indices.items():
        first = int(idx[0])
        if len(idx) == 1:
            keep_rows.append(first)
            continue
        group = labels[idx]
        conflict = any(
            len(set(col[~np.isnan(col)].tolist())) > 1 for col in group.T
        )
        texts = frame["text"].iloc[idx]
        for pos, i in enumerate(idx[1:], start=1):
            same_text = texts.iloc[pos] in set(texts.iloc[:pos])
            kind = "exact_duplicates" if same_text and not conflict else "near_duplicates"
            if not conflict:
                setattr(report, kind, getattr(report, kind) + 1)
                report.by_source[frame["source"].iloc[i]][kind] += 1
        if conflict:
            report.conflicts += 1
            report.by_source[frame["source"].iloc[first]]["conflicts"] += 1
            if conflict_rule == "drop":
                report.conflict_rows_dropped += len(idx)
                drop_groups.add(key)
                continue
            report.conflict_rows_dropped += len(idx) - 1
        keep_rows.append(first)
        merged[first] = {k: _merge_labels(group[:, j]) for j, k in enumerate(LABEL_KEYS)}
    out = frame.loc[sorted(keep_rows)].copy()
    for row, values in merged.items():
        for k, v in values.items():
            out.at[row, k] = v
    return out.reset_index(drop=True), report


def _stratum(row: pd.Series) -> str:
    return "".join("x" if np.isnan(row[k]) else str(int(row[k])) for k in LABEL_KEYS) + "|" + str(row["source"])


def assign_splits(
    frame: pd.DataFrame, *, val: float = 0.15, test: float = 0.15, seed: int = 13, similarity: float = 0.9
) -> pd.DataFrame:
    """Add ``group`` and ``split`` columns.

    Near-duplicates (same dedup key or char n-gram cosine ≥ ``similarity``) share a group and a split.
    Groups are stratified on the label combination and source of their first row, ordered by a seeded
    hash (stable across runs and machines), and each goes to the split furthest below its target share.
    """
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(f"val ({val}) and test ({test}) must be fractions that leave room for train")
    frame = frame.reset_index(drop=True).copy()
    keys = frame["dedup_key"] if "dedup_key" in frame else frame["text"].map(dedup_key)
    groups = similarity_groups(list(keys), threshold=similarity)
    frame["group"] = groups
    targets = {"train": 1 - val - test, "val": val, "test": test}
    first_rows = frame.groupby("group", sort=False).head(1)
    strata: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    sizes = frame.groupby("group").size()
    for _, row in first_rows.iterrows():
        order = hashlib.sha256(f"{seed}:{keys[row.name]}".encode()).hexdigest()
        strata[_stratum(row)].append((order, int(row["group"]), int(sizes[row["group"]])))
    assignment: dict[int, str] = {}
    for name in sorted(strata):
        counts = dict.fromkeys(SPLITS, 0.0)
        members = sorted(strata[name])
        total = sum(size for _, _, size in members)
        for _, group, size in members:
            # The split furthest below its target share of this stratum gets the next group.
            split = max(SPLITS, key=lambda s: (targets[s] * total - counts[s], -SPLITS.index(s)))
            assignment[group] = split
            counts[split] += size
    frame["split"] = frame["group"].map(assignment)
    return frame
