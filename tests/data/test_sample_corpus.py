"""The labelled sample corpus (data/sample/labelled.csv): shape, counts, label hygiene, no near-duplicates.

The corpus is what teaches the model that *mentioning* a divisive label is not *using* it, so these tests
guard the properties the data card promises (data/sample/README.md) rather than any one post.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from pantau.data import dedup_key, load_sample
from pantau.data.sources import validate_detail
from pantau.labels import HS_CATEGORIES, HS_DETAIL_COLUMNS, HS_STRENGTHS, HS_TARGETS, LABEL_KEYS, SAMPLE_KINDS

HEADER = ["id", "text", *LABEL_KEYS, *HS_DETAIL_COLUMNS, "kind", "platform"]
PLATFORMS = {"twitter", "facebook", "instagram", "tiktok", "youtube"}
HARD_NEGATIVE_KINDS = {"mention", "literal", "exclamation", "criticism"}


@pytest.fixture(scope="module")
def corpus_path(repo_root: Path) -> Path:
    path = repo_root / "data" / "sample" / "labelled.csv"
    if not path.exists():
        pytest.fail(f"{path} is missing; it is part of the repository")
    return path


@pytest.fixture(scope="module")
def raw_rows(corpus_path: Path) -> list[dict[str, str]]:
    """The file as written, cell by cell (the loader turns blanks into NaN; here we see the strings)."""
    with corpus_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader)


@pytest.fixture(scope="module")
def frame(corpus_path: Path) -> pd.DataFrame:
    return load_sample(corpus_path)


def test_loader_keeps_every_row(frame: pd.DataFrame, raw_rows: list[dict[str, str]]) -> None:
    summary = frame.attrs["summary"]
    assert summary.rejected == 0, summary
    assert len(frame) == len(raw_rows) >= 800


def test_label_columns_are_zero_or_one_without_gaps(
    frame: pd.DataFrame, raw_rows: list[dict[str, str]]
) -> None:
    for key in LABEL_KEYS:
        assert frame[key].notna().all(), key
        assert set(frame[key].unique()) <= {0.0, 1.0}, key
        assert {row[key] for row in raw_rows} == {"0", "1"}, key


def test_label_counts(frame: pd.DataFrame) -> None:
    counts = {key: int(frame[key].sum()) for key in LABEL_KEYS}
    assert counts["hate_speech"] >= 150
    assert counts["abusive"] >= 150
    assert counts["divisive_label"] >= 150
    assert counts["incitement"] >= 100
    # The corpus must not be mostly positive: ordinary posts are the majority of real traffic.
    all_negative = (frame[list(LABEL_KEYS)].sum(axis=1) == 0).sum()
    assert all_negative >= 0.4 * len(frame)


def test_hard_negatives(frame: pd.DataFrame) -> None:
    hard = frame[frame["kind"].isin(HARD_NEGATIVE_KINDS) & (frame["divisive_label"] == 0)]
    assert len(hard) >= 200
    per_kind = Counter(hard["kind"])
    assert all(per_kind[kind] >= 30 for kind in HARD_NEGATIVE_KINDS), per_kind


def test_divisive_label_is_only_set_on_uses(frame: pd.DataFrame) -> None:
    divisive = frame[frame["divisive_label"] == 1]
    assert set(divisive["kind"]) == {"use"}


def test_obfuscated_spellings_are_among_the_positives(frame: pd.DataFrame) -> None:
    positives = frame.loc[frame["divisive_label"] == 1, "text"].str.lower()
    for spelling in (
        "k4drun",
        "c3bong",
        "kdrn",
        "k a d r u n",
        "#kadrunlaknat",
        "kampr3t",
        "cebonk",
        "bzzrp",
    ):
        assert positives.str.contains(spelling, regex=False).any(), spelling


def test_detail_columns_only_on_hate_speech_and_valid(frame: pd.DataFrame) -> None:
    assert validate_detail(frame) == []
    hs = frame[frame["hate_speech"] == 1]
    other = frame[frame["hate_speech"] == 0]
    for col in HS_DETAIL_COLUMNS:
        assert (other[col] == "").all(), col
        assert (hs[col] != "").all(), col
    assert set(hs["hs_target"]) <= set(HS_TARGETS)
    assert set(hs["hs_strength"]) <= set(HS_STRENGTHS)
    categories = {c for value in hs["hs_category"] for c in value.split(";")}
    assert categories <= set(HS_CATEGORIES)
    assert categories == set(HS_CATEGORIES), "every category should have examples"


def test_strength_follows_ibrohims_rule(frame: pd.DataFrame) -> None:
    hs = frame[frame["hate_speech"] == 1]
    weak, moderate = hs[hs["hs_strength"] == "weak"], hs[hs["hs_strength"] == "moderate"]
    assert (weak["hs_target"] == "individual").all()
    assert (moderate["hs_target"] == "group").all()
    # Hate speech that also incites is strong by definition.
    assert (hs.loc[hs["incitement"] == 1, "hs_strength"] == "strong").all()


def test_kind_and_platform_values(frame: pd.DataFrame, raw_rows: list[dict[str, str]]) -> None:
    assert set(frame["kind"]) == set(SAMPLE_KINDS)
    assert {row["platform"] for row in raw_rows} == PLATFORMS


def test_ids_are_unique_and_well_formed(frame: pd.DataFrame) -> None:
    assert frame["id"].is_unique
    assert frame["id"].str.fullmatch(r"s\d{4}").all()


def test_no_two_posts_share_a_dedup_key(frame: pd.DataFrame) -> None:
    keys = frame["text"].map(dedup_key)
    assert (keys != "").all()
    dupes = keys[keys.duplicated(keep=False)]
    assert dupes.empty, frame.loc[dupes.index, ["id", "text"]].to_string()


def test_no_template_posts(frame: pd.DataFrame) -> None:
    """Posts that differ in a word or two would leak across splits; word-set Jaccard must stay < 0.8."""
    words = [frozenset(k.split()) for k in frame["text"].map(dedup_key)]
    close = [
        (frame["id"][a], frame["id"][b])
        for a, b in itertools.combinations(range(len(words)), 2)
        if len(words[a] & words[b]) >= 0.8 * len(words[a] | words[b])
    ]
    assert close == []
