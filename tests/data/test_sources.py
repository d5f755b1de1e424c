"""Corpus loaders: Ibrohim repairs, label mapping, missing-vs-negative, CSV mapping, rejects."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pantau.data import CorpusError, load_csv, load_ibrohim, load_sample, repair_ibrohim_text
from pantau.data.sources import FRAME_COLUMNS, validate_detail
from pantau.io import RejectsWriter

IBROHIM_HEADER = ("Tweet,HS,Abusive,HS_Individual,HS_Group,HS_Religion,HS_Race,HS_Physical,HS_Gender,HS_Other,"
                  "HS_Weak,HS_Moderate,HS_Strong")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("USER Ya bani taplak dkk \\xf0\\x9f\\x98\\x84\\xf0\\x9f\\x98\\x84'", "@user Ya bani taplak dkk 😄😄"),
        ("RT USER: USER siapa yang telat'", "@user siapa yang telat"),
        ("AKU ITU AKU\\n\\nKU TAU'", "AKU ITU AKU\nKU TAU"),
        ("ya kitaÂ² juga", "ya kita² juga"),
        ("ada jugaâ?¦", "ada juga"),
        ("lihat URL &amp; share", "lihat http://url.invalid & share"),
        ("kampret (☞◑ㅂ◑\\x", "kampret (☞◑ㅂ◑"),
    ],
)
def test_repair_ibrohim_text(raw: str, expected: str) -> None:
    assert repair_ibrohim_text(raw) == expected


def _write_ibrohim(path: Path, rows: list[str]) -> None:
    path.write_bytes(("\r\n".join([IBROHIM_HEADER, *rows]) + "\r\n").encode("latin-1"))


def test_load_ibrohim_maps_the_taxonomy_and_keeps_unannotated_labels_missing(tmp_path: Path) -> None:
    src = tmp_path / "re_dataset.csv"
    _write_ibrohim(src, [
        "USER USER Kaum cebong kapir udah keliatan dongoknya',1,1,0,1,1,0,0,0,0,0,1,0",
        "deklarasi pilkada 2018 aman dan damai,0,0,0,0,0,0,0,0,0,0,0,0",
        "basic elo cowok bego ! ! !',1,1,1,0,0,0,0,1,1,1,0,0",
        "baris rusak,1,x,0,0,0,0,0,0,0,0,0,0",
        "\\n',0,0,0,0,0,0,0,0,0,0,0,0",
    ])
    rejects = tmp_path / "rejects.csv"
    with RejectsWriter(rejects) as writer:
        frame = load_ibrohim(src, rejects=writer)
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == 3
    first = frame.iloc[0]
    assert first["text"] == "@user @user Kaum cebong kapir udah keliatan dongoknya"
    assert (first["hate_speech"], first["abusive"]) == (1.0, 1.0)
    assert (first["hs_target"], first["hs_category"], first["hs_strength"]) == ("group", "religion", "moderate")
    assert frame.iloc[2]["hs_category"] == "gender;other"
    assert frame.iloc[1]["hs_target"] == ""  # detail only on hate speech
    assert np.isnan(frame["divisive_label"]).all() and np.isnan(frame["incitement"]).all()
    with open(rejects, encoding="utf-8") as fh:
        reasons = [r["reason"] for r in csv.DictReader(fh)]
    assert reasons == ["invalid label: Abusive='x' (expected 0 or 1)", "empty text after repair"]
    summary = frame.attrs["summary"]
    assert summary.read == 5 and summary.kept == 3 and summary.rejected == 2
    assert validate_detail(frame) == []


def test_load_csv_with_column_mapping(tmp_path: Path) -> None:
    src = tmp_path / "other.csv"
    src.write_text("tweet,hs,kasar\nbiasa aja,0,0\ndasar tolol,0,1\nkalian kafir semua,1,yes\n", encoding="utf-8")
    frame = load_csv(src, label_columns={"hs": "hate_speech", "kasar": "abusive"}, text_column="tweet",
                     source="other")
    assert frame["abusive"].tolist() == [0.0, 1.0, 1.0]
    assert frame["source"].unique().tolist() == ["other"]
    assert frame["divisive_label"].isna().all()
    with pytest.raises(CorpusError, match="unknown label"):
        load_csv(src, label_columns={"hs": "hatespeech"}, text_column="tweet")
    with pytest.raises(CorpusError, match="label column"):
        load_csv(src, label_columns={"nope": "abusive"}, text_column="tweet")


def test_load_sample_requires_every_label_column(tmp_path: Path) -> None:
    src = tmp_path / "labelled.csv"
    src.write_text("id,text,hate_speech\ns1,halo,0\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="abusive, divisive_label, incitement missing"):
        load_sample(src)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_ibrohim_is_fully_repaired(shared_data: Path) -> None:
    frame = load_ibrohim(shared_data / "ibrohim2019" / "re_dataset.csv")
    summary = frame.attrs["summary"]
    assert summary.read == 13_169
    assert summary.read == summary.kept + summary.rejected
    text = frame["text"]
    assert not text.str.contains(r"\\x[0-9a-f]{2}").any()
    assert not text.str.contains(r"\\n").any()
    assert not text.str.contains(r"^RT @user:").any()
    assert not text.str.contains("\ufffd|Ã|â€").any()
    assert (text.str.endswith("'")).sum() < 10  # only genuine closing quotes remain
    assert frame["hate_speech"].sum() > 5_000 and frame["divisive_label"].isna().all()
