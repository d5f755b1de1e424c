"""Stopping a run cleanly on SIGTERM (or Ctrl-C): finish the batch in hand, commit, exit resumable.

Inside ``with StopSignal() as stop:`` a SIGTERM/SIGINT first raises
:class:`~pantau.scoring.options.Stopped` at once — while the model loads nothing has been written, so
there is nothing to wait for. After ``stop.defer()`` (the run has begun writing) it only sets a flag,
which the engine polls between batches (``stop()``); a second signal of the same kind then acts as it
would have without us (the process dies at once — the last checkpoint still resumes). Handlers can
only be installed from the main thread; elsewhere the flag simply never turns true.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Self

from pantau.scoring.options import Stopped

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignal:
    """A flag set by the first SIGTERM/SIGINT while the ``with`` block runs; ``signum`` says which."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._deferred = False
        self._previous: dict[int, Any] = {}

    def defer(self) -> None:
        """From now on a signal only asks the run to stop after the batch in hand."""
        self._deferred = True

    def __call__(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # asked twice: behave as if we were not here
            signal.signal(signum, self._previous.get(signum) or signal.SIG_DFL)
            signal.raise_signal(signum)
            return
        self.signum = signum
        if not self._deferred:
            raise Stopped(f"stopped by {signal.Signals(signum).name} before scoring began; nothing was written "
                          "— run the same command again to start", signum)

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
