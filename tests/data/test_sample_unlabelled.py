"""The unlabelled demo posts (data/sample/unlabelled.csv): shape, metadata, no near-duplicates, realistic mix.

The demo scores these posts and sends the riskiest to the review queue, so the file must read cleanly through
the project's own reader, must not repeat itself or the labelled corpus (a demo that "finds" a post the model
was trained on proves nothing), and must keep the hostile inputs the data card promises.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pantau.data import dedup_key
from pantau.io import read_all
from pantau.text.lexicon import find_spans

HEADER = ["id", "text", "platform", "author", "created_at", "url"]
PLATFORMS = {"twitter", "facebook", "instagram", "tiktok", "youtube"}
FIRST_DAY = datetime(2019, 1, 1, tzinfo=UTC)
LAST_DAY_END = datetime(2024, 7, 1, tzinfo=UTC)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def path(repo_root: Path) -> Path:
    p = repo_root / "data" / "sample" / "unlabelled.csv"
    if not p.exists():
        pytest.fail(f"{p} is missing; it is part of the repository")
    return p


@pytest.fixture(scope="module")
def rows(path: Path) -> list[dict[str, str]]:
    return _read(path)[1]


@pytest.fixture(scope="module")
def labelled_texts(repo_root: Path) -> list[str]:
    p = repo_root / "data" / "sample" / "labelled.csv"
    if not p.exists():
        pytest.fail(f"{p} is missing; it is part of the repository")
    return [row["text"] for row in _read(p)[1]]


def test_header_and_row_count(path: Path, rows: list[dict[str, str]]) -> None:
    assert _read(path)[0] == HEADER
    assert len(rows) >= 1000


def test_project_reader_keeps_every_row_unchanged(path: Path, rows: list[dict[str, str]]) -> None:
    frame, summary = read_all(path)
    assert summary.rejected == 0, summary
    assert frame["id"].tolist() == [r["id"] for r in rows]
    assert frame["text"].tolist() == [r["text"] for r in rows]


def test_ids_unique_and_well_formed(rows: list[dict[str, str]]) -> None:
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"u\d{5}", i) for i in ids)
    assert ids == sorted(ids)


def test_no_empty_text(rows: list[dict[str, str]]) -> None:
    empty = [r["id"] for r in rows if not r["text"].strip()]
    assert empty == []


def test_metadata_columns(rows: list[dict[str, str]]) -> None:
    assert {r["platform"] for r in rows} == PLATFORMS
    assert all(re.fullmatch(r"@[A-Za-z0-9_.]{3,30}", r["author"]) for r in rows)
    # Invented links only: nothing that looks like a real platform URL.
    assert all(r["url"].startswith("https://example.com/") for r in rows)
    assert len({r["url"] for r in rows}) == len(rows)


def test_created_at_parses_within_2019_to_mid_2024(rows: list[dict[str, str]]) -> None:
    for r in rows:
        when = datetime.fromisoformat(r["created_at"])
        assert when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(None), r["id"]
        assert FIRST_DAY <= when < LAST_DAY_END, (r["id"], r["created_at"])


def test_no_dedup_key_collisions_within_file(rows: list[dict[str, str]]) -> None:
    seen: dict[str, str] = {}
    collisions = []
    for r in rows:
        key = dedup_key(r["text"])
        if key in seen:
            collisions.append((seen[key], r["id"]))
        seen[key] = r["id"]
    assert collisions == []


def test_no_overlap_with_labelled_corpus(rows: list[dict[str, str]], labelled_texts: list[str]) -> None:
    labelled_keys = {dedup_key(t) for t in labelled_texts}
    overlap = [r["id"] for r in rows if dedup_key(r["text"]) in labelled_keys]
    assert overlap == []


def _close_pairs(
    a_sets: list[frozenset[str]], b_sets: list[frozenset[str]], same: bool
) -> list[tuple[int, int]]:
    """Pairs with word-set Jaccard >= 0.8, via an inverted index so only pairs sharing a word are compared."""
    index: dict[str, list[int]] = defaultdict(list)
    for j, words in enumerate(b_sets):
        for w in words:
            index[w].append(j)
    close = []
    for i, words in enumerate(a_sets):
        if not words:
            continue
        shared: dict[int, int] = defaultdict(int)
        for w in words:
            for j in index[w]:
                shared[j] += 1
        for j, n in shared.items():
            if same and j <= i:
                continue
            if n >= 0.8 * len(words | b_sets[j]):
                close.append((i, j))
    return close


def test_no_template_posts(rows: list[dict[str, str]], labelled_texts: list[str]) -> None:
    """Posts that differ in a word or two are near-duplicates: word-set Jaccard must stay < 0.8."""
    sets = [_words(r["text"]) for r in rows]
    within = _close_pairs(sets, sets, same=True)
    assert [(rows[i]["id"], rows[j]["id"]) for i, j in within] == []
    labelled = [_words(t) for t in labelled_texts]
    across = _close_pairs(sets, labelled, same=False)
    assert [(rows[i]["id"], labelled_texts[j][:60]) for i, j in across] == []


def _words(text: str) -> frozenset[str]:
    return frozenset(dedup_key(text).split())


def test_close_pairs_helper_finds_a_template_pair() -> None:
    a = [_words("dasar cebong dungu gak bisa mikir sama sekali dari dulu")]
    b = [_words("Dasar KADRUN dungu, gak bisa mikir sama sekali dari dulu!!"), _words("harga cabe naik")]
    assert _close_pairs(a, b, same=False) == [(0, 0)]
    assert _close_pairs(a + b, a + b, same=True) == [(0, 1)]


def test_share_with_a_divisive_term_spelling_is_realistic(rows: list[dict[str, str]]) -> None:
    """Mostly ordinary traffic: 5–25% of posts carry a lexicon term (used as insult or merely mentioned)."""
    with_term = sum(1 for r in rows if find_spans(r["text"]))
    share = with_term / len(rows)
    assert 0.05 <= share <= 0.25, share


def test_long_posts(rows: list[dict[str, str]]) -> None:
    long_posts = [r for r in rows if 600 <= len(r["text"]) <= 3000 and len(r["text"].split()) >= 80]
    assert len(long_posts) >= 40
    assert max(len(r["text"]) for r in rows) <= 3000


def test_hostile_inputs_are_kept(rows: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in rows]
    assert any(re.search("[\u200b\u200c\u200d\ufeff\u00ad]", t) for t in texts), "zero-width characters"
    assert any(re.search("[\u200f\u202e]", t) for t in texts), "right-to-left marks"
    assert any("<script>" in t for t in texts), "HTML/script text"
    assert any("\n" in t for t in texts), "multi-line text"
    # Exactly the posts with nothing but emoji/punctuation normalise to an empty key; keep one such post.
    assert sum(1 for t in texts if dedup_key(t) == "") == 1
