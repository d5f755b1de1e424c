"""The batch scoring job: stream posts through the Classifier into part files, resumably.

``score_files(inputs, model, out_dir, options)`` reads every input with :func:`pantau.io.read_posts`
(validated chunks of ``chunk_rows`` posts; bad rows go to ``<out>/_rejects.csv`` with a reason), scores
each chunk with one :class:`~pantau.model.classifier.Classifier` loaded once, and writes one part file
per chunk. Memory is bounded by the chunk size, not by the input size.

Output folder (readable as one table: ``pandas.read_parquet(out)``, Ray, DuckDB, Spark — they skip
files whose names start with ``_``):

* ``part-00000.parquet`` … — one row per scored post, columns: ``id``, ``text_hash``,
  ``prob_<label>`` and ``flag_<label>`` for each label in the model's order, ``risk``, ``spans`` (JSON
  list of divisive-term spans in the *original* text), ``windows`` (token windows read; > 1 for long
  posts), ``model_name``, ``model_version``, ``run_id``, ``preprocessing``, ``scored_at`` (UTC).
* ``_rejects.csv`` — rows that could not be scored: source file, row number, reason, raw content.
* ``_manifest.json`` — written when the run finishes: counts (read = scored + rejected), duration,
  throughput, per-input summaries, model identity, settings.
* ``_checkpoint.json`` — progress of an unfinished run (removed when the manifest is written).

Risk: ``max over labels`` of the probability rescaled so the label's tuned threshold maps to 0.5 (see
:func:`pantau.model.classifier.risk_from_probabilities`); ``risk ≥ 0.5`` ⇔ some label is flagged.

Nothing lost, nothing twice: each part is written to a temporary file and renamed into place, then the
checkpoint (rows consumed per input, next part number, size of the rejects file) is replaced
atomically. A run killed at any point (even SIGKILL) and started again with the same command deletes
parts newer than the checkpoint, truncates the rejects file to the checkpointed size, and continues
from the first unconsumed row, so every input row ends up exactly once in a part or in the rejects.
With ``queue_url`` each chunk's rows are enqueued *before* its part is committed; the queue is
idempotent per (post id, model version), so a replayed chunk never duplicates queue items.
Known limit: duplicate-id detection (done by the reader, per file) restarts at the resume point.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pantau.io import RejectsWriter, read_posts, text_hash, write_json_atomic, write_parquet_atomic

log = logging.getLogger(__name__)

MANIFEST_FILE = "_manifest.json"
CHECKPOINT_FILE = "_checkpoint.json"
REJECTS_FILE = "_rejects.csv"
PART_PATTERN = "part-{:05d}.parquet"
QUEUE_COLUMNS = ("source", "author", "url", "created_at")


class ScoreError(RuntimeError):
    """Scoring cannot start or continue; the message says what to do."""


class ResumeMismatch(ScoreError):
    """The output folder holds a run made with different inputs, model or settings."""


@dataclass(frozen=True)
class ScoreOptions:
    """Everything ``score_files`` needs besides inputs, model and output folder (from ``params.yaml``)."""

    text_column: str = "text"
    id_column: str | None = "id"
    chunk_rows: int = 10_000
    max_chars: int = 20_000
    encoding: str = "utf-8"
    precision: str = "fp32"
    int8_verify_margin: float = 0.5
    threads: int = 0
    batch_size: int = 32
    max_length: int | None = None
    stride: int = 64
    queue_url: str | None = None
    risk_threshold: float = 0.5
    double_review_risk: float = 0.85
    aging_per_hour: float = 0.01
    resume: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        if self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be ≥ 1, got {self.chunk_rows}")
        if not 0.0 <= self.risk_threshold <= 1.0:
            raise ValueError(f"risk_threshold must be within [0, 1], got {self.risk_threshold}")

    def reader_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`pantau.io.read_posts`, shared by the local and Ray engines."""
        return {
            "text_column": self.text_column,
            "id_column": self.id_column,
            "chunk_rows": self.chunk_rows,
            "max_chars": self.max_chars,
            "encoding": self.encoding,
        }


