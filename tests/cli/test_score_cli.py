"""``pantau score`` as an operator runs it: the real CLI in a subprocess, a tiny real model, real signals.

Covers issue 20's operator comfort (quiet runs, SIGTERM, blank lines, bad options, params.yaml, progress
per batch) and every "cannot start" exit 2 — each checked before the model loads: the model path given
does not exist, so a message about the input (not the model) shows the input was checked first.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support.posts import write_posts
from support.tiny_models import build_tiny_transformer

from pantau.scoring.lock import RunLock


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_transformer(tmp_path_factory.mktemp("m") / "model", max_length=16)


@pytest.fixture
def params(tmp_path: Path) -> Path:
    # The tiny model reads 16-token windows: keep the stride valid for it.
    path = tmp_path / "params.yaml"
    path.write_text("score: {max_length: 16, stride: 4}\n", encoding="utf-8")
    return path


def env(tmp_path: Path) -> dict[str, str]:
    # HOME in the test folder: the int8 cache starts empty, so "first int8 use" really is the first.
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path), "COLUMNS": "120"}


def pantau(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pantau.cli ARGS`` in ``tmp_path``; stdout and stderr together in ``.stdout``."""
    return subprocess.run([sys.executable, "-m", "pantau.cli", *args], cwd=tmp_path, env=env(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)


def score_args(params: Path, data: Path, model: Path, out: Path, *extra: str) -> list[str]:
    return ["--params", str(params), "score", str(data), "--model", str(model), "--out", str(out),
            "--threads", "1", *extra]


# -- --quiet ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_quiet_prints_nothing_on_a_run_a_rerun_and_the_first_int8_use(tmp_path: Path, model: Path,
                                                                      params: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 120, bad_every=30)
    out = tmp_path / "out"
    first = pantau(tmp_path, *score_args(params, data, model, out, "--quiet", "--chunk-rows", "40"))
    assert first.returncode == 0 and first.stdout == "", first.stdout
    # The finished run again: "already holds this finished run" is INFO, not for a quiet job.
    again = pantau(tmp_path, *score_args(params, data, model, out, "--quiet", "--chunk-rows", "40"))
    assert again.returncode == 0 and again.stdout == "", again.stdout
    # First int8 use quantises the model: ONNX Runtime's fusion INFO lines stay off the terminal.
    int8 = pantau(tmp_path, *score_args(params, data, model, tmp_path / "int8", "--quiet", "--precision", "int8"))
    assert int8.returncode == 0 and int8.stdout == "", int8.stdout
    assert list((tmp_path / ".cache" / "pantau" / "int8").glob("*.onnx"))  # it really was the first use
    # Not quiet: the summary line is there.
    loud = pantau(tmp_path, *score_args(params, data, model, tmp_path / "loud"))
    assert loud.returncode == 0 and "scored 116 of 120 posts" in loud.stdout


@pytest.mark.slow
def test_quiet_ray_run_prints_nothing(tmp_path: Path, model: Path, params: Path) -> None:
    pytest.importorskip("ray")
    data = tmp_path / "posts.csv"
    write_posts(data, 60)
    proc = pantau(tmp_path, *score_args(params, data, model, tmp_path / "out", "--quiet", "--engine", "ray"))
    assert proc.returncode == 0, proc.stdout
    # Nothing but errors: Ray's C++ core may still log its error-severity note on actor restarts
    # (ray-project/ray#53727); no INFO start-up, execution-plan, progress or warning lines.
    lines = proc.stdout.splitlines()
    assert all(re.match(r"\[[\d\- :,]+ E \d+ \d+\] ", line) for line in lines), proc.stdout
    assert len(pd.read_parquet(tmp_path / "out")) == 60


def test_a_missing_params_yaml_is_said_once(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 10)
    # No params.yaml in the working folder: the built-in settings, said once. (stride for the tiny model.)
    proc = pantau(tmp_path, "--set", "score.stride=4", "score", str(data), "--model", str(model),
                  "--out", str(tmp_path / "out"), "--quiet")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("params.yaml") == 1 and proc.stdout.startswith("warning: no params.yaml in ")


# -- SIGTERM ----------------------------------------------------------------------------------------


