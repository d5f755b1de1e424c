"""``pantau score --engine ray``: the same scoring on a Ray cluster with Ray Data (optional extra ``ray``).

Pipeline (one Ray Data dataset, streamed — blocks flow through while later files are still read)::

    from_items(input files) ─► map_batches(read_file)           tasks: pantau.io.read_posts, one file per task,
                                                                  validated chunks out, rejects per file
                            ─► map_batches(ScoreActor, pool)     actors: one Classifier loaded per actor,
                                                                  pantau.scoring.local.score_frame per batch (+ enqueue)
                            ─► write_parquet(out)

Reading and scoring call the very functions the local engine uses (``read_posts``, ``score_frame``,
``queue_rows``), so both engines produce the same columns and the same numbers. A single large file is
read by one task, but the expensive part — scoring — is spread over the actor pool.

Cluster use: start a cluster (``ray start --head`` on one machine, ``ray start --address=HEAD:6379`` on
the others), put inputs, the model folder and the output folder on storage every node sees (NFS or a
mounted bucket), then run ``RAY_ADDRESS=HEAD:6379 pantau score ... --engine ray``; Ray's own
``RAY_ADDRESS`` convention picks the cluster, without it a local Ray instance is started.

Differences from the local engine: a Ray run is not resumable (Ray Data writes its own file names, with
no commit point per chunk) — a failed run is started again with ``--no-resume``; the output folder
also holds ``_rejects-<n>.csv``/``_read-<n>.json`` per input, merged into ``_rejects.csv`` and the
manifest at the end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pantau.io import RejectsWriter, read_posts, write_json_atomic
from pantau.scoring.local import (
    MANIFEST_FILE,
    QUEUE_COLUMNS,
    REJECTS_FILE,
    ResumeMismatch,
    ScoreError,
    ScoreOptions,
    ScoreResult,
    fingerprint,
    model_identity,
    queue_rows,
    score_frame,
    span_finder,
)

READ_COLUMNS = ("id", "text", "row", "_input", *QUEUE_COLUMNS)


def _read_file(batch: pd.DataFrame, *, options: ScoreOptions, out: str) -> Iterator[pd.DataFrame]:
    """Ray task: stream one input file through the pantau reader, yielding validated chunks."""
    for index, path in zip(batch["index"], batch["path"], strict=True):
        with RejectsWriter(Path(out) / f"_rejects-{int(index):05d}.csv") as rejects:
            reader = read_posts(path, **options.reader_options(), rejects=rejects)
            for chunk in reader:
                if len(chunk):
                    # Fixed columns: files with different extra columns still form one dataset.
                    frame = pd.DataFrame({c: chunk.get(c) for c in READ_COLUMNS if c != "_input"})
                    frame["_input"] = Path(path).name
                    frame["row"] = frame["row"].astype("int64")
                    for column in QUEUE_COLUMNS:
                        frame[column] = frame[column].astype("string")
                    yield frame[list(READ_COLUMNS)]
        write_json_atomic(reader.summary.as_dict(), Path(out) / f"_read-{int(index):05d}.json")


class ScoreActor:
    """Ray actor: loads the Classifier once, scores every batch it is given."""

    def __init__(self, model: str, options: ScoreOptions):
        from pantau.model.classifier import Classifier

        self.classifier = Classifier.load(
            model,
            precision=options.precision,
            int8_verify_margin=options.int8_verify_margin,
            threads=options.threads,
            batch_size=options.batch_size,
            max_length=options.max_length,
            stride=options.stride,
        )
        self.find_spans = span_finder()
        self.options = options
        self.enqueue = None
        if options.queue_url:
            from pantau.scoring.local import _enqueuer

            self.enqueue = _enqueuer(options.queue_url)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        scored = score_frame(self.classifier, batch, find_spans=self.find_spans)
        if self.enqueue is not None:
            for name, group in batch.groupby("_input", sort=False):
                self.enqueue(
                    queue_rows(self.classifier, group, scored.loc[group.index], str(name)),
                    self.classifier,
                    self.options,
                )
        return scored


def _own_files(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.suffix == ".parquet" or p.name.startswith("_")]


def score_files_ray(
    inputs: Sequence[str | Path],
    model: str | Path,
    out_dir: str | Path,
    options: ScoreOptions | None = None,
    *,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    ray_init: dict[str, Any] | None = None,
) -> ScoreResult:
    """Score ``inputs`` on Ray (see the module docstring); same outputs as :func:`pantau.scoring.local.score_files`."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ScoreError("--engine ray needs the optional extra: pip install 'pantau[ray]'") from exc
    from pantau.model.classifier import resolve_source
    from pantau.model.meta import load_meta

    options = options or ScoreOptions()
    paths = [Path(p).resolve() for p in inputs]
    if not paths:
        raise ScoreError("no input files given")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ScoreError(f"input file(s) not found: {', '.join(missing)}")
    folder = resolve_source(model).resolve()
    meta = load_meta(folder)
    fp = fingerprint(paths, folder, meta, options)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if (out / MANIFEST_FILE).exists() and options.resume:
        done = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        if done.get("fingerprint") == fp:
            return ScoreResult(out, done)
    own = _own_files(out)
    if own and options.resume:
        raise ResumeMismatch(
            f"{out} already holds output; Ray runs cannot be resumed — use --no-resume to start over "
            "or another --out folder"
        )
    for path in own:
        path.unlink()

    if not ray.is_initialized():
        ray.init(**({"include_dashboard": False, "log_to_driver": False} | (ray_init or {})))
    if actors is None:
        actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    start = time.monotonic()
    files = ray.data.from_items(
        [{"index": i, "path": str(p)} for i, p in enumerate(paths)], override_num_blocks=len(paths)
    )
    chunks = files.map_batches(
        _read_file, batch_size=1, batch_format="pandas", fn_kwargs={"options": options, "out": str(out)}
    )
    scored = chunks.map_batches(
        ScoreActor,
        fn_constructor_kwargs={"model": str(folder), "options": options},
        compute=ray.data.ActorPoolStrategy(size=actors),
        batch_size=max(options.batch_size, min(options.chunk_rows, 4096)),
        batch_format="pandas",
        num_cpus=cpus_per_actor,
    )
    scored.write_parquet(str(out))
    duration = time.monotonic() - start
    return ScoreResult(out, _finish(out, paths, fp, meta, options, duration, actors))


