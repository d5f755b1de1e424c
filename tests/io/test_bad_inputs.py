"""A corpus of broken and unusual inputs: each one is read to the end, with its expected rejects."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pantau.io import IdIndex, InputError, RejectsWriter, read_all, read_posts


def _read(path: Path, **options: object) -> tuple[list[str], list[dict[str, str]], object]:
    rejects_path = path.with_name(path.name + ".rejects.csv")
    rejects_path.unlink(missing_ok=True)
    with RejectsWriter(rejects_path) as rejects:
        frame, summary = read_all(path, rejects=rejects, **options)
    rows = []
    if rejects_path.exists():
        with open(rejects_path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    assert summary.read == summary.kept + summary.rejected  # type: ignore[attr-defined]
    return frame["text"].tolist() if len(frame) else [], rows, summary


def _csv_gz(path: Path, n: int) -> bytes:
    body = "id,text\n" + "".join(f"p{i},posting nomor {i} tentang pemilu\n" for i in range(n))
    return gzip.compress(body.encode(), mtime=0)


def test_truncated_gzip_keeps_the_readable_rows_and_rejects_the_rest_once(tmp_path: Path) -> None:
    data = _csv_gz(tmp_path, 20_000)
    src = tmp_path / "posts.csv.gz"
    src.write_bytes(data[: len(data) // 2])
    texts, rejects, summary = _read(src)
    assert 0 < len(texts) < 20_000
    (last,) = rejects
    assert last["reason"].startswith(f"truncated gzip after row {len(texts)}")
    assert last["source"] == str(src) and "re-copy" in last["reason"]
    # Resumed after the damage: nothing more to read, nothing twice.
    reader = read_posts(src, skip_rows=summary.read)  # type: ignore[attr-defined]
    assert sum(len(c) for c in reader) == 0 and reader.summary.read == 0


def test_gzip_with_a_bad_crc_names_the_damage(tmp_path: Path) -> None:
    data = bytearray(_csv_gz(tmp_path, 50))
    data[-8] ^= 0xFF  # the CRC32 in the trailer
    src = tmp_path / "posts.CSV.GZ"  # capitals: still decompressed
    src.write_bytes(bytes(data))
    texts, rejects, _ = _read(src)
    assert len(texts) == 50
    assert rejects[-1]["reason"].startswith("corrupt gzip after row 50") and "CRC" in rejects[-1]["reason"]


def test_one_latin1_byte_at_the_start_does_not_turn_the_file_into_mojibake(tmp_path: Path) -> None:
    src = tmp_path / "mixed.csv"
    src.write_bytes(b"id,text\n1,caf\xe9 rusak\n" + "2,café enak\n3,kadrun 😡\n".encode())
    texts, rejects, summary = _read(src)
    assert texts == ["café enak", "kadrun 😡"]
    assert [r["row"] for r in rejects] == ["1"] and rejects[0]["reason"].startswith("unreadable encoding")
    assert summary.encoding == "utf-8"  # type: ignore[attr-defined]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_bom_is_detected(tmp_path: Path, codec: str) -> None:
    src = tmp_path / "posts.csv"
    src.write_bytes("id,text\n1,café enak\n2,dasar kadrun\n".encode(codec))
    texts, rejects, _ = _read(src)
    assert texts == ["café enak", "dasar kadrun"] and not rejects


def test_utf8_bom_in_jsonl_is_not_a_malformed_first_row(tmp_path: Path) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + (json.dumps({"id": "a", "text": "satu"}) + "\n").encode())
    texts, rejects, _ = _read(src)
    assert texts == ["satu"] and not rejects


def test_jsonl_text_of_the_wrong_type_is_rejected_not_scored_as_a_repr(tmp_path: Path) -> None:
    src = tmp_path / "posts.jsonl"
    lines = [{"id": "1", "text": ["kadrun", "cebong"]}, {"id": "2", "text": {"a": "b"}},
             {"id": "3", "text": True}, {"id": "4", "text": 12}, {"id": [5], "text": "id salah"},
             {"id": "6", "text": "baik"}]
    src.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    texts, rejects, _ = _read(src)
    assert texts == ["baik"]
    assert [r["reason"] for r in rejects] == [
        "wrong type: text is a list, expected a string", "wrong type: text is an object, expected a string",
        "wrong type: text is a boolean, expected a string", "wrong type: text is a int, expected a string",
        "wrong type: id is a list, expected a string or integer",
    ]


def test_jsonl_columns_are_not_taken_from_the_first_object_only(tmp_path: Path) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text(json.dumps({"id": "0", "note": "no text"}) + "\n" + json.dumps({"id": "1", "text": "ada"}) + "\n",
                   encoding="utf-8")
    texts, rejects, _ = _read(src)
    assert texts == ["ada"] and rejects[0]["reason"] == "empty text"


def test_parquet_bytes_lists_and_int_ids_with_nulls(tmp_path: Path) -> None:
    src = tmp_path / "posts.parquet"
    table = pa.table({
        "id": pa.array([1, None, 3, 4], pa.int64()),
        "text": pa.array([b"dasar kadrun", b"tanpa id", b"\xff\xfe", b"ok"], pa.binary()),
    })
    pq.write_table(table, src)
    frame, summary = read_all(src, rejects=RejectsWriter(tmp_path / "r.csv"))
    assert frame["id"].tolist() == ["1", "4"] and frame["text"].tolist() == ["dasar kadrun", "ok"]
    assert summary.reasons == {"empty id": 1, "unreadable encoding": 1}
    lists = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": pa.array([["x", "y"]])}), lists)
    _, rejects, _ = _read(lists)
    assert rejects[0]["reason"] == "wrong type: text is a list, expected a string"
    assert json.loads(rejects[0]["raw"]) == {"id": "a", "text": ["x", "y"]}  # the raw row is kept


def test_unterminated_quote_is_one_reject_not_a_silent_merge(tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    src.write_text('id,text\n1,baik\n2,"tanpa tutup\n3,ditelan\n4,juga\n', encoding="utf-8")
    texts, rejects, _ = _read(src)
    assert texts == ["baik"]
    (reject,) = rejects
    assert reject["row"] == "2" and reject["reason"].startswith("unterminated quote from row 2")


def test_cannot_start_inputs_raise_before_any_row(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        read_posts(empty).check()
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"kolom_{i}" for i in range(200_000)) + "\n1\n")
    with pytest.raises(InputError, match="text column 'text' not found") as info:
        read_posts(wide).check()
    assert len(str(info.value)) < 600 and "200000 columns" in str(info.value)
    with pytest.raises(InputError, match="cannot tell the format"):
        (tmp_path / "posts.txt").write_text("halo\n")
        read_posts(tmp_path / "posts.txt")


def test_ids_are_unique_across_files_sharing_one_index(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.jsonl"
    a.write_text("id,text\n1,satu\n2,dua\n", encoding="utf-8")
    b.write_text(json.dumps({"id": 2, "text": "lagi"}) + "\n" + json.dumps({"id": 3, "text": "tiga"}) + "\n")
    seen = IdIndex()
    read_all(a, seen_ids=seen)
    second, summary = read_all(b, seen_ids=seen)
    assert second["id"].tolist() == ["3"] and summary.reasons["duplicate id"] == 1


def test_id_index_stays_compact() -> None:
    index = IdIndex()
    assert all(index.add(f"post-{i}") for i in range(200_000))
    assert not index.add("post-123") and "post-199999" in index and len(index) == 200_000
    assert index.nbytes <= 200_000 * 8 + 60 * 65_536