def start_and_signal(args: list[str], cwd: Path, out: Path, *, after_parts: int) -> tuple[int, str]:
    """Start the CLI, send SIGTERM once ``after_parts`` parts are committed; (exit code, its output)."""
    proc = subprocess.Popen([sys.executable, "-m", "pantau.cli", *args], cwd=cwd, env=env(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while len(list(out.glob("part-*.parquet"))) < after_parts:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    return proc.returncode, output


@pytest.mark.slow
def test_sigterm_finishes_the_batch_exits_143_and_the_same_command_resumes_every_id_once(
    tmp_path: Path, model: Path, params: Path
) -> None:
    data = tmp_path / "posts.csv"
    good = write_posts(data, 3000, bad_every=40, seed=5)
    with open(data, "a", encoding="utf-8") as fh:  # a duplicate of an early id: must stay a reject
        fh.write("p1,dasar cebong,u,\n")
    out = tmp_path / "out"
    # Chunks of 1,000 posts in batches of 8: the signal lands in the middle of a chunk.
    args = score_args(params, data, model, out, "--quiet", "--chunk-rows", "1000", "--batch-size", "8")
    code, output = start_and_signal(args, tmp_path, out, after_parts=1)
    assert code == 143, output
    (line,) = output.splitlines()
    assert line.startswith("stopped by SIGTERM after the batch in hand") and "run the same command" in line
    state = json.loads((out / "_checkpoint.json").read_text())
    assert not (out / "_manifest.json").exists()
    committed = len(pd.read_parquet(out))
    assert committed == state["scored"] and 0 < committed < len(good)
    resumed = pantau(tmp_path, *args)
    assert resumed.returncode == 0 and resumed.stdout == "", resumed.stdout
    scored = pd.read_parquet(out)
    assert len(scored) == len(good) and set(scored["id"]) == good  # every good id exactly once
    rejects = pd.read_csv(out / "_rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["row"].is_unique and len(rejects) == 3001 - len(good)  # every bad row exactly once
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["counts"]["read"] == 3001 and manifest["attempts"] == 2


# -- blank lines, bad options -----------------------------------------------------------------------


def test_blank_lines_are_not_posts_skipped_and_counted(tmp_path: Path, model: Path, params: Path) -> None:
    csv_file, jsonl = tmp_path / "posts.csv", tmp_path / "more.jsonl"
    csv_file.write_text("id,text\n1,selamat pagi\n\n   \n,\n2,dasar cebong\n3,   \n\n", encoding="utf-8")
    jsonl.write_text('{"id": "j1", "text": "halo"}\n\n  \n{"id": "", "text": ""}\n{"id": "j2", "text": "hai"}\n',
                     encoding="utf-8")
    out = tmp_path / "out"
    proc = pantau(tmp_path, "--params", str(params), "score", str(csv_file), str(jsonl), "--model", str(model),
                  "--out", str(out), "--quiet", "--fail-on-rejects")
    # Blank: CSV rows 2, 3 (spaces), 4 (only a comma), 7; JSONL lines 2, 3 and the all-empty object.
    # Row 6 (an id, whitespace text) is a post without text: the one reject, so --fail-on-rejects exits 3.
    assert proc.returncode == 3, proc.stdout
    counts = json.loads((out / "_manifest.json").read_text())["counts"]
    assert counts == {"read": 5, "scored": 4, "rejected": 1, "enqueued": 0, "blank_lines": 7}
    (reject,) = pd.read_csv(out / "_rejects.csv", dtype=str).to_dict("records")
    assert reject["reason"] == "empty text" and reject["row"] == "6"


@pytest.mark.parametrize("option", ["--chunk-rows", "--batch-size"])
def test_zero_sizes_are_usage_errors(tmp_path: Path, params: Path, option: str) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 5)
    proc = pantau(tmp_path, *score_args(params, data, tmp_path / "no-model", tmp_path / "out", option, "0"))
    assert proc.returncode == 2 and f"error: {option} must be ≥ 1, got 0" in proc.stdout
    assert not (tmp_path / "out").exists()


# -- cannot start: exit 2 before the model loads ----------------------------------------------------


def cannot_start(tmp_path: Path, params: Path, data: Path, out: Path) -> str:
    proc = pantau(tmp_path, *score_args(params, data, tmp_path / "no-model", out, "--quiet"))
    assert proc.returncode == 2, proc.stdout
    assert "pantau_model.json" not in proc.stdout and "no-model" not in proc.stdout  # inputs came first
    assert "rerun the same command" not in proc.stdout
    return proc.stdout


def test_cannot_start_inputs_exit_2_saying_what_to_change(tmp_path: Path, params: Path) -> None:
    out = tmp_path / "out"
    no_text = tmp_path / "tweets.csv"
    no_text.write_text("id,tweet\n1,halo\n", encoding="utf-8")
    assert "text column 'text' not found; columns found: id, tweet" in cannot_start(tmp_path, params, no_text, out)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "is empty" in cannot_start(tmp_path, params, empty, out)
    txt = tmp_path / "posts.txt"
    txt.write_text("halo\n", encoding="utf-8")
    assert "cannot tell the format" in cannot_start(tmp_path, params, txt, out)
    assert "not found" in cannot_start(tmp_path, params, tmp_path / "missing.csv", out)
    assert not list(out.glob("*.parquet"))


def test_cannot_start_outputs_exit_2_saying_what_to_change(tmp_path: Path, params: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 5)
    a_file = tmp_path / "out.parquet"
    a_file.write_text("not a folder")
    assert "is a file, not a folder" in cannot_start(tmp_path, params, data, a_file)
    assert "cannot write to --out" in cannot_start(tmp_path, params, data, Path("/proc/pantau-out"))
    if os.geteuid() != 0:  # root writes through a read-only mode; /proc above covers it
        locked_down = tmp_path / "ro"
        locked_down.mkdir(mode=0o555)
        assert "cannot write to --out" in cannot_start(tmp_path, params, data, locked_down / "out")


def test_cannot_start_while_another_run_holds_the_folder(tmp_path: Path, params: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 5)
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import time; from pantau.scoring.lock import RunLock\n"
                                f"RunLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(120)")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        message = cannot_start(tmp_path, params, data, out)
        assert f"in use by another pantau score run (PID {holder.pid} on " in message
    finally:
        holder.kill()
        holder.wait()
    with RunLock(out):  # the kernel dropped the killed holder's lock
        pass


@pytest.mark.slow
def test_input_rewritten_with_the_same_size_and_mtime_is_not_resumed(tmp_path: Path, model: Path,
                                                                     params: Path) -> None:
    data = tmp_path / "posts.csv"
    write_posts(data, 400, seed=7)
    out = tmp_path / "out"
    args = score_args(params, data, model, out, "--quiet", "--chunk-rows", "100", "--batch-size", "8")

    def rewrite_keeping_size_and_mtime() -> None:
        before = data.stat()
        lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
        rows = lines[1:]
        data.write_text(lines[0] + "".join(rows[200:] + rows[:200]), encoding="utf-8")  # same bytes, moved
        os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = data.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    # An unfinished run (stopped by SIGTERM), then the input rewritten in place.
    code, output = start_and_signal(args, tmp_path, out, after_parts=1)
    assert code == 143, output
    rewrite_keeping_size_and_mtime()
    refused = pantau(tmp_path, *args)
    assert refused.returncode == 2, refused.stdout
    assert "unfinished run" in refused.stdout and "inputs (content of posts.csv)" in refused.stdout
    # A finished run: the same.
    done = pantau(tmp_path, *args, "--no-resume")
    assert done.returncode == 0, done.stdout
    rewrite_keeping_size_and_mtime()
    again = pantau(tmp_path, *args)
    assert again.returncode == 2 and "finished run" in again.stdout and "content of posts.csv" in again.stdout


# -- progress -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_progress_bar_moves_per_batch_not_per_chunk(tmp_path: Path, model: Path, params: Path) -> None:
    import pty

    data = tmp_path / "posts.csv"
    write_posts(data, 3000, seed=9)
    # One chunk of 3,000 posts: a bar that moved per chunk would show only 0/3000 and 3000/3000.
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pantau.cli",
                             *score_args(params, data, model, tmp_path / "out", "--chunk-rows", "5000",
                                         "--batch-size", "8")],
                            cwd=tmp_path, env={**env(tmp_path), "TERM": "xterm"}, stdout=subprocess.DEVNULL,
                            stderr=follower)
    os.close(follower)
    screen = b""
    while True:
        try:
            block = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not block:
            break
        screen += block
    assert proc.wait(timeout=300) == 0, screen.decode(errors="replace")
    shown = {int(n) for n in re.findall(rb"(\d[\d,]*)/3,?000", screen.replace(b",", b""))}
    between = {n for n in shown if 0 < n < 3000}
    assert len(between) >= 2, shown  # it moved while the one chunk was scored


