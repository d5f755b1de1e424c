"""The batch scoring job, local engine: stream posts through the Classifier into part files, resumably.

``score_files(inputs, model, out_dir, options)`` reads every input with :func:`pantau.io.read_posts`
(validated chunks of ``chunk_rows`` posts; bad rows go to ``<out>/_rejects.csv`` with a reason), scores
each chunk with one :class:`~pantau.model.classifier.Classifier` loaded once, and writes one part file
per chunk. Memory is bounded by the chunk size, not by the input size.

Output folder (readable as one table: ``pandas.read_parquet(out)``, Ray, DuckDB, Spark — they skip
files whose names start with ``_``):

* ``part-00000.parquet`` … — one row per scored post (columns: :mod:`pantau.scoring.frame`).
* ``_rejects.csv`` — rows that could not be scored: source file, row number, reason, raw content.
* ``_manifest.json`` — written when the run finishes (keys: :mod:`pantau.scoring.manifest`).
* ``_checkpoint.json`` — progress of an unfinished run (:class:`~pantau.scoring.checkpoint.RunState`;
  removed when the manifest is written).

Risk: ``max over labels`` of the probability rescaled so the label's tuned threshold maps to 0.5 (see
:func:`pantau.model.classifier.risk_from_probabilities`); ``risk ≥ 0.5`` ⇔ some label is flagged.

Nothing lost, nothing twice: see :mod:`pantau.scoring.checkpoint`. With a queue, each chunk's rows are
enqueued *before* its part is committed; the queue is idempotent per (post id, model version), so a
replayed chunk never duplicates queue items.
Ids are unique over the whole run: one :class:`~pantau.io.IdIndex` is shared by every input's reader
and, on resume, rebuilt from the committed parts. One run per folder: :class:`~pantau.scoring.lock.RunLock`.

SIGTERM (or Ctrl-C): the batch in hand is finished, the chunk's scored posts are committed as a part,
its unscored posts are recorded in the checkpoint to be read again (``redo_rows``), and
:class:`~pantau.scoring.options.Stopped` is raised (the CLI exits 128 + signal: 143 for SIGTERM). The
same command resumes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pantau.io import IdIndex, RejectsWriter, read_posts, write_parquet_atomic
from pantau.scoring.campaigns import RunPosts
from pantau.scoring.checkpoint import committed_ids, fingerprint, prepare_out, read_finished
from pantau.scoring.frame import queue_rows, score_frame, span_finder
from pantau.scoring.manifest import build_manifest, write_manifest
from pantau.scoring.options import (
    CHECKPOINT_FILE,
    MANIFEST_FILE,
    PART_PATTERN,
    REJECTS_FILE,
    ResumeMismatch,
    ScoreError,
    ScoreOptions,
    ScoreResult,
    Stopped,
    load_classifier,
)
from pantau.scoring.progress import Progress
from pantau.scoring.sink import QueueSink
from pantau.scoring.start import run_sink, started
from pantau.scoring.stop import StopSignal

if TYPE_CHECKING:
    from pantau.model.classifier import Classifier

__all__ = [
    "CHECKPOINT_FILE",
    "MANIFEST_FILE",
    "REJECTS_FILE",
    "QueueSink",
    "ResumeMismatch",
    "ScoreError",
    "ScoreOptions",
    "ScoreResult",
    "Stopped",
    "score_files",
]

log = logging.getLogger(__name__)


def score_files(
    inputs: Sequence[str | os.PathLike[str]],
    model: str | os.PathLike[str] | Classifier,
    out_dir: str | os.PathLike[str],
    options: ScoreOptions | None = None,
    *,
    sink: QueueSink | None = None,
) -> ScoreResult:
    """Score ``inputs`` with ``model`` (a folder, ``models:/`` URI or loaded Classifier) into ``out_dir``; resumable.

    ``sink`` is the run's queue (default: one built from ``options.queue_url`` and closed at the end);
    a caller that passes one owns it.
    """
    with started(inputs, out_dir, options) as (paths, opts), StopSignal() as stop:
        clf = load_classifier(model, opts)  # a signal now stops at once: nothing written yet
        stop.defer()  # from here a signal lets the batch in hand finish and commits it
        with run_sink(sink, opts) as run_queue:
            return _run(paths, clf, Path(out_dir), opts, run_queue, stop)


def _run(
    paths: list[Path], clf: Classifier, out: Path, options: ScoreOptions, sink: QueueSink | None, stop: StopSignal
) -> ScoreResult:
    find_spans = span_finder()
    fp = fingerprint(paths, clf.folder, clf.meta, options)
    state = prepare_out(out, fp, paths, options.resume)
    if state is None:
        log.info("%s already holds this finished run; nothing to do", out)
        return ScoreResult(out, read_finished(out) or {})
    if sink is not None:
        sink.open()  # before the first part: a queue that cannot be opened fails the run up front
    posts = RunPosts(out, options.campaigns, parts=state.next_part)  # accounts, times, campaigns
    state.attempts += 1
    attempt_start = time.monotonic()
    base_duration = state.duration_s
    # Checkpoint before the first part: a folder with parts always has a checkpoint to resume from.
    state.save(out)
    seen = IdIndex(committed_ids(out, state.next_part))
    rejects = RejectsWriter(out / REJECTS_FILE)
    progress = Progress(paths, state.read, enabled=options.progress)

    def commit() -> None:
        # The rejects are flushed first so the checkpointed size covers every consumed row's reject.
        rejects.flush()
        state.rejects_bytes = _size(out / REJECTS_FILE)
        state.duration_s = base_duration + (time.monotonic() - attempt_start)
        # The campaign index is committed with the checkpoint (pending, checkpoint, publish): a resume finds
        # exactly the index and counts of its checkpoint, never the replayed chunk's posts counted twice.
        posts.save(state.next_part)
        state.save(out)
        posts.publish()
        progress.update(state.read)

    try:
        for index, path in enumerate(paths):
            start = state.inputs[index]
            if start.done:
                continue
            reader = read_posts(path, **options.reader_options(), rejects=rejects, skip_rows=start.rows_done,
                                seen_ids=seen, redo_rows=start.redo_rows)
            for chunk in reader:
                pending: list[int] = []
                if len(chunk):
                    skipped_before = clf.skipped_posts
                    scored = score_frame(clf, chunk, find_spans=find_spans, on_batch=progress.advance,
                                         should_stop=stop)
                    if len(scored) < len(chunk):  # stopped mid-chunk: commit what is scored, redo the rest
                        unscored = ~np.isin(chunk["id"].to_numpy(), scored["id"].to_numpy())
                        pending = chunk.loc[unscored, "row"].astype(int).tolist()
                        chunk = chunk.loc[~unscored]
                    if len(scored):
                        if sink is not None:
                            state.enqueued += sink.put(queue_rows(clf, chunk, scored, path.name), clf.meta.version)
                        scored = posts.assign(chunk, scored, sink)
                        write_parquet_atomic(scored, out / PART_PATTERN.format(state.next_part))
                        state.next_part += 1
                        state.scored += len(scored)
                    state.skipped += clf.skipped_posts - skipped_before
                # Per-input progress = what earlier attempts consumed + what this attempt's reader saw.
                state.inputs[index] = start.advanced(reader.summary, done=False, pending=pending)
                commit()
                if stop():
                    raise Stopped(_stopped_message(stop.signum, state.scored, out), int(stop.signum or 0))
            # Rows rejected after the last yielded chunk are only counted once the reader is exhausted.
            state.inputs[index] = start.advanced(reader.summary, done=True)
            commit()
    finally:
        rejects.close()
        progress.stop()
    state.duration_s = base_duration + (time.monotonic() - attempt_start)
    manifest = build_manifest(
        state,
        clf,
        options,
        engine="local",
        workers=1,
        queue_enabled=sink is not None,
        int8_verified=getattr(clf, "verified_posts", 0),
        cascade_skipped=state.skipped,
    )
    manifest["posts"] = posts.summary()
    write_manifest(manifest, out)
    (out / CHECKPOINT_FILE).unlink(missing_ok=True)
    return ScoreResult(out, manifest)


def _stopped_message(signum: int | None, scored: int, out: Path) -> str:
    import signal

    name = signal.Signals(signum).name if signum else "a signal"
    return (f"stopped by {name} after the batch in hand: {scored:,} posts scored and committed in {out}; "
            "run the same command again to resume")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
