"""One run per output folder: an OS file lock on ``<out>/_run.lock``, held for the whole run.

The lock is ``fcntl.flock``: the kernel drops it when the holder exits, even on SIGKILL, so a lock
left by a dead run never blocks the next one. The file names its holder (host, PID, start time) for
the message a refused run prints, and is emptied on release: a record found with the kernel lock free
is a run that died holding it (SIGKILL, power loss), and the new run says it takes that stale lock
over. Re-entrant within one process, so the CLI can take it before loading the model and the engine
again around the run.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from pathlib import Path
from typing import IO, Any, Self

from pantau.scoring.options import CannotStart, utc_now

LOCK_FILE = "_run.lock"

log = logging.getLogger(__name__)

_held: dict[Path, tuple[IO[str], int]] = {}


class RunLocked(CannotStart):
    """Another run holds the output folder."""


class OutputNotWritable(CannotStart):
    """The output folder cannot be created or written."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """``with RunLock(out):`` — raises :class:`RunLocked` naming the holder when another run has ``out``."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out)
        self.key = self.out.resolve()

    def acquire(self) -> None:
        """Take the lock (creating the folder); re-entrant in one process."""
        if self.key in _held:
            fh, depth = _held[self.key]
            _held[self.key] = (fh, depth + 1)
            return
        if self.out.exists() and not self.out.is_dir():
            raise OutputNotWritable(f"--out {self.out} is a file, not a folder; choose a folder")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            fh = open(self.out / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 — held for the run
        except OSError as exc:
            raise OutputNotWritable(
                f"cannot write to --out {self.out} ({exc.strerror or exc}); choose a writable folder"
            ) from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _describe(_read_holder(fh))
            fh.close()
            raise RunLocked(
                f"{self.out} is in use by another pantau score run ({holder}); wait for it to finish, "
                "or use another --out folder"
            ) from None
        left = _read_holder(fh)
        if left and (left.get("pid"), left.get("host")) != (os.getpid(), socket.gethostname()):
            # A clean release empties the file, so a record left behind is a run that died holding it.
            log.warning("%s: taking over the stale lock of a run that did not finish (%s)", self.out, _stale(left))
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started_at": utc_now()}))
        fh.flush()
        _held[self.key] = (fh, 1)

    def release(self) -> None:
        """Drop one level; the last one unlocks (the file stays: removing it could split two runs)."""
        fh, depth = _held[self.key]
        if depth > 1:
            _held[self.key] = (fh, depth - 1)
            return
        del _held[self.key]
        # Emptied before unlocking: the next run then tells a finished holder from a dead one.
        fh.seek(0)
        fh.truncate()
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fh: IO[str]) -> dict[str, Any]:
    try:
        fh.seek(0)
        data = json.loads(fh.read() or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _stale(holder: dict[str, Any]) -> str:
    text = f"PID {holder.get('pid')} on {holder.get('host')}, started {holder.get('started_at')}"
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        text += ", no longer running" if not _alive(holder["pid"]) else ", that PID is now another process"
    return text


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    text = f"PID {holder.get('pid')} on {holder.get('host')}, started {holder.get('started_at')}"
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int) and not _alive(holder["pid"]):
        text += "; that process is gone — the lock is held through a shared mount, check the other machines"
    return text
