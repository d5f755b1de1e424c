"""The team's annotations: joined to the real corpora, and every way an annotation can go stale stops prepare."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from pantau.data.annotations import ANNOTATION_COLUMNS, load_annotations, text_sha256
from pantau.data.sources import CorpusError
from pantau.labels import LABEL_KEYS

REPO = Path(__file__).resolve().parents[2]
ANNOTATIONS = REPO / "data" / "annotations"


def _tiny_corpus(root: Path) -> Path:
    """A corpus root with a three-row Ibrohim file, an EmoT file and a holdout list holding row 2."""
    (root / "ibrohim2019").mkdir(parents=True)
    (root / "indonlu" / "emot").mkdir(parents=True)
    header = ["Tweet", "HS", "Abusive", "HS_Individual", "HS_Group", "HS_Religion", "HS_Race", "HS_Physical",
              "HS_Gender", "HS_Other", "HS_Weak", "HS_Moderate", "HS_Strong"]
    rows = [["dasar cebong dungu", 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0],
            ["RT USER: jangan saling sebut cebong", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ["baris yang ditahan", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
    with open(root / "ibrohim2019" / "re_dataset.csv", "w", encoding="latin-1", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    (root / "ibrohim2019" / "holdout_rows.txt").write_text("# held out\n2\n", encoding="utf-8")
    with open(root / "indonlu" / "emot" / "train_preprocess.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["label", "tweet"], ["anger", "[USERNAME] pelayanan lambat banget [URL]"]])
    return root


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ANNOTATION_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in ANNOTATION_COLUMNS})
    return path


def _ref(corpus: str, file: str, row: int, text: str, **labels: object) -> dict[str, object]:
    return {"corpus": corpus, "file": file, "row": row, "text_sha256": text_sha256(text), "annotator": "t", **labels}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _tiny_corpus(tmp_path / "shared")


def test_rows_join_their_texts_and_take_hs_and_abusive_from_ibrohim(corpus: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", [
        _ref("ibrohim2019", "re_dataset.csv", 0, "dasar cebong dungu", divisive_label=1, incitement=0, kind="use"),
        _ref("ibrohim2019", "re_dataset.csv", 1, "RT USER: jangan saling sebut cebong", divisive_label=0,
             incitement=0, kind="mention"),
        _ref("emot", "train_preprocess.csv", 0, "[USERNAME] pelayanan lambat banget [URL]", hate_speech=0,
             abusive=0, divisive_label=0, incitement=0, kind="none"),
    ])
    frame = load_annotations(path, corpus_root=corpus, source="annotated")
    assert frame["text"].tolist() == ["dasar cebong dungu", "jangan saling sebut cebong",
                                      "@user pelayanan lambat banget http://url.invalid"]
    assert frame[list(LABEL_KEYS)].to_numpy().tolist() == [[1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert frame["kind"].tolist() == ["use", "mention", "none"]
    assert frame.attrs["summary"].read == 3 and frame.attrs["kinds"] == {"use": 1, "mention": 1, "none": 1}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (_ref("ibrohim2019", "re_dataset.csv", 2, "baris yang ditahan", divisive_label=0, incitement=0, kind="none"),
         "holdout_rows.txt"),
        (_ref("ibrohim2019", "re_dataset.csv", 7, "x", divisive_label=0, incitement=0, kind="none"), "has no row 7"),
        (_ref("ibrohim2019", "re_dataset.csv", 0, "teks lain", divisive_label=1, incitement=0, kind="use"),
         "changed since it was annotated"),
        (_ref("ibrohim2019", "re_dataset.csv", 0, "dasar cebong dungu", divisive_label=2, incitement=0, kind="use"),
         "divisive_label='2'"),
        (_ref("ibrohim2019", "re_dataset.csv", 0, "dasar cebong dungu", divisive_label=1, incitement=0, kind="maybe"),
         "kind='maybe'"),
        (_ref("twitter", "x.csv", 0, "x", kind="none"), "unknown corpus/file"),
    ],
)
def test_a_stale_or_bad_annotation_stops_the_load_naming_file_and_line(
    corpus: Path, tmp_path: Path, ref: dict[str, object], message: str
) -> None:
    good = _ref("ibrohim2019", "re_dataset.csv", 1, "RT USER: jangan saling sebut cebong", divisive_label=0,
                incitement=0, kind="mention")
    path = _write(tmp_path / "bad.csv", [good, ref])
    with pytest.raises(CorpusError, match=message) as err:
        load_annotations(path, corpus_root=corpus)
    assert f"{path}:3" in str(err.value)


def test_missing_holdout_list_stops_the_load(corpus: Path, tmp_path: Path) -> None:
    (corpus / "ibrohim2019" / "holdout_rows.txt").unlink()
    path = _write(tmp_path / "a.csv", [])
    with pytest.raises(CorpusError, match="holdout list"):
        load_annotations(path, corpus_root=corpus)


def test_prepare_reports_every_annotation_read(corpus: Path, tmp_path: Path) -> None:
    from pantau.config import load_settings
    from pantau.data.prepare import prepare

    _write(tmp_path / "a.csv", [
        _ref("ibrohim2019", "re_dataset.csv", 0, "dasar cebong dungu", divisive_label=1, incitement=0, kind="use"),
        _ref("ibrohim2019", "re_dataset.csv", 1, "RT USER: jangan saling sebut cebong", divisive_label=0,
             incitement=0, kind="mention"),
    ])
    shutil.copy(REPO / "data" / "sample" / "labelled.csv", tmp_path / "labelled.csv")
    params = tmp_path / "params.yaml"
    params.write_text(
        "data:\n  sources:\n    - {name: sample, kind: sample, path: labelled.csv}\n"
        f"    - {{name: real, kind: annotations, path: a.csv, corpus_root: {corpus}}}\n"
        "  processed_dir: processed\n", encoding="utf-8")
    report = prepare(load_settings(params)).report
    assert report["sources"]["real"]["read"] == 2 and report["sources"]["real"]["kinds"] == {"use": 1, "mention": 1}
    assert report["rows"]["accounted"]


@pytest.mark.realdata
def test_the_committed_annotations_join_the_shared_corpora(shared_data: Path) -> None:
    """Every committed annotation still points at an existing, unchanged, not held-out corpus row."""
    held = {int(x) for x in (shared_data / "ibrohim2019" / "holdout_rows.txt").read_text().split() if x.isdigit()}
    counts = {}
    files = sorted(p for p in ANNOTATIONS.glob("*.csv") if p.name not in ("timing.csv", "adjudicated.csv"))
    assert {p.stem for p in files} >= {"ibrohim2019_divisive", "emot", "second_pass"}
    for path in files:
        name = path.stem
        frame = load_annotations(path, corpus_root=shared_data, source=name)
        counts[name] = len(frame)
        assert not np.isnan(frame[list(LABEL_KEYS)].to_numpy()).any()  # every label known for every row
        ibrohim_rows = {int(i.split("-")[1]) for i in frame["id"] if i.startswith("ibrohim2019-")}
        assert not ibrohim_rows & held
    assert counts["ibrohim2019_divisive"] >= 700 and counts["emot"] >= 1000


def _adjudicate(folder: Path, rows: list[dict[str, object]]) -> Path:
    from pantau.data.annotations import ADJUDICATION_COLUMNS, ADJUDICATION_FILE

    path = folder / ADJUDICATION_FILE
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ADJUDICATION_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_leads_decision_replaces_the_first_pass_where_the_passes_disagreed(corpus: Path, tmp_path: Path) -> None:
    text = "RT USER: jangan saling sebut cebong"
    path = _write(tmp_path / "a.csv", [
        _ref("ibrohim2019", "re_dataset.csv", 0, "dasar cebong dungu", divisive_label=1, incitement=0, kind="use"),
        _ref("ibrohim2019", "re_dataset.csv", 1, text, divisive_label=1, incitement=0, kind="use"),
    ])
    sha = text_sha256(text)
    _adjudicate(tmp_path, [
        {"corpus": "ibrohim2019", "file": "re_dataset.csv", "row": 1, "text_sha256": sha, "label": "divisive_label",
         "first": 1, "second": 0, "final": 0, "note": "counter-speech"},
        {"corpus": "ibrohim2019", "file": "re_dataset.csv", "row": 1, "text_sha256": sha, "label": "kind",
         "first": "use", "second": "mention", "final": "mention", "note": ""},
        # a decision about a row of another annotation file: not this file's business
        {"corpus": "emot", "file": "train_preprocess.csv", "row": 0, "text_sha256": "0" * 16, "label": "abusive",
         "first": 1, "second": 0, "final": 0, "note": ""},
    ])
    frame = load_annotations(path, corpus_root=corpus)
    assert frame["divisive_label"].tolist() == [1.0, 0.0]
    assert frame["kind"].tolist() == ["use", "mention"]
    assert frame.attrs["adjudicated"] == 1 and frame.attrs["kinds"] == {"use": 1, "mention": 1}
    assert f"{sha},,,1,0,use" in path.read_text()  # the file keeps the first pass as labelled


@pytest.mark.parametrize(
    ("change", "message"),
    [({"final": "2"}, "is not 0 or 1"), ({"label": "mood"}, "label='mood'"),
     ({"label": "kind", "final": "maybe"}, "final kind='maybe'"), ({"text_sha256": "f" * 16}, "different text hash")],
)
def test_a_bad_adjudication_stops_the_load(corpus: Path, tmp_path: Path, change: dict[str, str], message: str) -> None:
    text = "dasar cebong dungu"
    path = _write(tmp_path / "a.csv", [
        _ref("ibrohim2019", "re_dataset.csv", 0, text, divisive_label=1, incitement=0, kind="use")])
    row = {"corpus": "ibrohim2019", "file": "re_dataset.csv", "row": 0, "text_sha256": text_sha256(text),
           "label": "incitement", "first": 0, "second": 1, "final": 1, "note": "", **change}
    _adjudicate(tmp_path, [row])
    with pytest.raises(CorpusError, match=message):
        load_annotations(path, corpus_root=corpus)
