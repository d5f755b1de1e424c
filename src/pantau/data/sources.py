"""Corpus loaders: each returns one labelled frame in the same shape, whatever the source.

Columns: ``id, text, source, weight`` + one float column per label key (1.0 / 0.0, NaN where the corpus
does not annotate that label — missing, never negative) + ``hs_target, hs_category, hs_strength, kind``
(strings, empty when unknown). Rows that fail validation go to the rejects file with their reason.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pantau.io import ReadSummary, RejectsWriter, read_all
from pantau.labels import HS_CATEGORIES, HS_DETAIL_COLUMNS, HS_STRENGTHS, HS_TARGETS, LABEL_KEYS, POST_KINDS

FRAME_COLUMNS: tuple[str, ...] = ("id", "text", "source", "weight", *LABEL_KEYS, *HS_DETAIL_COLUMNS, "kind")
SOURCE_KINDS = ("sample", "ibrohim2019", "annotations", "csv", "reviewed")
DEFAULT_SAMPLE = Path("data/sample/labelled.csv")

_TRUE = {"1", "1.0", "true", "yes", "y", "ya"}
_FALSE = {"0", "0.0", "false", "no", "n", "tidak"}


class CorpusError(ValueError):
    """A corpus file is not in the expected shape; the message names the file and the fix."""


def _label_value(value: Any) -> float | None:
    """1.0 / 0.0 / NaN (blank) — or None when the value is not a label at all."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    text = str(value).strip().lower()
    if text == "" or text == "nan":
        return float("nan")
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    return None


def finish_frame(frame: pd.DataFrame, source: str, weight: float) -> pd.DataFrame:
    """Every loader's last step: source and weight set, missing labels NaN, the columns in order."""
    frame = frame.copy()
    frame["source"] = source
    frame["weight"] = float(weight)
    for key in LABEL_KEYS:
        if key not in frame:
            frame[key] = np.nan
        frame[key] = frame[key].astype("float64")
    for col in (*HS_DETAIL_COLUMNS, "kind"):
        frame[col] = frame[col].fillna("").astype(str) if col in frame else ""
    frame["id"] = frame["id"].astype(str)
    return frame[list(FRAME_COLUMNS)].reset_index(drop=True)


def _apply_labels(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    *,
    path: Path,
    rejects: RejectsWriter | None,
    summary: ReadSummary,
) -> pd.DataFrame:
    """Parse label columns (``column -> label key``); rows with a value that is not 0/1/blank are rejected."""
    bad = np.zeros(len(frame), dtype=bool)
    reasons: list[str] = [""] * len(frame)
    out = pd.DataFrame(index=frame.index)
    for column, key in mapping.items():
        parsed = frame[column].map(_label_value)
        invalid = parsed.isna() & frame[column].notna() & ~frame[column].astype(str).str.strip().isin(["", "nan"])
        invalid |= parsed.map(lambda v: v is None)
        for i in np.flatnonzero(invalid.to_numpy()):
            if not bad[i]:
                reasons[i] = f"invalid label: {column}={frame[column].iloc[i]!r} (expected 0 or 1)"
            bad[i] = True
        out[key] = pd.to_numeric(parsed.where(~invalid), errors="coerce")
    for i in np.flatnonzero(bad):
        summary.rejected += 1
        summary.kept -= 1
        summary.reasons["invalid label"] += 1
        if rejects is not None:
            rejects.write(str(path), int(frame["row"].iloc[i]), reasons[i], frame.iloc[i].to_json(force_ascii=False))
    keep = ~bad
    result = frame.loc[keep].copy()
    for key in mapping.values():
        result[key] = out.loc[keep, key]
    return result


def load_sample(
    path: str | Path = DEFAULT_SAMPLE, *, source: str = "sample", weight: float = 1.0,
    rejects: RejectsWriter | None = None,
) -> pd.DataFrame:
    """Our own labelled corpus (``data/sample/labelled.csv``): all four labels, detail and post kind."""
    return _load_labelled_csv(Path(path), source=source, weight=weight, rejects=rejects)[0]


def load_reviewed(
    path: str | Path, *, source: str = "reviewed", weight: float = 1.0, rejects: RejectsWriter | None = None
) -> pd.DataFrame:
    """Decisions exported from the review queue (``pantau queue export``), in the sample-corpus format."""
    return _load_labelled_csv(Path(path), source=source, weight=weight, rejects=rejects)[0]


