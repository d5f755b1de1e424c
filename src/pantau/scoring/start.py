"""What both engines do before and around a run: check the inputs before the model loads, hold the
output folder's lock for the whole run, and own the queue sink when the caller did not pass one."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pantau.scoring.lock import RunLock
from pantau.scoring.options import ScoreOptions, input_paths
from pantau.scoring.preflight import check_inputs
from pantau.scoring.sink import QueueSink


@contextmanager
def started(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    options: ScoreOptions | None,
    *,
    resolve: bool = False,
) -> Iterator[tuple[list[Path], ScoreOptions]]:
    """``with started(inputs, out, options) as (paths, options):`` — the run's inputs and options, with the
    "cannot start" checks done (before any model loads) and ``out`` locked against a second run.

    ``resolve``: absolute input paths (Ray tasks may run elsewhere, in another working directory).
    """
    options = options or ScoreOptions()
    paths = input_paths(inputs)
    if resolve:
        paths = [p.resolve() for p in paths]
    check_inputs(paths, options)
    with RunLock(out_dir):
        yield paths, options


@contextmanager
def run_sink(sink: QueueSink | None, options: ScoreOptions) -> Iterator[QueueSink | None]:
    """The caller's sink (the caller closes it), or one built from ``options.queue_url`` and closed here."""
    if sink is not None:
        yield sink
        return
    own = QueueSink.from_options(options)
    try:
        yield own
    finally:
        if own is not None:
            own.close()
