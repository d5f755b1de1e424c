"""Run ``score_files`` and SIGKILL this process at one commit point (used by test_faults.py).

``python fault_driver.py [--campaigns JSON] [--hold FILE] POINT N MODEL OUT INPUT...``: POINT is
``before:NAME`` / ``after:NAME`` — NAME an atomic rename whose target starts with it (``part-``,
``_checkpoint``, ``_manifest``, ``_campaigns``), ``rejects-flush`` (a flush of the rejects file that has
rows) or ``lock`` (the attempt to take ``<OUT>/_run.lock``; "after" also when it was refused) — and the
N-th such event (1-based) kills the process with SIGKILL. A bare ``rejects-flush`` means ``after:``.
``--campaigns``: the run assigns campaigns with these :class:`~pantau.config.CampaignSettings` (as JSON).
``--hold FILE``: at that event, instead of dying, create FILE and wait until it is removed, then go on
(a run paused mid-way, holding its lock, while a test starts a second one).
Nothing is mocked: the real engine runs, only the moment of death (or pause) is chosen.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any

from pantau.config import CampaignSettings
from pantau.io import atomic
from pantau.io.rejects import RejectsWriter
from pantau.scoring.local import ScoreOptions, score_files

args = sys.argv[1:]
campaigns: CampaignSettings | None = None
hold: Path | None = None
while args[0].startswith("--"):
    flag, value, *args = args
    if flag == "--campaigns":
        campaigns = CampaignSettings(**json.loads(value))
    elif flag == "--hold":
        hold = Path(value)
    else:
        raise SystemExit(f"unknown option {flag}")
point, nth, model, out, *inputs = args
when, _, name = point.partition(":") if ":" in point else ("after", "", point)
count = 0
real_replace = os.replace
real_flush = RejectsWriter.flush
real_flock = fcntl.flock


def _event() -> None:
    global count
    count += 1
    if count != int(nth):
        return
    if hold is None:
        os.kill(os.getpid(), signal.SIGKILL)
    hold.touch()
    while hold.exists():
        time.sleep(0.02)


def replace(src: str, dst: str) -> None:
    hit = name not in ("rejects-flush", "lock") and Path(dst).name.startswith(name)
    if hit and when == "before":
        _event()
    real_replace(src, dst)
    if hit and when == "after":
        _event()


def flush(self: RejectsWriter) -> None:
    hit = name == "rejects-flush" and self._fh is not None
    if hit and when == "before":
        _event()
    real_flush(self)
    if hit and when == "after":
        _event()


def flock(fh: IO[Any], operation: int) -> None:
    hit = name == "lock" and bool(operation & fcntl.LOCK_EX) and Path(fh.name).name == "_run.lock"
    if hit and when == "before":
        _event()
    try:
        real_flock(fh, operation)
    finally:  # a refused attempt raises: "after" is then the moment between refusal and exit
        if hit and when == "after":
            _event()


atomic.os.replace = replace  # type: ignore[assignment]
RejectsWriter.flush = flush  # type: ignore[method-assign]
fcntl.flock = flock  # the lock module calls fcntl.flock through the module
score_files(inputs, model, out, ScoreOptions(chunk_rows=20, stride=4, threads=1, campaigns=campaigns))
print("finished" if count >= int(nth) else "finished without reaching the fault point")
