"""A run's state (``_checkpoint.json``), its fingerprint, and what an output folder allows on start.

Nothing lost, nothing twice: the local engine writes each part to a temporary file and renames it into
place, then replaces the checkpoint (rows consumed per input, next part number, size of the rejects
file) atomically. A run killed at any point (even SIGKILL) and started again with the same command
deletes parts newer than the checkpoint, truncates the rejects file to the checkpointed size, and
continues from the first unconsumed row, so every input row ends up exactly once in a part or in the
rejects. A checkpoint only resumes a run with the same :func:`fingerprint`.

The checkpoint is written before the first part, so a folder with parts always has one; ids seen in
committed parts are restored on resume (:func:`committed_ids`), so duplicates stay rejects after any
number of restarts. Input identity is content-based (size + a hash of the first and last MiB), not the
modification time: a file rewritten in place with the same size and mtime is still noticed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantau.io import shorten, write_json_atomic
from pantau.scoring.options import (
    CHECKPOINT_FILE,
    MANIFEST_FILE,
    PART_PATTERN,
    REJECTS_FILE,
    ResumeMismatch,
    ScoreOptions,
    utc_now,
)

log = logging.getLogger(__name__)


@dataclass
class InputProgress:
    """How far a run got through one input file (also the per-input summary in the manifest)."""

    path: str
    # Rows of the file consumed (kept, rejected or blank); a resumed reader skips that many …
    rows_done: int = 0
    done: bool = False
    read: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    blank: int = 0  # blank lines skipped: not posts, not in read
    # … except these: posts of a chunk a SIGTERM stopped half-scored, not in any part, read again.
    redo_rows: list[int] = field(default_factory=list)

    def advanced(self, summary: Any, *, done: bool, pending: Sequence[int] = ()) -> InputProgress:
        """This progress plus what a reader started from it has seen (``summary``: a ReadSummary).

        ``pending``: row numbers of kept posts the engine did not commit (stopped mid-chunk); they stay
        out of ``read``/``kept`` and are read again on resume. Earlier ``redo_rows`` are read again
        first by the resumed reader, so ``summary`` already counts them once more.
        """
        merged = dict(self.reasons)
        for key, value in dict(summary.reasons).items():
            merged[key] = merged.get(key, 0) + int(value)
        return InputProgress(
            path=self.path,
            rows_done=max(self.rows_done, int(summary.last_row)),
            done=done,
            read=self.read + summary.read - len(pending),
            kept=self.kept + summary.kept - len(pending),
            rejected=self.rejected + summary.rejected,
            reasons=merged,
            encoding=summary.encoding,
            blank=self.blank + int(summary.blank),
            redo_rows=sorted(int(r) for r in pending),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputProgress:
        """Read one entry of a checkpoint (keys it does not know are ignored)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RunState:
    """Everything a run must remember to resume: written to ``_checkpoint.json`` after every part."""

    fingerprint: dict[str, Any]
    started_at: str
    attempts: int = 0
    duration_s: float = 0.0
    next_part: int = 0
    scored: int = 0
    enqueued: int = 0
    skipped: int = 0  # scored posts the cascade let skip the full model (score.cascade)
    rejects_bytes: int = 0
    inputs: list[InputProgress] = field(default_factory=list)

    @classmethod
    def fresh(cls, fp: dict[str, Any], inputs: Sequence[Path]) -> RunState:
        """The state of a run that has not consumed anything yet."""
        return cls(fingerprint=fp, started_at=utc_now(), inputs=[InputProgress(str(p)) for p in inputs])

    @property
    def read(self) -> int:
        """Rows read over all inputs (scored + rejected)."""
        return sum(e.read for e in self.inputs)

    @property
    def rejected(self) -> int:
        """Rows rejected over all inputs."""
        return sum(e.rejected for e in self.inputs)

    @property
    def blank(self) -> int:
        """Blank lines skipped over all inputs (not posts: not in :attr:`read`)."""
        return sum(e.blank for e in self.inputs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the ``_checkpoint.json`` format)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Read the JSON form back."""
        known = {f.name for f in dataclasses.fields(cls)} - {"inputs"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            inputs=[InputProgress.from_dict(e) for e in data.get("inputs", [])],
        )

    def save(self, out: Path) -> None:
        """Replace ``out/_checkpoint.json`` atomically."""
        write_json_atomic(self.to_dict(), out / CHECKPOINT_FILE)

    @classmethod
    def load(cls, out: Path) -> RunState:
        """Read ``out/_checkpoint.json``."""
        return cls.from_dict(json.loads((out / CHECKPOINT_FILE).read_text(encoding="utf-8")))


def model_identity(meta: Any, options: ScoreOptions) -> dict[str, Any]:
    """The model identity a run's fingerprint records, from the folder's meta."""
    return {
        "model_name": meta.name,
        "model_version": meta.version,
        "run_id": meta.run_id,
        "preprocessing": meta.preprocessing,
        "kind": meta.kind,
        "precision": options.precision,
        "max_length": int(options.max_length or meta.max_length),
        "stride": int(options.stride if options.stride is not None else meta.window_stride),
        "created_at": meta.created_at,
        # Only when on, so runs started before the cascade existed still resume.
        **({"cascade": True} if getattr(options, "cascade", False) else {}),
    }


def fingerprint(
    inputs: Sequence[Path], model_folder: Path, meta: Any, options: ScoreOptions
) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    files = [{"path": str(p.resolve()), "size": p.stat().st_size, "content": content_hash(p)} for p in inputs]
    return {
        "inputs": files,
        "model": {"folder": str(model_folder.resolve()), **model_identity(meta, options)},
        "text_column": options.text_column,
        "id_column": options.id_column,
        "chunk_rows": options.chunk_rows,
        "max_chars": options.max_chars,
        "encoding": options.encoding,
    }


_EDGE = 1 << 20


def content_hash(path: Path) -> str:
    """A hash of the size, first MiB and last MiB of ``path`` (the whole file when ≤ 2 MiB)."""
    size = path.stat().st_size
    h = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE))
        if size > _EDGE:
            fh.seek(max(_EDGE, size - _EDGE))
            h.update(fh.read(_EDGE))
    return h.hexdigest()


def what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Which of inputs, model or settings differ between two fingerprints, for the mismatch message."""
    what = []
    old_inputs, new_inputs = old.get("inputs", []), new.get("inputs", [])
    if old_inputs != new_inputs:
        before = {f.get("path"): f for f in old_inputs}
        changed = [Path(f["path"]).name for f in new_inputs if before.get(f["path"]) != f]
        if len(old_inputs) != len(new_inputs) or not changed:
            what.append(f"inputs (the list of files: {len(old_inputs)} then, {len(new_inputs)} now)")
        else:
            what.append(f"inputs (content of {shorten(changed, limit=200)})")
    old_model, new_model = old.get("model", {}), new.get("model", {})
    if old_model != new_model:
        keys = sorted(k for k in set(old_model) | set(new_model) if old_model.get(k) != new_model.get(k))
        what.append(f"model ({', '.join(keys)})")
    settings = sorted(
        k for k in set(old) | set(new) if k not in ("inputs", "model") and old.get(k) != new.get(k)
    )
    if settings:
        what.append("settings (" + ", ".join(f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in settings) + ")")
    return "; ".join(what) or "the fingerprint format"


