"""The README cannot rot: every command in it parses, and the user journeys in it run verbatim.

Every line of every ```bash block is checked: ``pantau`` commands against the CLI (sub-commands and
options exist), ``make`` targets against the Makefile, ``dvc``/``mlflow``/``ray`` sub-commands against
their own ``--help``. Blocks marked ``<!-- readme-test: NAME -->`` are run line by line, unchanged, in a
workspace laid out like a fresh clone, with a tiny model in place of e5-small.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support.tiny_base import build_tiny_base
from typer.testing import CliRunner

from pantau.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"(?:<!-- readme-test: (?P<name>[\w-]+) -->\n)?```bash\n(?P<body>.*?)```", re.DOTALL)


def readme_blocks() -> list[tuple[str | None, list[str]]]:
    """(marker, command lines) for each bash block; comments stripped."""
    blocks = []
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        lines = []
        for raw in match.group("body").splitlines():
            line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if line:
                lines.append(line)
        blocks.append((match.group("name"), lines))
    return blocks


def _words(line: str) -> list[str]:
    words = shlex.split(line)
    while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value prefixes
        words.pop(0)
    return words


ALL_LINES = [line for _, lines in readme_blocks() for line in lines]


def test_readme_opens_with_the_two_commands() -> None:
    first = readme_blocks()[0][1]
    assert first[:2] == ["make demo", "make test"]


@pytest.mark.parametrize("line", [ln for ln in ALL_LINES if _words(ln)[0] == "pantau"])
def test_pantau_commands_exist_with_their_options(line: str) -> None:
    words = _words(line)[1:]
    path: list[str] = []
    for word in words:
        if word.startswith("-"):
            break
        probe = CliRunner().invoke(app, [*path, word, "--help"])
        if probe.exit_code != 0 or "Usage:" not in probe.output:
            break
        path.append(word)
    assert path, f"no pantau command in {line!r}"
    help_text = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output
    for option in (w.split("=")[0] for w in words if w.startswith("--")):
        assert option in help_text, f"{line!r}: {option} is not an option of `pantau {' '.join(path)}`"


def test_make_targets_exist() -> None:
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    used = {_words(ln)[1] for ln in ALL_LINES if _words(ln)[0] == "make"}
    assert used and used <= targets, f"README uses make targets {used - targets} the Makefile lacks"


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["dvc", "mlflow", "ray"])
def test_other_tools_subcommands_exist(tool: str) -> None:
    exe = shutil.which(tool, path=str(Path(sys.executable).parent))
    assert exe, f"{tool} is not installed in the environment the README assumes (make setup)"
    for line in (ln for ln in ALL_LINES if _words(ln)[0] == tool):
        words = _words(line)
        sub = [w for w in words[1:3] if not w.startswith("-")][:2 if tool == "dvc" and words[1] == "exp" else 1]
        proc = subprocess.run([exe, *sub, "--help"], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"{line!r}: `{tool} {' '.join(sub)} --help` failed: {proc.stderr[-500:]}"
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in proc.stdout, f"{line!r}: {option} not in `{tool} {' '.join(sub)} --help`"


# -- the journeys, run verbatim -------------------------------------------------------------------------


def _workspace(tmp_path: Path, repo_root: Path) -> Path:
    """A fresh clone: the tracked files the journeys need, committed with git, DVC initialised."""
    ws = tmp_path / "clone"
    ws.mkdir()
    for name in ("dvc.yaml", "params.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(repo_root / name, ws / name)
    shutil.copytree(repo_root / ".dvc", ws / ".dvc", ignore=shutil.ignore_patterns("tmp", "cache"))
    shutil.copytree(repo_root / "src", ws / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo_root / "notebooks", ws / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(repo_root / "experiments", ws / "experiments",
                    ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts", "runs"))
    shutil.copytree(repo_root / "data" / "sample", ws / "data" / "sample")
    shutil.copytree(repo_root / "data" / "annotations", ws / "data" / "annotations")
    posts = pd.read_csv(repo_root / "data" / "sample" / "unlabelled.csv", dtype=str, keep_default_na=False)
    posts.head(150).to_csv(ws / "data" / "sample" / "unlabelled.csv", index=False)  # what `dvc repro` and the batch examples score
    (ws / "data" / "raw").mkdir(parents=True)  # where `pantau queue export` writes, as in a clone after make demo
    build_tiny_base(ws / "models" / "base" / "tiny")
    params = yaml.safe_load((ws / "params.yaml").read_text(encoding="utf-8"))
    params["model"]["base"] = "models/base/tiny"
    params["train"].update(epochs=1, max_length=48, early_stopping_patience=1, threads=1)
    params["score"].update(max_length=64, stride=16)
    # Sources under ../shared/data are optional: the clone in a temporary folder trains on the sample.
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    for args in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "clone"]):
        subprocess.run(args, cwd=ws, env=_env(), check=True, capture_output=True)
    return ws


def _env() -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org"}


_EXIT = re.compile(r"\(exit (\d+)\)")


def _expected_exits(name: str) -> list[int]:
    """Per command line of a marked block: N where its comment says ``(exit N)`` (e.g. a refused promotion), else 0."""
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match.group("name") == name:
            raws = [raw for raw in match.group("body").splitlines()
                    if raw.strip() and not raw.lstrip().startswith("#") and raw.split(" #", 1)[0].strip()]
            return [int(m.group(1)) if " #" in raw and (m := _EXIT.search(raw.split(" #", 1)[1])) else 0
                    for raw in raws]
    raise KeyError(name)


def _run_block(name: str, ws: Path, stdin: str = "") -> list[str]:
    (lines,) = [lines for marker, lines in readme_blocks() if marker == name]
    outputs = []
    for line, expected in zip(lines, _expected_exits(name), strict=True):
        proc = subprocess.run(line, shell=True, cwd=ws, env=_env(), input=stdin, capture_output=True, text=True,
                              timeout=900, check=False)
        assert proc.returncode == expected, (
            f"README line ended {proc.returncode}: {line}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        outputs.append(proc.stdout + proc.stderr)
    return outputs


def _queued(ws: Path) -> int:
    import sqlite3

    with sqlite3.connect(ws / "var" / "queue.db") as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


def _exp_metrics(ws: Path) -> dict[str, dict]:
    """`dvc exp show --json`: metrics/test.json of the baseline commit and of each experiment, by name."""
    proc = subprocess.run(["dvc", "exp", "show", "--json"], cwd=ws, env=_env(), capture_output=True, text=True,
                          check=True)
    out: dict[str, dict] = {}
    for commit in json.loads(proc.stdout):
        if commit["rev"] == "workspace":
            continue
        rows = [("HEAD", commit)] + [(e["name"], e["revs"][0]) for e in commit.get("experiments") or []]
        for name, rev in rows:
            data = (rev.get("data") or {}).get("metrics", {}).get("metrics/test.json", {}).get("data")
            out[name] = data
    return out


@pytest.mark.slow
def test_readme_journeys_run_verbatim(tmp_path: Path, repo_root: Path) -> None:
    ws = _workspace(tmp_path, repo_root)

    outputs = _run_block("data-scientist", ws)
    lines = next(lines for marker, lines in readme_blocks() if marker == "data-scientist")
    said = dict(zip(lines, outputs, strict=False))  # the last of two identical lines wins
    # The pipeline enqueued (production); the experiment did not.
    exp_line = next(ln for ln in lines if ln.startswith("dvc exp run"))
    assert "not enqueueing" in said[exp_line]
    assert _queued(ws) > 0
    queued = _queued(ws)
    # The experiment's metrics are in `dvc exp show`, beside the commit's, and differ from them.
    metrics = _exp_metrics(ws)
    assert set(metrics) >= {"HEAD"} and len(metrics) == 2, metrics
    (exp_name,) = set(metrics) - {"HEAD"}
    base, exp = metrics["HEAD"], metrics[exp_name]
    assert base and exp and set(base) == set(exp) == {"rows", "macro_f1", "hate_speech", "abusive",
                                                        "divisive_label", "incitement"}
    assert base != exp
    assert "hate_speech.f1" in said[next(ln for ln in lines if ln.startswith("dvc exp show"))]
    diff = said["dvc metrics diff"]
    assert "macro_f1" in diff and "abusive.roc_auc" in diff
    # The worse challenger (the tiny fine-tune) was refused with the table; the champion kept.
    refusal = said["pantau promote"]
    assert "refused" in refusal and "ΔF1" in refusal
    champion = pd.read_parquet(ws / "data" / "processed" / "champion-predictions")
    assert len(champion) == 150 and set(champion["model_version"]) == {"1"}
    assert (ws / "data" / "processed" / "error_analysis.ipynb").exists()
    # Back at the commit: nothing to commit, nothing enqueued by the experiment.
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ws, env=_env(), capture_output=True, text=True,
                            check=True).stdout
    assert status == "", status
    assert (ws / "metrics" / "test.json").read_text() == json.dumps(base, indent=2) + "\n"
    assert _queued(ws) == queued

    _run_block("batch", ws)
    first = pd.read_parquet(ws / "data" / "processed" / "posts-scored")
    assert len(first) == 150 and first["id"].is_unique  # the repeated command added nothing
    int8 = pd.read_parquet(ws / "data" / "processed" / "posts-int8")
    assert len(int8) == 150
    assert (ws / "var" / "queue.db").exists()

    _run_block("reviewer", ws, stdin="rahasia-lead-123\nrahasia-lead-123\n")
    exported = pd.read_csv(ws / "data" / "raw" / "reviewed.csv")
    assert list(exported.columns[:6]) == ["id", "text", "hate_speech", "abusive", "divisive_label", "incitement"]


def test_text_commands_start_without_heavy_libraries() -> None:
    """`pantau text …` starts in well under 2 s: the CLI imports no torch, transformers, pandas or MLflow."""
    code = ("import sys; from typer.testing import CliRunner; from pantau.cli import app; "
            "r = CliRunner().invoke(app, ['text', 'normalise', 'kadrun bangeeet']); assert r.exit_code == 0; "
            "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'sklearn', 'mlflow', 'sqlalchemy') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout
