"""The team's annotations of real public posts, joined to the corpora they point into.

An annotation file (``data/annotations/*.csv``) holds row references and labels, never the corpus texts:
``corpus, file, row, text_sha256, hate_speech, abusive, divisive_label, incitement, kind, annotator, note``.
The loader reads each referenced corpus from ``corpus_root`` (``../shared/data``), checks that the row
exists, that its text still hashes to ``text_sha256`` and that it is not one of the held-out evaluation
rows, applies the lead's decision where the two passes disagreed (``adjudicated.csv`` beside the file: the
files stay as the first pass labelled them), and returns the common labelled frame. Any problem stops the load with the file, line and reason:
an annotation that cannot be joined is a bug in our data, not a row to skip quietly.

Ibrohim 2019 rows are annotated for ``divisive_label`` and ``incitement`` only; their ``hate_speech``
and ``abusive`` come from the corpus's own ``HS`` / ``Abusive`` columns.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pantau.data.sources import CorpusError, finish_frame, repair_ibrohim_text
from pantau.io import ReadSummary
from pantau.labels import LABEL_KEYS

ANNOTATION_COLUMNS = ("corpus", "file", "row", "text_sha256", *LABEL_KEYS, "kind", "annotator", "note")
ANNOTATION_KINDS = ("use", "mention", "literal", "quote", "none")
HOLDOUT_FILE = "ibrohim2019/holdout_rows.txt"
# Where the two passes disagreed, the lead's decision: one row per (row, label), beside the annotation files.
ADJUDICATION_FILE = "adjudicated.csv"
ADJUDICATION_COLUMNS = ("corpus", "file", "row", "text_sha256", "label", "first", "second", "final", "note")


@dataclass(frozen=True)
class CorpusFile:
    """Where an annotated corpus file lives under ``corpus_root`` and how to read its text."""

    path: str
    encoding: str
    text_column: str
    labels: tuple[tuple[str, str], ...] = ()  # corpus column -> label key, for labels the corpus annotates


CORPUS_FILES: dict[tuple[str, str], CorpusFile] = {
    ("ibrohim2019", "re_dataset.csv"): CorpusFile(
        "ibrohim2019/re_dataset.csv", "latin-1", "Tweet", (("HS", "hate_speech"), ("Abusive", "abusive"))
    ),
    **{
        ("emot", f"{split}_preprocess.csv"): CorpusFile(f"indonlu/emot/{split}_preprocess.csv", "utf-8", "tweet")
        for split in ("train", "valid", "test")
    },
}

_EMOT_USER = re.compile(r"\[USERNAME\]")
_EMOT_URL = re.compile(r"\[URL\]")


def text_sha256(text: str) -> str:
    """The hash an annotation keeps of the text it was made on (the field exactly as ``csv`` reads it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def holdout_rows(corpus_root: Path) -> set[int]:
    """Ibrohim 2019 rows held out for evaluation: never annotated, trained or tuned on."""
    path = corpus_root / HOLDOUT_FILE
    if not path.exists():
        raise CorpusError(f"{path} not found: the holdout list must be present to check the annotations against it")
    lines = path.read_text(encoding="utf-8").splitlines()
    return {int(line) for line in lines if line.strip() and not line.lstrip().startswith("#")}


def _read_corpus(corpus_root: Path, spec: CorpusFile) -> list[dict[str, str]]:
    path = corpus_root / spec.path
    if not path.exists():
        raise CorpusError(f"annotated corpus {path} not found (set corpus_root of the annotations source)")
    with open(path, encoding=spec.encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def _clean(corpus: str, text: str) -> str:
    if corpus == "ibrohim2019":
        return repair_ibrohim_text(text)
    # EmoT masks handles and links its own way; the normaliser knows @user and links.
    return _EMOT_URL.sub("http://url.invalid", _EMOT_USER.sub("@user", text)).strip()


def _label(value: str, where: str, column: str) -> float:
    value = value.strip()
    if value == "":
        return float("nan")
    if value in ("0", "1"):
        return float(value)
    raise CorpusError(f"{where}: {column}={value!r} is not 0, 1 or empty")


def load_adjudications(path: Path) -> dict[tuple[str, str, int], dict[str, str]]:
    """Final labels decided where the passes disagreed: ``(corpus, file, row) → {label: final}``.

    Each row keeps both passes' values (``first``, ``second``) beside the ``final`` one, so the decision
    can be audited; the annotation files themselves stay as the first pass labelled them.
    """
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ADJUDICATION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}: column(s) {', '.join(missing)} missing; expected {', '.join(ADJUDICATION_COLUMNS)}")
        out: dict[tuple[str, str, int], dict[str, str]] = {}
        for line, rec in enumerate(reader, start=2):
            where = f"{path}:{line}"
            label, final = rec["label"].strip(), rec["final"].strip()
            if label not in (*LABEL_KEYS, "kind"):
                raise CorpusError(f"{where}: label={label!r} is not one of {(*LABEL_KEYS, 'kind')}")
            if label == "kind" and final not in ANNOTATION_KINDS:
                raise CorpusError(f"{where}: final kind={final!r} not in {ANNOTATION_KINDS}")
            if label != "kind" and final not in ("0", "1"):
                raise CorpusError(f"{where}: final {label}={final!r} is not 0 or 1")
            try:
                key = (rec["corpus"], rec["file"], int(rec["row"]))
            except ValueError:
                raise CorpusError(f"{where}: row {rec['row']!r} is not a row number") from None
            decided = out.setdefault(key, {"text_sha256": rec["text_sha256"]})
            if label in decided:
                raise CorpusError(f"{where}: {label} of {key} adjudicated twice")
            decided[label] = final
    return out


def load_annotations(
    path: str | Path, *, corpus_root: str | Path, source: str = "annotations", weight: float = 1.0
) -> pd.DataFrame:
    """Annotation rows joined to their corpus texts, as the common labelled frame (``attrs['summary']``)."""
    path, root = Path(path), Path(corpus_root)
    if not path.exists():
        raise CorpusError(f"annotation file {path} does not exist")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ANNOTATION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}: column(s) {', '.join(missing)} missing; expected {', '.join(ANNOTATION_COLUMNS)}")
        rows = list(reader)
    held = holdout_rows(root)
    adjudicated = load_adjudications(path.parent / ADJUDICATION_FILE)
    changed = 0
    corpora: dict[tuple[str, str], list[dict[str, str]]] = {}
    out, problems, seen = [], [], set()
    kinds: Counter[str] = Counter()
    for line, ref in enumerate(rows, start=2):
        where = f"{path}:{line}"
        key = (ref["corpus"], ref["file"])
        spec = CORPUS_FILES.get(key)
        if spec is None:
            problems.append(f"{where}: unknown corpus/file {key}; known: {sorted(CORPUS_FILES)}")
            continue
        try:
            index = int(ref["row"])
        except ValueError:
            problems.append(f"{where}: row {ref['row']!r} is not a row number")
            continue
        if key == ("ibrohim2019", "re_dataset.csv") and index in held:
            problems.append(f"{where}: Ibrohim row {index} is in {HOLDOUT_FILE} (held out: never annotate it)")
            continue
        if (key, index) in seen:
            problems.append(f"{where}: {ref['corpus']} row {index} annotated twice in this file")
            continue
        seen.add((key, index))
        texts = corpora.get(key)
        if texts is None:
            texts = corpora[key] = _read_corpus(root, spec)
        if not 0 <= index < len(texts):
            problems.append(f"{where}: {spec.path} has no row {index} (it has {len(texts)} rows)")
            continue
        record = texts[index]
        raw = record[spec.text_column]
        if text_sha256(raw) != ref["text_sha256"]:
            problems.append(f"{where}: {spec.path} row {index} changed since it was annotated (text hash differs)")
            continue
        decided = adjudicated.get((ref["corpus"], ref["file"], index))
        if decided:
            if decided["text_sha256"] != ref["text_sha256"]:
                problems.append(f"{where}: {ADJUDICATION_FILE} holds a different text hash for row {index}")
                continue
            ref = {**ref, **{k: v for k, v in decided.items() if k != "text_sha256"}}
            changed += 1
        kind = ref["kind"].strip()
        if kind not in ANNOTATION_KINDS:
            problems.append(f"{where}: kind={kind!r} not in {ANNOTATION_KINDS}")
            continue
        try:
            labels = {k: _label(ref[k], where, k) for k in LABEL_KEYS}
            for column, label_key in spec.labels:
                if np.isnan(labels[label_key]):
                    labels[label_key] = _label(record[column], f"{spec.path} row {index}", column)
        except CorpusError as exc:
            problems.append(str(exc))
            continue
        kinds[kind] += 1
        out.append({"id": f"{ref['corpus']}-{index}", "text": _clean(ref["corpus"], raw), **labels, "kind": kind})
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CorpusError(f"{len(problems)} annotation(s) cannot be used:\n  {shown}{more}")
    frame = pd.DataFrame(out, columns=["id", "text", *LABEL_KEYS, "kind"])
    summary = ReadSummary(path=str(path), format="annotations")
    summary.read = summary.kept = len(rows)
    result = finish_frame(frame, source, weight)
    result.attrs["summary"] = summary
    result.attrs["kinds"] = dict(kinds)
    result.attrs["adjudicated"] = changed
    return result
