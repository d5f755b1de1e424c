"""Deduplication and the leakage rule: near-duplicates never straddle splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pantau.data import assign_splits, dedup_key, deduplicate, similarity_groups
from pantau.labels import LABEL_KEYS


def _frame(texts: list[str], hs: list[float], source: str = "t") -> pd.DataFrame:
    return pd.DataFrame({
        "id": [f"r{i}" for i in range(len(texts))], "text": texts, "source": source, "weight": 1.0,
        "hate_speech": hs, "abusive": 0.0, "divisive_label": np.nan, "incitement": np.nan,
        "hs_target": "", "hs_category": "", "hs_strength": "", "kind": "",
    })


def test_dedup_key_normalises_noise() -> None:
    assert dedup_key("RT @budi: Dasar KADRUNNN!!! https://t.co/x 😡") == dedup_key("dasar kadrun")
    assert dedup_key("USER bangeeet") == dedup_key("banget")
    assert dedup_key("dasar kadrun") != dedup_key("dasar cebong")


def test_deduplicate_counts_and_conflict_rules() -> None:
    frame = _frame(["Cebong dungu", "Cebong dungu", "cebong DUNGU!!", "kampret", "KAMPRET", "aman"],
                   [1, 1, 1, 0, 1, 0])
    kept, report = deduplicate(frame, conflict_rule="max")
    assert len(kept) == 3
    assert report.exact_duplicates == 1 and report.near_duplicates == 1 and report.conflicts == 1
    assert kept.set_index("text").loc["kampret", "hate_speech"] == 1.0  # any annotator said yes
    dropped, report = deduplicate(frame, conflict_rule="drop")
    assert "kampret" not in dropped["text"].tolist() and report.conflict_rows_dropped == 2
    with pytest.raises(ValueError, match="conflict_rule"):
        deduplicate(frame, conflict_rule="vote")


def test_missing_labels_do_not_conflict_and_are_filled() -> None:
    frame = _frame(["sama persis", "sama persis"], [np.nan, 1.0])
    kept, report = deduplicate(frame)
    assert report.conflicts == 0 and kept["hate_speech"].tolist() == [1.0]


def test_similarity_groups_link_near_duplicates() -> None:
    keys = [dedup_key(t) for t in [
        "dasar cebong dungu semua pendukungnya ga ada otak",
        "dasar cebong dungu semua pendukungnya ga ada otaknya",
        "harga cabai naik lagi minggu ini di pasar",
    ]]
    groups = similarity_groups(keys, threshold=0.8)
    assert groups[0] == groups[1] != groups[2]


def test_split_is_deterministic_stratified_and_leak_free() -> None:
    rng = np.random.default_rng(0)
    words = ["cabai", "banjir", "macet", "kadrun", "cebong", "bola", "kopi", "hujan", "ojol", "mudik"]
    texts, hs = [], []
    for i in range(600):
        body = f"{rng.choice(words)} {rng.choice(words)} posting ke {i} {'x' * (i % 7)}"
        texts.append(body)
        hs.append(float(i % 4 == 0))
        if i % 10 == 0:  # near-duplicate twin
            texts.append(body + " !!")
            hs.append(float(i % 4 == 0))
    frame = _frame(texts, hs)
    frame["dedup_key"] = frame["text"].map(dedup_key)
    a = assign_splits(frame, val=0.15, test=0.15, seed=7)
    b = assign_splits(frame.sample(frac=1, random_state=1), val=0.15, test=0.15, seed=7)
    assert a.set_index("id")["split"].to_dict() == b.set_index("id")["split"].to_dict()
    # Every near-duplicate group sits in exactly one split.
    assert (a.groupby("group")["split"].nunique() == 1).all()
    twins = a[a["text"].str.endswith(" !!")]
    originals = a.set_index("text").loc[twins["text"].str.removesuffix(" !!"), "split"].to_numpy()
    assert (twins["split"].to_numpy() == originals).all()
    shares = a["split"].value_counts(normalize=True)
    assert abs(shares["train"] - 0.70) < 0.03 and abs(shares["test"] - 0.15) < 0.03
    for name in ("train", "val", "test"):
        positive_rate = a[a["split"] == name]["hate_speech"].mean()
        assert abs(positive_rate - a["hate_speech"].mean()) < 0.03
    assert set(LABEL_KEYS) <= set(a.columns)