def committed_ids(out: Path, next_part: int) -> Iterator[str]:
    """The ids in the committed parts ``0 … next_part-1`` (restoring a run's duplicate check)."""
    import pyarrow.parquet as pq

    for index in range(next_part):
        path = out / PART_PATTERN.format(index)
        if path.exists():
            yield from pq.read_table(path, columns=["id"]).column("id").to_pylist()


def part_index(path: Path) -> int | None:
    """The number of a ``part-NNNNN.parquet`` file, ``None`` for any other name."""
    name = path.name
    if name.startswith("part-") and name.endswith(".parquet"):
        digits = name[len("part-") : -len(".parquet")]
        if digits.isdigit():
            return int(digits)
    return None


def read_finished(out: Path) -> dict[str, Any] | None:
    """The manifest of the finished run in ``out``, or ``None`` when there is none."""
    path = out / MANIFEST_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def prepare_out(out: Path, fp: dict[str, Any], inputs: Sequence[Path], resume: bool) -> RunState | None:
    """Return the state to continue from, or ``None`` when the folder already holds this finished run."""
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        for path in _own_files(out):
            path.unlink()
        return RunState.fresh(fp, inputs)
    if (out / CHECKPOINT_FILE).exists():
        state = RunState.load(out)
        if state.fingerprint != fp:
            raise ResumeMismatch(
                f"{out} holds an unfinished run with different inputs, model or settings — changed: "
                f"{what_changed(state.fingerprint, fp)}; use another --out folder or --no-resume to start over"
            )
        # Parts past the checkpoint and temporary files belong to the chunk that was interrupted.
        for path in out.iterdir():
            index = part_index(path)
            if path.name.startswith((".part-", "._")) or (index is not None and index >= state.next_part):
                path.unlink()
        rejects = out / REJECTS_FILE
        if rejects.exists():
            with open(rejects, "r+b") as fh:
                fh.truncate(state.rejects_bytes)
        log.info("resuming %s at part %d (%d posts already scored)", out, state.next_part, state.scored)
        return state
    done = read_finished(out)
    if done is not None:
        if done.get("fingerprint") == fp:
            return None
        raise ResumeMismatch(
            f"{out} holds a finished run with different inputs, model or settings — changed: "
            f"{what_changed(done.get('fingerprint') or {}, fp)}; use another --out folder or --no-resume "
            "to overwrite it"
        )
    if any(part_index(p) is not None for p in out.iterdir()):
        # Not this version's run (it checkpoints before its first part): maybe someone else's files.
        raise ResumeMismatch(
            f"{out} holds part files without a checkpoint; use another --out folder or --no-resume"
        )
    # A run killed before its first checkpoint left at most rejects and temporary files: start clean.
    for path in _own_files(out):
        path.unlink()
    return RunState.fresh(fp, inputs)


def _own_files(out: Path) -> list[Path]:
    names = (MANIFEST_FILE, CHECKPOINT_FILE, REJECTS_FILE)
    return [
        p
        for p in out.iterdir()
        if p.name in names or part_index(p) is not None or p.name.startswith((".part-", "._"))
    ]
