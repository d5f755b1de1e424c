""""Cannot start" checks, run before the model is loaded: every input readable with its text column,
and the output folder a writable folder this run can lock (:mod:`pantau.scoring.lock`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pantau.io import InputError, read_posts
from pantau.scoring.options import CannotStart, ScoreOptions


def check_inputs(paths: Sequence[Path], options: ScoreOptions) -> None:
    """Raise :class:`CannotStart` saying what to change when an input cannot be scored at all."""
    for path in paths:
        try:
            read_posts(path, **options.reader_options()).check()
        except InputError as exc:
            raise CannotStart(str(exc)) from None