def _load_labelled_csv(
    path: Path, *, source: str, weight: float, rejects: RejectsWriter | None
) -> tuple[pd.DataFrame, ReadSummary]:
    if not path.exists():
        raise CorpusError(f"corpus file {path} does not exist")
    frame, summary = read_all(path, text_column="text", id_column="id", rejects=rejects, max_chars=100_000)
    missing = [k for k in LABEL_KEYS if k not in frame.columns]
    if missing:
        raise CorpusError(
            f"{path}: label column(s) {', '.join(missing)} missing; columns found: {', '.join(frame.columns)}"
        )
    frame = _apply_labels(frame, {k: k for k in LABEL_KEYS}, path=path, rejects=rejects, summary=summary)
    frame.attrs["summary"] = summary
    out = finish_frame(frame, source, weight)
    out.attrs["summary"] = summary
    return out, summary


# -- Ibrohim & Budi 2019 ----------------------------------------------------------------------------

IBROHIM_COLUMNS = (
    "Tweet", "HS", "Abusive", "HS_Individual", "HS_Group", "HS_Religion", "HS_Race", "HS_Physical",
    "HS_Gender", "HS_Other", "HS_Weak", "HS_Moderate", "HS_Strong",
)
_ESCAPED_BYTES = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_TRUNCATED_ESCAPE = re.compile(r"\\x[0-9a-fA-F]?(?![0-9a-fA-F])")
_ESCAPED_QUOTE = re.compile(r"\\(['\"])")
_LITERAL_NEWLINE = re.compile(r"(?:\\n)+")
_RT_PREFIX = re.compile(r"\bRT\s+USER\s*:?\s*")
_MASKED_USER = re.compile(r"\bUSER\b")
_MASKED_URL = re.compile(r"\bURL\b")
_REPLACEMENT = re.compile(r"\ufffd+\??\ufffd*")
_SPACES = re.compile(r"[ \t]+")


def _unescape_bytes(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group(0).replace("\\x", ""))
    return raw.decode("utf-8", errors="ignore")


def _fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as latin-1; sequences whose bytes were lost (``â?¦``) are dropped."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return text
    except UnicodeDecodeError:
        return _REPLACEMENT.sub("", text.encode("latin-1").decode("utf-8", errors="replace"))


def repair_ibrohim_text(text: str) -> str:
    """Repair every measured defect of ``re_dataset.csv``'s tweets.

    latin-1 mojibake, ``\\xNN`` escape text (emoji), literal ``\\n``, the stray trailing quote of a
    bytes repr, ``RT USER:`` prefixes, HTML entities; masked ``USER``/``URL`` become an ordinary
    mention and link, so the normaliser treats them exactly like real posts.
    """
    text = _fix_mojibake(text)
    text = _ESCAPED_BYTES.sub(_unescape_bytes, text)
    text = _TRUNCATED_ESCAPE.sub("", _ESCAPED_QUOTE.sub(r"\1", text))
    text = _LITERAL_NEWLINE.sub("\n", text)
    text = text.rstrip()
    text = text.removesuffix("'")
    text = html.unescape(text)
    text = _RT_PREFIX.sub("", text)
    text = _MASKED_URL.sub("http://url.invalid", _MASKED_USER.sub("@user", text))
    text = text.replace("\ufffd", " ")  # replacement characters already in the source: the bytes are gone
    return _SPACES.sub(" ", text).strip()