# -- damaged inputs and stale locks, end to end ------------------------------------------------------


def _csv_gz(n: int) -> bytes:
    import gzip

    body = "id,text\n" + "".join(f"p{i},posting nomor {i} tentang pemilu dan kadrun\n" for i in range(n))
    return gzip.compress(body.encode(), mtime=0)


@pytest.mark.parametrize("damage", ["truncated", "bad-crc"])
def test_a_damaged_gzip_is_scored_up_to_the_damage_with_one_reject_naming_it(
    tmp_path: Path, model: Path, params: Path, damage: str
) -> None:
    data = bytearray(_csv_gz(3000))
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[-8] ^= 0xFF  # the CRC32 in the trailer: every row decodes, the check fails at the end
    src = tmp_path / "posts.csv.gz"
    src.write_bytes(bytes(data))
    out = tmp_path / "out"
    run = pantau(tmp_path, *score_args(params, src, model, out, "--chunk-rows", "500"))
    assert run.returncode == 0, run.stdout  # finished: the damage is a reject, not a failure
    scored = pd.read_parquet(out)
    n = len(scored)
    assert 0 < n < 3000 if damage == "truncated" else n == 3000
    assert list(scored["id"]) == [f"p{i}" for i in range(n)]  # the readable rows, each once, in order
    rejects = pd.read_csv(out / "_rejects.csv", dtype=str, keep_default_na=False)
    (reject,) = rejects.to_dict("records")
    assert reject["source"] == str(src)
    reason = "truncated gzip" if damage == "truncated" else "corrupt gzip"
    assert reject["reason"].startswith(f"{reason} after row {n}"), reject["reason"]
    if damage == "bad-crc":
        assert "CRC" in reject["reason"]
    counts = json.loads((out / "_manifest.json").read_text())["counts"]
    assert counts["scored"] == n and counts["rejected"] == 1 and counts["read"] == n + 1
    assert f"scored {n:,} of {n + 1:,} posts" in run.stdout or f"scored {n} of {n + 1} posts" in run.stdout
    # --fail-on-rejects makes the same finished run exit 3 (README's exit codes); nothing is rescored.
    strict = pantau(tmp_path, *score_args(params, src, model, out, "--chunk-rows", "500", "--fail-on-rejects"))
    assert strict.returncode == 3, strict.stdout
    assert len(pd.read_parquet(out)) == n


def test_a_lock_left_by_a_killed_run_is_taken_over_and_the_run_says_so(tmp_path: Path, model: Path,
                                                                       params: Path) -> None:
    import socket

    data = tmp_path / "posts.csv"
    good = write_posts(data, 40, seed=3)
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import time; from pantau.scoring.lock import RunLock\n"
                                f"RunLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(120)")],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: the kernel drops the flock, the file still names the dead holder
    holder.wait()
    assert f'"pid": {holder.pid}' in (out / "_run.lock").read_text()
    run = pantau(tmp_path, *score_args(params, data, model, out, "--quiet"))
    assert run.returncode == 0, run.stdout
    said = re.search(r"taking over the stale lock of a run that did not finish \(PID (\d+) on ([^,\s]+), started ",
                     run.stdout)
    assert said and said.groups() == (str(holder.pid), socket.gethostname()), run.stdout
    assert "no longer running" in run.stdout
    assert set(pd.read_parquet(out)["id"]) == good
    # Released cleanly: the next run finds an empty lock file and says nothing about it.
    assert (out / "_run.lock").read_text() == ""
    again = pantau(tmp_path, *score_args(params, data, model, out, "--quiet"))
    assert again.returncode == 0 and again.stdout == "", again.stdout