@dataclass
class ScoreResult:
    """What a finished run produced."""

    out_dir: Path
    manifest: dict[str, Any]

    @property
    def rejected(self) -> int:
        return int(self.manifest["counts"]["rejected"])


# -- per-chunk scoring (shared with the Ray engine) ------------------------------------------------


def span_finder() -> Callable[[str], Any]:
    """``pantau.text.find_spans``, imported lazily with a clear error when the text module is absent."""
    try:
        from pantau.text import find_spans
    except ImportError as exc:
        raise ScoreError(
            f"divisive-term spans need pantau.text.find_spans, which is not available ({exc})"
        ) from exc
    return find_spans


def spans_json(spans: Iterable[Any]) -> str:
    """Serialise spans (dataclasses, dicts or tuples) as a JSON list."""
    out = []
    for span in spans:
        if dataclasses.is_dataclass(span) and not isinstance(span, type):
            out.append(dataclasses.asdict(span))
        elif isinstance(span, dict):
            out.append(span)
        elif hasattr(span, "_asdict"):
            out.append(span._asdict())
        else:
            out.append(list(span))
    return json.dumps(out, ensure_ascii=False)


def score_frame(
    classifier: Any,
    frame: pd.DataFrame,
    *,
    find_spans: Callable[[str], Any] | None = None,
    scored_at: str | None = None,
) -> pd.DataFrame:
    """Score one validated chunk (columns ``id``, ``text``) into the output columns described above."""
    texts = frame["text"].astype(str).tolist()
    probs, flags, risk, windows = classifier.score_arrays(texts)
    finder = find_spans or span_finder()
    ident = classifier.describe()
    out: dict[str, Any] = {
        "id": frame["id"].astype(str).to_numpy(),
        "text_hash": [text_hash(t) for t in texts],
    }
    for j, label in enumerate(classifier.labels):
        out[f"prob_{label}"] = probs[:, j].astype("float32")
    for j, label in enumerate(classifier.labels):
        out[f"flag_{label}"] = flags[:, j]
    out["risk"] = risk.astype("float32")
    out["spans"] = [spans_json(finder(t)) for t in texts]
    out["windows"] = windows.astype("int32")
    n = len(texts)
    out["model_name"] = [ident["model_name"]] * n
    out["model_version"] = [ident["model_version"]] * n
    out["run_id"] = [ident["run_id"]] * n
    out["preprocessing"] = [ident["preprocessing"]] * n
    out["scored_at"] = [scored_at or _now()] * n
    return pd.DataFrame(out)


def queue_rows(
    classifier: Any, frame: pd.DataFrame, scored: pd.DataFrame, source: str
) -> list[dict[str, Any]]:
    """Rows for ``pantau.queue.enqueue_predictions``: the post, its scores and the model identity."""
    thresholds = dict(zip(classifier.labels, map(float, classifier.thresholds), strict=True))
    rows = []
    for (_, post), (_, pred) in zip(frame.iterrows(), scored.iterrows(), strict=True):
        extra = {c: _none_if_missing(post.get(c)) for c in QUEUE_COLUMNS}
        rows.append(
            {
                "id": str(post["id"]),
                "text": str(post["text"]),
                **extra,
                "source": extra["source"] or source,
                "probabilities": {label: float(pred[f"prob_{label}"]) for label in classifier.labels},
                "flags": {label: bool(pred[f"flag_{label}"]) for label in classifier.labels},
                "thresholds": thresholds,
                "risk": float(pred["risk"]),
                "spans": json.loads(pred["spans"]),
                "model_name": pred["model_name"],
                "model_version": pred["model_version"],
                "scored_at": pred["scored_at"],
            }
        )
    return rows