def load_ibrohim(
    path: str | Path, *, source: str = "ibrohim2019", weight: float = 1.0, rejects: RejectsWriter | None = None
) -> pd.DataFrame:
    """Ibrohim & Budi 2019 ``re_dataset.csv``, repaired and mapped onto the taxonomy.

    ``divisive_label`` and ``incitement`` are not annotated there, so they are NaN (missing), not 0.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path} does not exist; the corpus is in ../shared/data/ibrohim2019/re_dataset.csv")
    # The corpus is latin-1 throughout (a measured defect, repaired below): read it as such, not by a sniff.
    frame, summary = read_all(path, text_column="Tweet", id_column=None, row_id_prefix="ibr-", rejects=rejects,
                              max_chars=100_000, encoding="latin-1")
    missing = [c for c in IBROHIM_COLUMNS[1:] if c not in frame.columns]
    if missing:
        raise CorpusError(f"{path}: not the Ibrohim 2019 format; missing {', '.join(missing)}")
    frame = _apply_labels(
        frame, {c: c for c in IBROHIM_COLUMNS[1:]}, path=path, rejects=rejects, summary=summary
    )
    frame["text"] = frame["text"].map(repair_ibrohim_text)
    empty = frame["text"].str.strip() == ""
    for _, row in frame[empty].iterrows():
        summary.rejected += 1
        summary.kept -= 1
        summary.reasons["empty text after repair"] += 1
        if rejects is not None:
            rejects.write(str(path), int(row["row"]), "empty text after repair", row.to_json(force_ascii=False))
    frame = frame[~empty].copy()
    frame["hate_speech"] = frame["HS"]
    frame["abusive"] = frame["Abusive"]
    hs = frame["HS"] == 1.0
    target = np.where(frame["HS_Individual"] == 1.0, "individual", np.where(frame["HS_Group"] == 1.0, "group", ""))
    strength = np.select(
        [frame["HS_Strong"] == 1.0, frame["HS_Moderate"] == 1.0, frame["HS_Weak"] == 1.0],
        ["strong", "moderate", "weak"], default="",
    )
    cats = {"religion": "HS_Religion", "race": "HS_Race", "physical": "HS_Physical", "gender": "HS_Gender",
            "other": "HS_Other"}
    category = [";".join(c for c, col in cats.items() if r[col] == 1.0) for _, r in frame[list(cats.values())].iterrows()]
    frame["hs_target"] = np.where(hs, target, "")
    frame["hs_category"] = np.where(hs, category, "")
    frame["hs_strength"] = np.where(hs, strength, "")
    frame["kind"] = ""
    out = finish_frame(frame, source, weight)
    out.attrs["summary"] = summary
    return out


def load_csv(
    path: str | Path,
    *,
    label_columns: Mapping[str, str],
    text_column: str = "text",
    id_column: str | None = None,
    source: str | None = None,
    weight: float = 1.0,
    rejects: RejectsWriter | None = None,
) -> pd.DataFrame:
    """Any CSV/TSV/JSONL/Parquet with a mapping ``{file column: label key}``; unmapped labels are missing."""
    path = Path(path)
    unknown = [k for k in label_columns.values() if k not in LABEL_KEYS]
    if unknown:
        raise CorpusError(f"label_columns maps to unknown label(s) {unknown}; valid: {', '.join(LABEL_KEYS)}")
    if not path.exists():
        raise CorpusError(f"corpus file {path} does not exist")
    frame, summary = read_all(path, text_column=text_column, id_column=id_column,
                              row_id_prefix=f"{source or path.stem}-", rejects=rejects, max_chars=100_000)
    missing = [c for c in label_columns if c not in frame.columns]
    if missing:
        raise CorpusError(f"{path}: label column(s) {', '.join(missing)} not found; columns: {', '.join(frame.columns)}")
    frame = _apply_labels(frame, label_columns, path=path, rejects=rejects, summary=summary)
    out = finish_frame(frame, source or path.stem, weight)
    out.attrs["summary"] = summary
    return out


def validate_detail(frame: pd.DataFrame) -> list[str]:
    """Problems with hate-speech detail and kind values (empty list when all is well)."""
    problems = []
    for col, allowed in (("hs_target", HS_TARGETS), ("hs_strength", HS_STRENGTHS), ("kind", POST_KINDS)):
        bad = frame[(frame[col] != "") & ~frame[col].isin(allowed)]
        problems += [f"{r.id}: {col}={r[col]!r} not in {allowed}" for _, r in bad.iterrows()]
    for _, r in frame[frame["hs_category"] != ""].iterrows():
        extra = set(r["hs_category"].split(";")) - set(HS_CATEGORIES)
        if extra:
            problems.append(f"{r.id}: hs_category has {sorted(extra)} not in {HS_CATEGORIES}")
    detail_without_hs = frame[(frame["hate_speech"] != 1.0) & (frame["hs_target"] != "")]
    problems += [f"{r.id}: hate-speech detail on a post that is not hate speech" for _, r in detail_without_hs.iterrows()]
    return problems
