"""``pantau score --engine ray``: the same scoring on a Ray cluster with Ray Data (optional extra ``ray``).

Pipeline (one Ray Data dataset, streamed — blocks flow through while later files are still read)::

    from_items(input files) ─► map_batches(read_file)           tasks: pantau.io.read_posts, one file per task,
                                                                  validated chunks out, rejects per file
                            ─► map_batches(ScoreActor, pool)     actors: one Classifier loaded per actor,
                                                                  pantau.scoring.frame.score_frame per batch
                                                                  (+ the run's QueueSink)
                            ─► write_parquet(out)

Reading and scoring call the very functions the local engine uses (``read_posts``, ``score_frame``,
``queue_rows``, ``QueueSink``), and the manifest comes from the same builder, so both engines produce
the same columns, the same numbers and the same manifest keys. The files are read in order by one task
with one :class:`~pantau.io.IdIndex`, so ids are unique across files as in a local run (the first copy in
input order is kept); the expensive part — scoring — is spread over the actor pool.

Cluster use: start a cluster (``ray start --head`` on one machine, ``ray start --address=HEAD:6379`` on
the others), put inputs, the model folder and the output folder on storage every node sees (NFS or a
mounted bucket), then run ``RAY_ADDRESS=HEAD:6379 pantau score ... --engine ray``; Ray's own
``RAY_ADDRESS`` convention picks the cluster, without it a local Ray instance is started.

Campaigns (``campaigns.enabled``): the MinHash/LSH index is one stateful, order-dependent object, so it
lives in the driver. Ray Data keeps the input order (``preserve_order``), each scored row carries its
reader chunk's number, and the driver gathers the rows back into those chunks and hands each, in input
order, to the :class:`~pantau.scoring.campaigns.RunPosts` the local engine uses — the same assignments, the
same ``campaign_id`` column, ``_campaigns.npz``/``_campaigns.json`` and queue links as a local run of the
same inputs. The driver then writes the parts (one per chunk); without campaigns Ray Data writes them.

Differences from the local engine: a Ray run is not resumable (Ray Data writes its own file names, with
no commit point per chunk) — a failed run is started again with ``--no-resume``; while it runs the
output folder also holds ``_rejects-<n>.csv``/``_read-<n>.json`` per input and ``_actor-<id>.json`` per
actor (rows enqueued, int8 posts verified in fp32), merged into ``_rejects.csv`` and the manifest at
the end.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pantau.io import IdIndex, RejectsWriter, read_posts, write_json_atomic, write_parquet_atomic
from pantau.scoring.campaigns import RunPosts, post_times, posts_summary_from_parts
from pantau.scoring.checkpoint import InputProgress, RunState, fingerprint, read_finished
from pantau.scoring.frame import QUEUE_COLUMNS, queue_rows, score_frame, span_finder
from pantau.scoring.manifest import build_manifest, write_manifest
from pantau.scoring.options import (
    CHECKPOINT_FILE,
    MANIFEST_FILE,
    REJECTS_FILE,
    ResumeMismatch,
    ScoreError,
    ScoreOptions,
    ScoreResult,
    load_classifier,
)
from pantau.scoring.sink import QueueSink
from pantau.scoring.start import run_sink, started

if TYPE_CHECKING:
    from pantau.model.classifier import Classifier

READ_COLUMNS = ("id", "text", "row", "_input", *QUEUE_COLUMNS)
# What a scored row carries back to the driver for campaigns (dropped before its part is written).
DRIVER_COLUMNS = ("_chunk", "_text", "_posted_at")


def _read_file(batch: pd.DataFrame, *, options: ScoreOptions, out: str) -> Iterator[pd.DataFrame]:
    """Ray task: stream the input files, in order, through the pantau reader, yielding validated chunks.

    One task gets every file (see ``_execute``) so that one :class:`IdIndex` sees them all: an id seen in
    an earlier file is a ``duplicate id`` reject, the same first-in-input-order rule as the local engine.
    """
    seen = IdIndex()
    for index, path in zip(batch["index"], batch["path"], strict=True):
        with RejectsWriter(Path(out) / f"_rejects-{int(index):05d}.csv") as rejects:
            reader = read_posts(path, **options.reader_options(), rejects=rejects, seen_ids=seen)
            for number, chunk in enumerate(reader):
                if len(chunk):
                    # Fixed columns: files with different extra columns still form one dataset.
                    frame = pd.DataFrame({c: chunk.get(c) for c in READ_COLUMNS if c != "_input"})
                    frame["_input"] = Path(path).name
                    frame["row"] = frame["row"].astype("int64")
                    if options.campaigns is not None:
                        # Read before the time becomes text below, so the index sees what the local one sees.
                        raw = chunk["created_at"] if "created_at" in chunk.columns else [None] * len(chunk)
                        frame["_posted_at"] = np.array(
                            [np.nan if t is None else t for t in post_times(raw)], dtype="float64"
                        )
                    for column in QUEUE_COLUMNS:
                        frame[column] = frame[column].astype("string")
                    frame["_chunk"] = np.int64((int(index) << 32) | number)  # the driver regroups by it
                    yield frame[[*READ_COLUMNS, *(c for c in DRIVER_COLUMNS if c in frame.columns)]]
        write_json_atomic(reader.summary.as_dict(), Path(out) / f"_read-{int(index):05d}.json")


class ScoreActor:
    """Ray actor: loads the Classifier once, scores every batch it is given, enqueues through the sink."""

    def __init__(self, folder: str, options: ScoreOptions, sink: QueueSink | None, out: str):
        # A loaded model holds native threads and (int8) ONNX sessions that do not cross processes, so
        # each actor loads its own copy from the folder the driver already resolved.
        self.classifier = load_classifier(folder, options)
        self.find_spans = span_finder()
        self.sink = sink
        self.campaigns = options.campaigns is not None
        self.enqueued = 0
        # Actors are separate processes: each reports its counts in its own file, summed by the driver.
        self.stats_path = Path(out) / f"_actor-{uuid.uuid4().hex}.json"

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        scored = score_frame(self.classifier, batch, find_spans=self.find_spans)
        if self.sink is not None:
            version = self.classifier.meta.version
            for name, group in batch.groupby("_input", sort=False):
                rows = queue_rows(self.classifier, group, scored.loc[group.index], str(name))
                self.enqueued += self.sink.put(rows, version)
        stats = {"enqueued": self.enqueued, "int8_verified_in_fp32": int(self.classifier.verified_posts),
                 "cascade_skipped": int(self.classifier.skipped_posts)}
        write_json_atomic(stats, self.stats_path)
        if self.campaigns:
            scored["_chunk"] = batch["_chunk"].to_numpy()
            scored["_text"] = batch["text"].astype(str).to_numpy()
            scored["_posted_at"] = batch["_posted_at"].to_numpy()
        return scored


def quiet_ray_logging() -> None:
    """Keep Ray Data's INFO lines off the terminal (``--quiet``); its log file still gets everything.

    Ray Data rebuilds its console handler from a logging config (``RAY_DATA_LOGGING_CONFIG``) when it
    configures logging, so the config is replaced with Ray's default at ERROR on the console, and
    applied now. A config the operator set is left alone. Call before the run starts Ray.
    """
    import copy
    import tempfile

    import yaml

    if "RAY_DATA_LOGGING_CONFIG" in os.environ:
        return
    try:
        from ray.data._internal.logging import DEFAULT_CONFIG, configure_logging
    except ImportError:  # another Ray layout: its messages show, nothing breaks
        return
    config = copy.deepcopy(DEFAULT_CONFIG)
    for name, handler in config.get("handlers", {}).items():
        if not name.startswith("file"):
            handler["level"] = "ERROR"
    folder = Path(tempfile.mkdtemp(prefix="pantau-ray-"))
    (folder / "logging.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    os.environ["RAY_DATA_LOGGING_CONFIG"] = str(folder / "logging.yaml")
    configure_logging()


RAY_PART_PREFIX = "part-ray-"
_OWN_PREFIXES = ("_rejects-", "_read-", "_actor-", "_campaigns.", "._")
_OWN_NAMES = (MANIFEST_FILE, CHECKPOINT_FILE, REJECTS_FILE)


class _PartNames:
    """Ray Data file names this engine recognises as its own: ``part-ray-<write>-<task>.parquet``."""

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"{RAY_PART_PREFIX}{write_uuid}-{task_index:06}.parquet"

    def get_filename_for_block(self, block: Any, *args: Any, **kwargs: Any) -> str:
        # Ray ≥ 2.x passes (block, write_uuid, task_index, block_index) positionally or by keyword.
        names = ("write_uuid", "task_index", "block_index")
        values = dict(zip(names, args, strict=False)) | {k: v for k, v in kwargs.items() if k in names}
        return (f"{RAY_PART_PREFIX}{values.get('write_uuid', 'w')}-{int(values.get('task_index', 0)):06}"
                f"-{int(values.get('block_index', 0)):06}.parquet")

    def get_filename_for_row(self, row: Any, *args: Any, **kwargs: Any) -> str:
        return self.get_filename_for_block(row, *args, **kwargs)


def _own_files(out: Path) -> list[Path]:
    """Only what a run of this engine (or the local one) writes: other files in ``out`` are left alone."""
    return [
        p for p in out.iterdir()
        if p.name in _OWN_NAMES or p.name.startswith(_OWN_PREFIXES)
        or (p.name.startswith("part-") and p.name.endswith(".parquet"))
    ]


def score_files_ray(
    inputs: Sequence[str | os.PathLike[str]],
    model: str | os.PathLike[str] | Classifier,
    out_dir: str | os.PathLike[str],
    options: ScoreOptions | None = None,
    *,
    sink: QueueSink | None = None,
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

    # Resolved: tasks and actors may run on other machines, with another working directory.
    with started(inputs, out_dir, options, resolve=True) as (paths, opts):
        return _start(ray, paths, model, Path(out_dir), opts, sink, actors, cpus_per_actor, ray_init)


def _start(
    ray: Any,
    paths: list[Path],
    model: str | os.PathLike[str] | Classifier,
    out_dir: Path,
    options: ScoreOptions,
    sink: QueueSink | None,
    actors: int | None,
    cpus_per_actor: float,
    ray_init: dict[str, Any] | None,
) -> ScoreResult:
    clf = load_classifier(model, options)
    folder = Path(clf.folder).resolve()
    fp = fingerprint(paths, folder, clf.meta, options)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    done = read_finished(out) if options.resume else None
    if done is not None and done.get("fingerprint") == fp:
        return ScoreResult(out, done)
    own = _own_files(out)
    if own and options.resume:
        raise ResumeMismatch(
            f"{out} already holds output; Ray runs cannot be resumed — use --no-resume to start over "
            "or another --out folder"
        )
    for path in own:
        path.unlink()
    with run_sink(sink, options) as run_queue:
        if run_queue is not None:
            run_queue.open()  # migrations run here, once, not in every actor
        return _run(ray, paths, folder, clf, fp, out, options, run_queue, actors, cpus_per_actor, ray_init)


def _run(
    ray: Any,
    paths: list[Path],
    folder: Path,
    clf: Classifier,
    fp: dict[str, Any],
    out: Path,
    options: ScoreOptions,
    sink: QueueSink | None,
    actors: int | None,
    cpus_per_actor: float,
    ray_init: dict[str, Any] | None,
) -> ScoreResult:
    if not ray.is_initialized():
        ray.init(**({"include_dashboard": False, "log_to_driver": False} | (ray_init or {})))
    # Ray Data's progress bars follow ours: none with --quiet or when stderr is not a terminal.
    ray.data.DataContext.get_current().enable_progress_bars = options.progress
    if actors is None:
        actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    state = RunState.fresh(fp, paths)
    state.attempts = 1
    start = time.monotonic()
    posts = _execute(ray, paths, folder, out, options, sink, actors, cpus_per_actor)
    state.duration_s = time.monotonic() - start
    int8_verified, cascade_skipped = _finish(out, state)
    manifest = build_manifest(
        state,
        clf,
        options,
        engine="ray",
        workers=actors,
        queue_enabled=sink is not None,
        int8_verified=int8_verified,
        cascade_skipped=cascade_skipped,
    )
    manifest["posts"] = (
        posts.summary() if posts is not None else posts_summary_from_parts(out, f"{RAY_PART_PREFIX}*.parquet")
    )
    write_manifest(manifest, out)
    return ScoreResult(out, manifest)


def _execute(
    ray: Any,
    paths: list[Path],
    folder: Path,
    out: Path,
    options: ScoreOptions,
    sink: QueueSink | None,
    actors: int,
    cpus_per_actor: float,
) -> RunPosts | None:
    """Build and run the dataset (read, score, write); returns the driver's campaigns when they are on."""
    execution = ray.data.DataContext.get_current().execution_options
    ordered = execution.preserve_order
    if options.campaigns is not None:
        # Campaigns are assigned in input order, so the driver must get the rows back in that order (set
        # before the dataset is built: it takes the context's options when it is created).
        execution.preserve_order = True
    try:
        # One block, one read task for all files: ids unique across files need one index, and a shared
        # one across tasks would make which copy wins depend on timing. concurrency=1 says so, and also
        # keeps Ray Data from fusing the read into the actors (a task size unlike the pool's is not
        # fused), which would leave the single block, and all scoring, to one actor. The reader takes no
        # CPU slot: the pool takes every slot (actors = CPUs), and a reader waiting for one never starts.
        files = ray.data.from_items(
            [{"index": i, "path": str(p)} for i, p in enumerate(paths)], override_num_blocks=1
        )
        chunks = files.map_batches(
            _read_file, batch_size=None, batch_format="pandas", concurrency=1, num_cpus=0,
            fn_kwargs={"options": options, "out": str(out)},
        )
        scored = chunks.map_batches(
            ScoreActor,
            fn_constructor_kwargs={"folder": str(folder), "options": options, "sink": sink, "out": str(out)},
            compute=ray.data.ActorPoolStrategy(size=actors),
            batch_size=max(options.batch_size, min(options.chunk_rows, 4096)),
            batch_format="pandas",
            num_cpus=cpus_per_actor,
        )
        if options.campaigns is None:
            scored.write_parquet(str(out), filename_provider=_PartNames())
            return None
        posts = RunPosts(out, options.campaigns, parts=0)
        _assign_in_driver(scored, out, posts, sink)
        return posts
    finally:
        execution.preserve_order = ordered


