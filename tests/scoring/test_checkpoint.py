"""The typed run state: ``_checkpoint.json`` round trip, older checkpoints, and what a folder allows."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from pantau.scoring.checkpoint import InputProgress, RunState, prepare_out
from pantau.scoring.options import CHECKPOINT_FILE, MANIFEST_FILE, ResumeMismatch


def a_state(tmp_path: Path) -> RunState:
    state = RunState.fresh({"inputs": [], "chunk_rows": 40}, [tmp_path / "a.csv", tmp_path / "b.jsonl"])
    state.attempts, state.duration_s, state.next_part, state.scored, state.enqueued = 2, 1.5, 3, 110, 7
    state.rejects_bytes = 321
    reader = SimpleNamespace(read=120, kept=110, rejected=10, reasons={"empty text": 9, "malformed row": 1},
                             encoding="utf-8", blank=2, last_row=122)
    state.inputs[0] = state.inputs[0].advanced(reader, done=True)
    return state


def test_run_state_round_trips_through_the_checkpoint_file(tmp_path: Path) -> None:
    state = a_state(tmp_path)
    state.save(tmp_path)
    on_disk = json.loads((tmp_path / CHECKPOINT_FILE).read_text(encoding="utf-8"))
    assert list(on_disk) == [
        "fingerprint", "started_at", "attempts", "duration_s", "next_part", "scored", "enqueued",
        "skipped", "rejects_bytes", "inputs",
    ]
    back = RunState.load(tmp_path)
    assert back == state and isinstance(back.inputs[0], InputProgress)
    assert back.read == 120 and back.rejected == 10
    # Rows consumed include the 2 blank lines (not posts: not read); a resumed reader skips all 122.
    assert back.inputs[0].rows_done == 122 and back.inputs[0].blank == 2 and back.blank == 2
    assert back.inputs[0].done and not back.inputs[1].done


def test_a_checkpoint_written_before_the_typed_state_still_loads(tmp_path: Path) -> None:
    # The dict the untyped engine wrote: fresh entries had no "encoding" key yet.
    old = {
        "fingerprint": {"chunk_rows": 40}, "started_at": "2025-01-01T00:00:00+00:00", "attempts": 1,
        "duration_s": 2.0, "next_part": 1, "scored": 40, "enqueued": 0, "rejects_bytes": 0,
        "inputs": [
            {"path": "a.csv", "rows_done": 40, "read": 40, "kept": 40, "rejected": 0, "reasons": {},
             "encoding": "utf-8", "done": False},
            {"path": "b.csv", "rows_done": 0, "done": False, "read": 0, "kept": 0, "rejected": 0, "reasons": {}},
        ],
    }
    state = RunState.from_dict(old)
    assert state.inputs[0].rows_done == 40 and state.inputs[1].encoding is None
    # Fields added since (the cascade's skipped count) load with their defaults.
    assert {k: v for k, v in state.to_dict().items() if k != "inputs"} == {
        **{k: v for k, v in old.items() if k != "inputs"}, "skipped": 0
    }


def test_resuming_with_another_fingerprint_is_refused(tmp_path: Path) -> None:
    state = a_state(tmp_path)
    state.save(tmp_path)
    with pytest.raises(ResumeMismatch, match="unfinished run"):
        prepare_out(tmp_path, {"other": True}, [], resume=True)
    resumed = prepare_out(tmp_path, state.fingerprint, [], resume=True)
    assert resumed == state
    (tmp_path / CHECKPOINT_FILE).unlink()
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"fingerprint": state.fingerprint}), encoding="utf-8")
    assert prepare_out(tmp_path, state.fingerprint, [], resume=True) is None
    with pytest.raises(ResumeMismatch, match="finished run"):
        prepare_out(tmp_path, {"other": True}, [], resume=True)
