"""Streaming readers: formats, chunking, validation and the rejects file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from pantau.io import InputError, RejectsWriter, read_all, read_posts, stable_id, write_parquet_atomic


def _rejects(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_chunks_and_passthrough_columns(tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    pd.DataFrame({"id": [f"p{i}" for i in range(25)], "text": [f"post nomor {i}" for i in range(25)],
                  "author": ["@a"] * 25}).to_csv(src, index=False)
    reader = read_posts(src, chunk_rows=10)
    chunks = list(reader)
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert list(chunks[0].columns) == ["id", "text", "row", "author"]
    assert chunks[2]["row"].tolist() == [21, 22, 23, 24, 25]
    assert reader.summary.read == 25 and reader.summary.kept == 25 and reader.summary.rejected == 0


def test_missing_text_column_names_the_columns_found(tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    src.write_text("id,tweet\n1,halo\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"text column 'text' not found; columns found: id, tweet"):
        list(read_posts(src))


def test_bad_rows_go_to_rejects_with_reasons(tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    src.write_text(
        "id,text\n"
        "1,pertama\n"
        "2,   \n"            # whitespace only
        "1,id ganda\n"       # duplicate id
        "3,terlalu panjang sekali ini\n"
        "4,a,b,c\n"          # malformed: too many fields
        ",tanpa id\n"        # empty id
        "5,terakhir\n",
        encoding="utf-8",
    )
    rejects_path = tmp_path / "rejects.csv"
    with RejectsWriter(rejects_path) as rejects:
        frame, summary = read_all(src, max_chars=20, rejects=rejects)
    assert frame["id"].tolist() == ["1", "5"]
    rows = _rejects(rejects_path)
    reasons = {int(r["row"]): r["reason"] for r in rows}
    assert reasons[2] == "empty text"
    assert reasons[3].startswith("duplicate id: 1 (seen earlier in this run)")
    assert reasons[4].startswith("text too long: 26 characters > limit 20")
    assert reasons[5] == "malformed row: expected 2 fields, got 4"
    assert reasons[6] == "empty id"
    assert summary.read == 7 and summary.kept == 2 and summary.rejected == 5
    assert summary.read == summary.kept + summary.rejected
    raw_of_malformed = next(r["raw"] for r in rows if r["row"] == "5")
    assert raw_of_malformed == "4,a,b,c"  # nothing is lost: the raw content is kept


def test_latin1_is_read_only_when_configured_and_otherwise_rejects_only_its_rows(tmp_path: Path) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("id,text\n1,caf\xe9 enak\n2,biasa\n".encode("latin-1"))
    frame, summary = read_all(src, encoding="latin-1")
    assert summary.encoding == "latin-1" and frame["text"].tolist() == ["café enak", "biasa"]
    frame, summary = read_all(src)  # never a whole file by a sniff: only the latin-1 row is rejected
    assert frame["text"].tolist() == ["biasa"] and summary.reasons["unreadable encoding"] == 1


def test_invalid_utf8_late_in_file_rejects_only_that_row(tmp_path: Path) -> None:
    good = "".join(f"{i},baris {i} yang baik sekali\n" for i in range(200_000))
    src = tmp_path / "late.csv"
    src.write_bytes(b"id,text\n" + good.encode() + b"x,rusak \xff\xfe di sini\n" + b"y,akhir\n")
    rejects_path = tmp_path / "rejects.csv"
    with RejectsWriter(rejects_path) as rejects:
        reader = read_posts(src, chunk_rows=100_000, rejects=rejects)
        kept = sum(len(c) for c in reader)
    assert reader.summary.encoding == "utf-8"
    assert kept == 200_001
    (row,) = _rejects(rejects_path)
    assert row["reason"].startswith("unreadable encoding")
    assert int(row["row"]) == 200_001


def test_ids_derived_from_text_when_absent(tmp_path: Path) -> None:
    src = tmp_path / "noid.csv"
    src.write_text("text\nhalo dunia\nhalo dunia\napa kabar\n", encoding="utf-8")
    rejects_path = tmp_path / "r.csv"
    with RejectsWriter(rejects_path) as rejects:
        frame, summary = read_all(src, rejects=rejects)
    assert frame["id"].tolist() == [stable_id("halo dunia"), stable_id("apa kabar")]
    assert summary.reasons["duplicate id"] == 1  # the same text twice is the same post


def test_jsonl_with_malformed_lines(tmp_path: Path) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": "satu"}) + "\n" + "{not json\n" + "[1, 2]\n"
        + json.dumps({"id": "b", "text": "dua 😡"}) + "\n",
        encoding="utf-8",
    )
    rejects_path = tmp_path / "r.csv"
    with RejectsWriter(rejects_path) as rejects:
        frame, _ = read_all(src, rejects=rejects)
    assert frame["text"].tolist() == ["satu", "dua 😡"]
    reasons = [r["reason"] for r in _rejects(rejects_path)]
    assert reasons[0].startswith("malformed row: invalid JSON")
    assert reasons[1] == "malformed row: expected a JSON object, got list"


def test_tsv_headerless_with_given_columns(tmp_path: Path) -> None:
    src = tmp_path / "smsa.tsv"
    src.write_text("enak banget\tpositive\njelek\tnegative\n", encoding="utf-8")
    frame, _ = read_all(src, columns=["text", "label"], id_column=None)
    assert frame["label"].tolist() == ["positive", "negative"]


def test_parquet_round_trip_and_atomic_write(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "posts.parquet"
    write_parquet_atomic(pd.DataFrame({"id": ["1", "2", "3"], "text": ["a", "", "c"]}), target)
    assert not list(target.parent.glob(".*tmp*"))
    frame, summary = read_all(target, chunk_rows=2)
    assert frame["id"].tolist() == ["1", "3"]
    assert summary.reasons["empty text"] == 1


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_posts(tmp_path / "nope.csv")
    odd = tmp_path / "posts.xlsx"
    odd.write_text("x")
    with pytest.raises(InputError, match="cannot tell the format"):
        read_posts(odd)


def test_reader_streams_without_loading_the_whole_file(tmp_path: Path) -> None:
    """Chunks are produced lazily: the first chunk arrives before the reader has read the rest."""
    src = tmp_path / "big.csv"
    with open(src, "w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        fh.writelines(f"{i},posting nomor {i}\n" for i in range(50_000))
    reader = read_posts(src, chunk_rows=1_000)
    first = next(iter(reader))
    assert len(first) == 1_000
    assert reader.summary.read <= 1_001