def _assign_in_driver(scored: Any, out: Path, posts: RunPosts, sink: QueueSink | None) -> None:
    """Gather the scored rows (in input order) back into their reader chunks and, chunk by chunk, assign
    campaigns and write the chunk's part, as the local engine does."""
    part = 0

    def commit(groups: list[pd.DataFrame]) -> None:
        nonlocal part
        frame = pd.concat(groups, ignore_index=True)
        chunk = pd.DataFrame({"id": frame["id"], "text": frame["_text"], "author": frame["author"],
                              "created_at": frame["_posted_at"]})
        # Enqueued by the actor before the batch came back: the campaigns' queue links find their items.
        rows = posts.assign(chunk, frame.drop(columns=list(DRIVER_COLUMNS)), sink)
        write_parquet_atomic(rows, out / f"{RAY_PART_PREFIX}{part:06}.parquet")
        part += 1
        posts.save(part)
        posts.publish()  # no checkpoint to wait for: a Ray run is not resumed

    pending: list[pd.DataFrame] = []
    current = None
    for block in scored.iter_batches(batch_size=None, batch_format="pandas"):
        # An actor's batch may end or start mid-chunk; the order keeps each chunk's rows together.
        for key, group in block.groupby("_chunk", sort=False):
            if current is not None and key < current:
                # Assigning out of order would silently give other campaigns than the local engine.
                raise ScoreError(
                    f"Ray Data returned chunk {key:#x} after chunk {current:#x}: rows out of input order "
                    "(DataContext.execution_options.preserve_order was turned off?)"
                )
            if key != current and pending:
                commit(pending)
                pending = []
            current = key
            pending.append(group)
    if pending:
        commit(pending)