def _finish(
    out: Path,
    paths: Sequence[Path],
    fp: dict[str, Any],
    meta: Any,
    options: ScoreOptions,
    duration: float,
    actors: int,
) -> dict[str, Any]:
    """Merge per-file rejects and summaries, count the written rows, write the manifest."""
    import pyarrow.parquet as pq

    summaries = []
    with open(out / REJECTS_FILE, "w", encoding="utf-8", newline="") as merged:
        header_written = False
        for i in range(len(paths)):
            part = out / f"_rejects-{i:05d}.csv"
            if part.exists():
                lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
                if lines:
                    merged.writelines(lines if not header_written else lines[1:])
                    header_written = True
                part.unlink()
            summary_path = out / f"_read-{i:05d}.json"
            summaries.append(json.loads(summary_path.read_text(encoding="utf-8")))
            summary_path.unlink()
    if not header_written:
        (out / REJECTS_FILE).unlink()
    scored = sum(pq.ParquetFile(p).metadata.num_rows for p in out.glob("*.parquet"))
    read = sum(s["read"] for s in summaries)
    rejected = sum(s["rejected"] for s in summaries)
    manifest = {
        "status": "complete",
        "engine": "ray",
        "counts": {"read": read, "scored": scored, "rejected": rejected, "enqueued": None},
        "finished_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "duration_s": round(duration, 3),
        "posts_per_s": round(scored / duration, 2) if duration > 0 else None,
        "actors": actors,
        "parts": len(list(out.glob("*.parquet"))),
        "inputs": summaries,
        "model": {
            **model_identity(meta, options),
            "labels": list(meta.labels),
            "thresholds": meta.thresholds,
        },
        "queue": {"enabled": options.queue_url is not None, "risk_threshold": options.risk_threshold},
        "fingerprint": fp,
    }
    write_json_atomic(manifest, out / MANIFEST_FILE)
    return manifest
