"""Nothing lost, nothing twice, under faults: SIGKILL at every commit point, two runs on one folder (the
second killed while the first holds it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support.posts import write_bad_posts
from support.tiny_models import build_tiny_transformer

from pantau.scoring.local import MANIFEST_FILE, REJECTS_FILE, ScoreOptions, score_files
from pantau.scoring.lock import LOCK_FILE, RunLock, RunLocked

DRIVER = Path(__file__).with_name("fault_driver.py")
OPTS = ScoreOptions(chunk_rows=20, stride=4, threads=1)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


def assert_exactly_once(out: Path, rows: dict[str, int], good: set[str]) -> None:
    """Every input row once: good ids once in the parts, every other row once in a well-formed rejects file."""
    scored = pd.read_parquet(out)
    assert len(scored) == len(good) and set(scored["id"]) == good
    rejects = pd.read_csv(out / REJECTS_FILE, dtype=str, keep_default_na=False)
    assert list(rejects.columns) == ["source", "row", "reason", "raw"]
    assert (rejects["reason"] != "").all() and rejects["row"].str.isdigit().all()
    keys = list(zip(rejects["source"].map(lambda s: Path(s).name), rejects["row"].astype(int), strict=True))
    assert len(keys) == len(set(keys))  # nothing twice
    assert len(keys) == sum(rows.values()) - len(good)  # nothing lost
    counts = json.loads((out / MANIFEST_FILE).read_text())["counts"]
    assert counts["read"] == sum(rows.values()) and counts["scored"] == len(good)
    assert counts["rejected"] == len(rejects)


POINTS = [
    ("before:part-", 1), ("after:part-", 1), ("after:part-", 3), ("before:_checkpoint", 2),
    ("after:_checkpoint", 3), ("before:rejects-flush", 2), ("rejects-flush", 2), ("before:_manifest", 1),
    ("after:_manifest", 1),
]


@pytest.mark.slow
@pytest.mark.parametrize(("point", "nth"), POINTS, ids=[f"{p}#{n}" for p, n in POINTS])
def test_sigkill_at_each_commit_point_then_rerun_gives_every_row_exactly_once(
    tmp_path: Path, model: Path, point: str, nth: int
) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.jsonl"
    good_a, rows_a = write_bad_posts(a, 90, seed=1)
    good_b, rows_b = write_bad_posts(b, 60, seed=2, shared_ids=sorted(good_a)[:5])
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(DRIVER), point, str(nth), str(model), str(out), str(a), str(b)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stdout + proc.stderr  # it died where it was told to
    score_files([a, b], model, out, OPTS)  # "run the same command again"
    assert_exactly_once(out, {"a": rows_a, "b": rows_b}, good_a | good_b)


def test_ids_stay_unique_across_files_and_resumes(tmp_path: Path, model: Path) -> None:
    a = tmp_path / "a.csv"
    good, rows = write_bad_posts(a, 70, seed=3)
    out = tmp_path / "out"
    # The same file twice: the second copy is all duplicates (or its own bad rows).
    result = score_files([a, a], model, out, OPTS)
    assert len(pd.read_parquet(out)) == len(good)
    assert result.manifest["counts"]["rejected"] == 2 * rows - len(good)


def test_a_second_run_on_the_same_out_is_refused_naming_the_holder(tmp_path: Path, model: Path) -> None:
    a = tmp_path / "a.csv"
    write_bad_posts(a, 30)
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys, time; from pantau.scoring.lock import RunLock\n"
         f"RunLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=rf"in use by another pantau score run \(PID {holder.pid} on "):
            score_files([a], model, out, OPTS)
        assert not list(out.glob("part-*"))
    finally:
        holder.kill()
        holder.wait()
    # SIGKILLed holder: the kernel dropped its lock; the next run goes ahead.
    assert score_files([a], model, out, OPTS).manifest["counts"]["read"] == 30
    with RunLock(out), RunLock(out):  # re-entrant in one process
        assert (out / LOCK_FILE).exists()


def test_kill_right_after_the_first_part_resumes_not_dead_ends(tmp_path: Path, model: Path) -> None:
    a = tmp_path / "a.csv"
    good, rows = write_bad_posts(a, 60, seed=4)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(DRIVER), "after:part-", "1", str(model), str(out), str(a)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9
    assert (out / "part-00000.parquet").exists() and (out / "_checkpoint.json").exists()
    score_files([a], model, out, OPTS)
    assert_exactly_once(out, {"a": rows}, good)


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before:lock", "after:lock"])
def test_a_second_run_killed_while_the_first_holds_the_folder_leaves_the_first_whole(
    tmp_path: Path, model: Path, point: str
) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.jsonl", tmp_path / "c.csv"
    good_a, rows_a = write_bad_posts(a, 90, seed=1)
    good_b, rows_b = write_bad_posts(b, 60, seed=2, shared_ids=sorted(good_a)[:5])
    write_bad_posts(c, 40, seed=3)  # the second run's input: other ids, which must not appear
    out, hold = tmp_path / "out", tmp_path / "first-holds"
    # The first run pauses right after its second part, lock held, with parts, checkpoint and rejects on disk.
    first = subprocess.Popen([sys.executable, str(DRIVER), "--hold", str(hold), "after:part-", "2", str(model),
                              str(out), str(a), str(b)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not hold.exists():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
            time.sleep(0.02)
        before = _snapshot(out)
        second = subprocess.run([sys.executable, str(DRIVER), point, "1", str(model), str(out), str(c)],
                                check=False, capture_output=True, text=True, timeout=300)
        assert second.returncode == -9, second.stdout + second.stderr  # killed at its lock attempt
        assert _snapshot(out) == before  # the killed second run changed nothing in the folder
        assert first.poll() is None  # the first was still running (and holding) all along
    finally:
        hold.unlink(missing_ok=True)
    output, _ = first.communicate(timeout=300)
    assert first.returncode == 0 and "finished" in output, output
    assert_exactly_once(out, {"a": rows_a, "b": rows_b}, good_a | good_b)
