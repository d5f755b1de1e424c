"""``pantau prepare``: load every configured corpus, deduplicate, split, write parquet + a data report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pantau.config import Settings, SourceSettings
from pantau.data.annotations import load_annotations
from pantau.data.sources import CorpusError, load_csv, load_ibrohim, load_reviewed, load_sample
from pantau.data.split import SPLITS, assign_splits, deduplicate
from pantau.io import RejectsWriter, write_json_atomic, write_parquet_atomic
from pantau.labels import LABEL_KEYS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareResult:
    """Where the splits and the report went, and the report itself."""

    paths: dict[str, Path]
    report_path: Path
    rejects_path: Path
    report: dict[str, Any]


def load_source(
    source: SourceSettings, path: Path, rejects: RejectsWriter | None = None, *, root: Path = Path(".")
) -> pd.DataFrame:
    """Load one configured corpus into the common labelled frame (relative paths resolved against ``root``)."""

    def settings_path(value: str) -> Path:
        return Path(value) if Path(value).is_absolute() else root / value

    if source.kind == "sample":
        return load_sample(path, source=source.name, weight=source.weight, rejects=rejects)
    if source.kind == "ibrohim2019":
        return load_ibrohim(path, source=source.name, weight=source.weight, rejects=rejects)
    if source.kind == "annotations":
        return load_annotations(path, corpus_root=settings_path(source.corpus_root), source=source.name,
                                weight=source.weight)
    if source.kind == "reviewed":
        return load_reviewed(path, source=source.name, weight=source.weight, rejects=rejects)
    if source.kind == "csv":
        if not source.label_columns:
            raise CorpusError(f"source {source.name}: kind csv needs label_columns (file column: label key)")
        return load_csv(path, label_columns=source.label_columns, text_column=source.text_column,
                        id_column=source.id_column, source=source.name, weight=source.weight, rejects=rejects)
    raise CorpusError(f"source {source.name}: unknown kind {source.kind!r}; use sample, ibrohim2019, annotations, reviewed or csv")


def label_table(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Positives, negatives and missing per label."""
    return {
        k: {
            "positive": int((frame[k] == 1.0).sum()),
            "negative": int((frame[k] == 0.0).sum()),
            "missing": int(frame[k].isna().sum()),
        }
        for k in LABEL_KEYS
    }


def prepare(settings: Settings) -> PrepareResult:
    """Run the prepare stage with ``settings`` and return where everything was written."""
    out_dir = settings.path(settings.data.processed_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rejects_path = out_dir / "rejects.csv"
    rejects_path.unlink(missing_ok=True)
    if not settings.data.sources:
        raise CorpusError("no data.sources configured in params.yaml")
    frames, sources_report = [], {}
    with RejectsWriter(rejects_path) as rejects:
        for source in settings.data.sources:
            path = settings.path(source.path)
            corpus_root = settings.path(source.corpus_root) if source.kind == "annotations" else None
            missing = path if not path.exists() else corpus_root if corpus_root and not corpus_root.exists() else None
            if missing is not None and not source.required:
                # Optional sources are the public corpora beside the repository (../shared/data): a clone
                # without them still trains, on what it has.
                log.warning("optional source %s not found at %s; skipped", source.name, missing)
                sources_report[source.name] = {"path": str(missing), "skipped": "file not found"}
                continue
            frame = load_source(source, path, rejects, root=Path(settings.root))
            summary = frame.attrs.pop("summary", None)
            sources_report[source.name] = {"kind": source.kind, "weight": source.weight,
                                           **(summary.as_dict() if summary else {"kept": len(frame)})}
            if "kinds" in frame.attrs:  # annotations: every annotation read, by kind of term occurrence
                sources_report[source.name]["kinds"] = frame.attrs.pop("kinds")
                sources_report[source.name]["adjudicated"] = frame.attrs.pop("adjudicated", 0)
            log.info("%s: %s", source.name, summary)
            frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    deduped, dedup_report = deduplicate(combined, conflict_rule=settings.data.conflict_rule)
    split = settings.data.split
    assigned = assign_splits(deduped, val=split.val, test=split.test, seed=split.seed)
    paths = {}
    for name in SPLITS:
        part = assigned[assigned["split"] == name].drop(columns=["split", "dedup_key"]).reset_index(drop=True)
        paths[name] = write_parquet_atomic(part, out_dir / f"{name}.parquet")
    read = sum(int(s.get("read", 0)) for s in sources_report.values())
    rejected = sum(int(s.get("rejected", 0)) for s in sources_report.values())
    removed = len(combined) - len(deduped)
    report: dict[str, Any] = {
        "sources": sources_report,
        "rows": {"read": read, "rejected": rejected, "loaded": len(combined),
                 "removed_as_duplicates": removed, "kept": len(deduped)},
        "dedup": {**dedup_report.as_dict(), "conflict_rule": settings.data.conflict_rule},
        "split": {"val": split.val, "test": split.test, "seed": split.seed,
                  "groups": int(assigned["group"].nunique())},
        "splits": {
            name: {
                "rows": int((assigned["split"] == name).sum()),
                "labels": label_table(assigned[assigned["split"] == name]),
                "by_source": {str(s): int(n) for s, n in
                              assigned[assigned["split"] == name]["source"].value_counts().sort_index().items()},
            }
            for name in SPLITS
        },
    }
    # Every read row is accounted for: kept, rejected, or removed as a duplicate.
    report["rows"]["accounted"] = bool(read == rejected + len(deduped) + removed)
    if not report["rows"]["accounted"]:
        log.error("row accounting mismatch: %s", report["rows"])
    report_path = write_json_atomic(report, out_dir / "report.json")
    return PrepareResult(paths, report_path, rejects_path, report)


def overlap_between_splits(paths: dict[str, Path]) -> int:
    """Number of dedup keys that occur in more than one split (must be 0)."""
    from pantau.data.dedup import dedup_key

    seen: dict[str, str] = {}
    overlap = 0
    for name, path in paths.items():
        for key in set(pd.read_parquet(path, columns=["text"])["text"].map(dedup_key)):
            if key in seen and seen[key] != name:
                overlap += 1
            seen[key] = name
    return overlap


