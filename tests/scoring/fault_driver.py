"""Run ``score_files`` and SIGKILL this process at one commit point (used by test_faults.py).

``python fault_driver.py [--campaigns JSON] POINT N MODEL OUT INPUT...``: POINT is ``before:NAME`` /
``after:NAME`` (an atomic rename whose target starts with NAME: ``part-``, ``_checkpoint``, ``_manifest``,
``_campaigns``) or ``rejects-flush``; the N-th such event (1-based) kills the process with SIGKILL.
``--campaigns``: the run assigns campaigns with these :class:`~pantau.config.CampaignSettings` (as JSON).
Nothing is mocked: the real engine runs, only the moment of death is chosen.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from pantau.config import CampaignSettings
from pantau.io import atomic
from pantau.io.rejects import RejectsWriter
from pantau.scoring.local import ScoreOptions, score_files

args = sys.argv[1:]
campaigns = CampaignSettings(**json.loads(args[1])) if args[:1] == ["--campaigns"] else None
point, nth, model, out, *inputs = args[2:] if campaigns else args
count = 0
real_replace = os.replace
real_flush = RejectsWriter.flush


def _event() -> None:
    global count
    count += 1
    if count == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)


def replace(src: str, dst: str) -> None:
    when, _, name = point.partition(":")
    hit = Path(dst).name.startswith(name) and when in ("before", "after")
    if hit and when == "before":
        _event()
    real_replace(src, dst)
    if hit and when == "after":
        _event()


def flush(self: RejectsWriter) -> None:
    real_flush(self)
    if point == "rejects-flush" and self._fh is not None:
        _event()


atomic.os.replace = replace  # type: ignore[assignment]
RejectsWriter.flush = flush  # type: ignore[method-assign]
score_files(inputs, model, out, ScoreOptions(chunk_rows=20, stride=4, threads=1, campaigns=campaigns))
print("finished without reaching the fault point")