def _none_if_missing(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- run bookkeeping --------------------------------------------------------------------------------


def model_identity(meta: Any, options: ScoreOptions) -> dict[str, Any]:
    """The model identity a run records, from the folder's meta (no weights loaded)."""
    return {
        "model_name": meta.name,
        "model_version": meta.version,
        "run_id": meta.run_id,
        "preprocessing": meta.preprocessing,
        "kind": meta.kind,
        "precision": options.precision,
        "max_length": int(options.max_length or meta.max_length),
        "stride": options.stride,
        "created_at": meta.created_at,
    }


def fingerprint(
    inputs: Sequence[Path], model_folder: Path, meta: Any, options: ScoreOptions
) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    files = []
    for path in inputs:
        stat = path.stat()
        files.append({"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return {
        "inputs": files,
        "model": {"folder": str(model_folder.resolve()), **model_identity(meta, options)},
        "text_column": options.text_column,
        "id_column": options.id_column,
        "chunk_rows": options.chunk_rows,
        "max_chars": options.max_chars,
        "encoding": options.encoding,
    }


def _fresh_state(fp: dict[str, Any], inputs: Sequence[Path]) -> dict[str, Any]:
    return {
        "fingerprint": fp,
        "started_at": _now(),
        "attempts": 0,
        "duration_s": 0.0,
        "next_part": 0,
        "scored": 0,
        "enqueued": 0,
        "rejects_bytes": 0,
        "inputs": [
            {
                "path": str(p),
                "rows_done": 0,
                "done": False,
                "read": 0,
                "kept": 0,
                "rejected": 0,
                "reasons": {},
            }
            for p in inputs
        ],
    }


def _own_files(out: Path) -> list[Path]:
    names = (MANIFEST_FILE, CHECKPOINT_FILE, REJECTS_FILE)
    return [
        p
        for p in out.iterdir()
        if p.name in names or _part_index(p) is not None or p.name.startswith(".part-")
    ]


def _part_index(path: Path) -> int | None:
    name = path.name
    if name.startswith("part-") and name.endswith(".parquet"):
        digits = name[len("part-") : -len(".parquet")]
        if digits.isdigit():
            return int(digits)
    return None


def _prepare_out(
    out: Path, fp: dict[str, Any], inputs: Sequence[Path], resume: bool
) -> dict[str, Any] | None:
    """Return the state to continue from, or ``None`` when the folder already holds this finished run."""
    out.mkdir(parents=True, exist_ok=True)
    checkpoint, manifest = out / CHECKPOINT_FILE, out / MANIFEST_FILE
    if not resume:
        for path in _own_files(out):
            path.unlink()
        return _fresh_state(fp, inputs)
    if checkpoint.exists():
        state = json.loads(checkpoint.read_text(encoding="utf-8"))
        if state.get("fingerprint") != fp:
            raise ResumeMismatch(
                f"{out} holds an unfinished run with different inputs, model or settings; "
                "use another --out folder or --no-resume to start over"
            )
        # Parts past the checkpoint and temporary files belong to the chunk that was interrupted.
        for path in out.iterdir():
            index = _part_index(path)
            if path.name.startswith(".part-") or (index is not None and index >= state["next_part"]):
                path.unlink()
        rejects = out / REJECTS_FILE
        if rejects.exists():
            with open(rejects, "r+b") as fh:
                fh.truncate(state["rejects_bytes"])
        log.info("resuming %s at part %d (%d posts already scored)", out, state["next_part"], state["scored"])
        return state
    if manifest.exists():
        done = json.loads(manifest.read_text(encoding="utf-8"))
        if done.get("fingerprint") == fp:
            return None
        raise ResumeMismatch(
            f"{out} holds a finished run with different inputs, model or settings; "
            "use another --out folder or --no-resume to overwrite it"
        )
    if any(_part_index(p) is not None for p in out.iterdir()):
        raise ResumeMismatch(
            f"{out} holds part files without a checkpoint; use another --out folder or --no-resume"
        )
    return _fresh_state(fp, inputs)


# -- the job ---------------------------------------------------------------------------------------


def score_files(
    inputs: Sequence[str | os.PathLike[str]],
    model: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: ScoreOptions | None = None,
    *,
    classifier: Any | None = None,
) -> ScoreResult:
    """Score ``inputs`` with ``model`` into ``out_dir`` (see the module docstring); resumable."""
    from pantau.model.classifier import Classifier, resolve_source

    options = options or ScoreOptions()
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ScoreError("no input files given")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ScoreError(f"input file(s) not found: {', '.join(missing)}")
    folder = resolve_source(model)
    clf = classifier or Classifier.load(
        folder,
        precision=options.precision,
        int8_verify_margin=options.int8_verify_margin,
        threads=options.threads,
        batch_size=options.batch_size,
        max_length=options.max_length,
        stride=options.stride,
    )
    find_spans = span_finder()
    enqueue = _enqueuer(options.queue_url) if options.queue_url else None
    out = Path(out_dir)
    fp = fingerprint(paths, folder, clf.meta, options)
    state = _prepare_out(out, fp, paths, options.resume)
    if state is None:
        log.info("%s already holds this finished run; nothing to do", out)
        return ScoreResult(out, json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8")))
    state["attempts"] += 1
    attempt_start = time.monotonic()
    base_duration = state["duration_s"]
    rejects = RejectsWriter(out / REJECTS_FILE)
    progress = _Progress(paths, state, enabled=options.progress)

    def commit() -> None:
        # The rejects are flushed first so the checkpointed size covers every consumed row's reject.
        rejects.flush()
        state["rejects_bytes"] = _size(out / REJECTS_FILE)
        state["duration_s"] = base_duration + (time.monotonic() - attempt_start)
        write_json_atomic(state, out / CHECKPOINT_FILE)
        progress.update(sum(e["read"] for e in state["inputs"]))

    try:
        for index, path in enumerate(paths):
            entry = state["inputs"][index]
            if entry["done"]:
                continue
            reader = read_posts(path, **options.reader_options(), rejects=rejects, skip_rows=entry["rows_done"])
            summary = reader.summary
            start = {k: entry[k] for k in ("rows_done", "read", "kept", "rejected")}
            start["reasons"] = dict(entry["reasons"])
            for chunk in reader:
                if len(chunk):
                    scored = score_frame(clf, chunk, find_spans=find_spans)
                    if enqueue is not None:
                        state["enqueued"] += enqueue(queue_rows(clf, chunk, scored, path.name), clf, options)
                    write_parquet_atomic(scored, out / PART_PATTERN.format(state["next_part"]))
                    state["next_part"] += 1
                    state["scored"] += len(scored)
                _update_entry(entry, start, summary, done=False)
                commit()
            # Rows rejected after the last yielded chunk are only counted once the reader is exhausted.
            _update_entry(entry, start, summary, done=True)
            commit()
    finally:
        rejects.close()
        progress.stop()
    duration = base_duration + (time.monotonic() - attempt_start)
    manifest = _manifest(state, fp, duration, clf, options)
    write_json_atomic(manifest, out / MANIFEST_FILE)
    (out / CHECKPOINT_FILE).unlink(missing_ok=True)
    return ScoreResult(out, manifest)


def _update_entry(entry: dict[str, Any], start: dict[str, Any], summary: Any, *, done: bool) -> None:
    """Per-input progress = what earlier attempts consumed + what this attempt's reader has seen."""
    # rows_done counts rows consumed (kept or rejected); the reader skips that many on resume.
    entry["rows_done"] = start["rows_done"] + summary.read
    entry["read"] = start["read"] + summary.read
    entry["kept"] = start["kept"] + summary.kept
    entry["rejected"] = start["rejected"] + summary.rejected
    entry["reasons"] = _merge(start["reasons"], summary.reasons)
    entry["encoding"] = summary.encoding
    entry["done"] = done


def _merge(base: dict[str, int], more: Any) -> dict[str, int]:
    merged = dict(base)
    for key, value in dict(more).items():
        merged[key] = merged.get(key, 0) + int(value)
    return merged


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _manifest(
    state: dict[str, Any], fp: dict[str, Any], duration: float, clf: Any, options: ScoreOptions
) -> dict[str, Any]:
    read = sum(e["read"] for e in state["inputs"])
    rejected = sum(e["rejected"] for e in state["inputs"])
    scored = state["scored"]
    return {
        "status": "complete",
        "counts": {"read": read, "scored": scored, "rejected": rejected, "enqueued": state["enqueued"]},
        "started_at": state["started_at"],
        "finished_at": _now(),
        "attempts": state["attempts"],
        "duration_s": round(duration, 3),
        "posts_per_s": round(scored / duration, 2) if duration > 0 else None,
        "parts": state["next_part"],
        # int8 runs: posts this attempt re-scored in fp32 because int8 put them near a threshold.
        "int8_verified_in_fp32": int(getattr(clf, "verified_posts", 0)),
        "inputs": state["inputs"],
        "model": {
            **clf.describe(),
            "labels": list(clf.labels),
            "thresholds": dict(zip(clf.labels, map(float, clf.thresholds), strict=True)),
        },
        "settings": {
            k: v for k, v in dataclasses.asdict(options).items() if k not in ("queue_url", "progress")
        },
        "queue": {"enabled": options.queue_url is not None, "risk_threshold": options.risk_threshold},
        "fingerprint": fp,
    }


def _enqueuer(database_url: str) -> Callable[[list[dict[str, Any]], Any, ScoreOptions], int]:
    try:
        from pantau.queue import enqueue_predictions
    except ImportError as exc:
        raise ScoreError(
            f"--queue needs pantau.queue.enqueue_predictions, which is not available ({exc})"
        ) from exc

    def enqueue(rows: list[dict[str, Any]], clf: Any, options: ScoreOptions) -> int:
        result = enqueue_predictions(
            database_url,
            rows,
            model_version=clf.meta.version,
            risk_threshold=options.risk_threshold,
            double_review_risk=options.double_review_risk,
            aging_per_hour=options.aging_per_hour,
        )
        refused = getattr(result, "rejected", ())
        if refused:
            log.warning("the queue refused %d row(s), e.g. %s", len(refused), refused[0])
        return int(result) if isinstance(result, int) else int(getattr(result, "enqueued", 0) or 0)

    return enqueue


# -- progress --------------------------------------------------------------------------------------


def estimate_rows(path: Path) -> int | None:
    """A quick row count for the progress bar's ETA (lines for text formats, metadata for Parquet)."""
    try:
        name = path.name.lower()
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if name.endswith(".gz"):
            return None
        lines = 0
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                lines += block.count(b"\n")
        header = 0 if name.endswith((".jsonl", ".ndjson", ".json")) else 1
        return max(lines - header, 0)
    except OSError:
        return None


class _Progress:
    """A rich progress bar (posts/s, ETA) when enabled; silent otherwise."""

    def __init__(self, paths: Sequence[Path], state: dict[str, Any], *, enabled: bool):
        self._bar: Any = None
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        estimates = [estimate_rows(p) for p in paths]
        total = None if any(e is None for e in estimates) else sum(e or 0 for e in estimates)
        done = sum(e["read"] for e in state["inputs"])
        self._bar = Progress(
            TextColumn("[bold]scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} posts/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._bar.add_task("score", total=total, completed=done, rate="-")
        self._start = time.monotonic()
        self._start_done = done
        self._bar.start()

    def update(self, done: int) -> None:
        if self._bar is None:
            return
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = (done - self._start_done) / elapsed
        self._bar.update(self._task, completed=done, rate=f"{rate:,.0f}")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