def _finish(out: Path, state: RunState) -> tuple[int, int]:
    """Merge per-file rejects and summaries and per-actor counts into ``state``; returns the int8
    verifications and the posts the cascade let skip the full model."""
    import pyarrow.parquet as pq

    with open(out / REJECTS_FILE, "w", encoding="utf-8", newline="") as merged:
        header_written = False
        for i, entry in enumerate(state.inputs):
            part = out / f"_rejects-{i:05d}.csv"
            if part.exists():
                lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
                if lines:
                    merged.writelines(lines if not header_written else lines[1:])
                    header_written = True
                part.unlink()
            summary_path = out / f"_read-{i:05d}.json"
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            summary_path.unlink()
            state.inputs[i] = InputProgress(
                path=entry.path,
                rows_done=summary["last_row"],
                done=True,
                read=summary["read"],
                kept=summary["kept"],
                rejected=summary["rejected"],
                reasons=dict(summary["reasons"]),
                encoding=summary["encoding"],
                blank=summary["blank"],
            )
    if not header_written:
        (out / REJECTS_FILE).unlink()
    int8_verified = skipped = 0
    for stats_path in out.glob("_actor-*.json"):
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
        state.enqueued += int(stats["enqueued"])
        int8_verified += int(stats["int8_verified_in_fp32"])
        skipped += int(stats.get("cascade_skipped", 0))
        stats_path.unlink()
    parts = list(out.glob(f"{RAY_PART_PREFIX}*.parquet"))
    state.scored = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    state.next_part = len(parts)
    state.skipped = skipped
    return int8_verified, skipped
