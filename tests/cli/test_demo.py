"""The demo's closing line about the run-record files git sees (dvc.lock, metrics/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pantau.cli.demo import run_record_changes

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin"}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)


def test_new_run_record_files_are_named_and_committed_ones_are_not(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "test.json").write_text("{}\n")
    (tmp_path / "other.txt").write_text("not a run record\n")

    assert run_record_changes(tmp_path) == ["dvc.lock", "metrics/test.json"]
    assert run_record_changes(str(tmp_path)) == ["dvc.lock", "metrics/test.json"]  # Settings.root is a str

    _git(tmp_path, "add", "dvc.lock", "metrics")
    _git(tmp_path, "commit", "-qm", "baseline")
    assert run_record_changes(tmp_path) == []

    (tmp_path / "metrics" / "test.json").write_text('{"macro_f1": 0.5}\n')
    assert run_record_changes(tmp_path) == ["metrics/test.json"]


def test_outside_git_there_is_nothing_to_say(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n")
    assert run_record_changes(tmp_path) == []
