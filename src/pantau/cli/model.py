"""``pantau train``, ``pantau evaluate`` and ``pantau promote``: thin commands over the model library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def _settings(ctx: typer.Context, experiment: Path | None):
    """Settings from the global options, with a named experiment config applied under the --set overrides."""
    from pantau.cli.common import settings_from
    from pantau.config import ConfigError, load_settings
    from pantau.training.run import experiment_overrides

    if experiment is None:
        return settings_from(ctx)
    obj = ctx.ensure_object(dict)
    try:
        overrides = {**experiment_overrides(experiment), **(obj.get("overrides") or {})}
        return load_settings(obj.get("params", Path("params.yaml")), overrides=overrides)
    except (ConfigError, FileNotFoundError, TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--experiment") from None


def _metrics_table(title: str, metrics: dict) -> Table:
    table = Table(title=title)
    for col in ("label", "precision", "recall", "F1", "PR-AUC", "ROC-AUC", "ECE", "threshold"):
        table.add_column(col, justify="right" if col != "label" else "left")

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    for label, m in metrics["labels"].items():
        table.add_row(label, *(fmt(m.get(k)) for k in ("precision", "recall", "f1", "pr_auc", "roc_auc", "ece",
                                                           "threshold")))
    table.add_row("macro", "", "", fmt(metrics["macro_f1"]), "", "", "", "")
    return table


def register(app: typer.Typer) -> None:
    """Add the model commands to the top-level app."""

    @app.command()
    def train(
        ctx: typer.Context,
        kind: Annotated[str | None, typer.Option(help="transformer | baseline | ensemble (default: train.kind).")] = None,
        experiment: Annotated[
            Path | None, typer.Option("--experiment", "-e", help="Named config, e.g. experiments/baseline.yaml.")
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Model folder (default: model.out_dir).")] = None,
        track: Annotated[bool, typer.Option(help="Log the run to MLflow and register the model.")] = True,
        run_name: Annotated[str | None, typer.Option(help="MLflow run name.")] = None,
    ) -> None:
        """Train a model on the prepared splits, calibrate it on validation, register it as challenger."""
        import dataclasses

        from pantau.training.base import BaseModelError
        from pantau.training.data import TrainDataError
        from pantau.training.run import run_training

        settings = _settings(ctx, experiment)
        if kind is not None:
            settings = dataclasses.replace(settings, train=dataclasses.replace(settings.train, kind=kind))
        try:
            run = run_training(settings, track=track, run_name=run_name, out_dir=out)
        except (TrainDataError, BaseModelError, ValueError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        console.print(_metrics_table(f"validation ({run.result.meta.kind})", run.val_metrics))
        timings = run.result.timings
        speed = timings.get("train_samples_per_second")
        console.print(
            f"model: {run.result.folder}; trained in {timings.get('train_seconds', 0):.0f} s"
            + (f" ({speed:.1f} samples/s)" if speed else "")
            + (f"; MLflow run {run.run_id}, {settings.train.registered_model} v{run.version} @challenger"
               if run.run_id else "")
        )

    @app.command()
    def evaluate(
        ctx: typer.Context,
        model: Annotated[
            str | None, typer.Option("--model", "-m", help="Folder or models:/pantau-classifier@champion.")
        ] = None,
        split: Annotated[str | None, typer.Option(help="train | val | test (default: evaluate.split).")] = None,
        data: Annotated[Path | None, typer.Option(help="A labelled parquet file instead of a split.")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Report folder (default: evaluate.out_dir).")] = None,
        track: Annotated[bool, typer.Option(help="Add the metrics to the model's MLflow run.")] = True,
        summary: Annotated[
            Path | None,
            typer.Option(help="Also write the compact, stable-keyed figures DVC compares (e.g. metrics/test.json)."),
        ] = None,
    ) -> None:
        """Per-label precision/recall/F1/PR-AUC/ROC-AUC/ECE, slices and plots for a model on a labelled split."""
        import pandas as pd

        from pantau.model.meta import ModelFolderError
        from pantau.training.data import TrainDataError
        from pantau.training.evaluate import evaluate_model

        settings = settings_from_ctx(ctx)
        source = model or str(settings.path(settings.model.out_dir))
        name = split or settings.evaluate.split
        path = data or settings.path(settings.data.processed_dir) / f"{name}.parquet"
        if not Path(path).exists():
            console.print(f"[red]error:[/red] {path} not found; run `pantau prepare` first")
            raise typer.Exit(1)
        out_dir = out or settings.path(settings.evaluate.out_dir)
        try:
            result = evaluate_model(source, pd.read_parquet(path), out_dir, batch_size=settings.evaluate.batch_size)
        except (TrainDataError, ModelFolderError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        console.print(_metrics_table(f"{name}: {source}", result.metrics))
        if summary is not None:
            write_summary(summary, result.metrics, rows=len(pd.read_parquet(path, columns=["id"])))
        ml = result.slices.get("mention_literal") or {}
        if ml.get("n"):
            console.print(f"mentions/literal uses flagged as divisive_label: {ml['divisive_label_flag_rate']:.1%} "
                          f"of {ml['n']}")
        run_id = result.slices["model"].get("run_id")
        if track and run_id:
            from pantau.model.registry import log_evaluation, tracking_uri_for

            try:
                log_evaluation(run_id, result.metrics, files=result.files, prefix=name,
                               tracking_uri=tracking_uri_for(settings.train.tracking_uri, settings.root))
            except Exception as exc:  # noqa: BLE001 - the report is written; tracking is best effort
                console.print(f"[yellow]warning:[/yellow] could not log to MLflow run {run_id}: {exc}")
        console.print(f"reports: {result.out_dir}")

    @app.command()
    def promote(
        ctx: typer.Context,
        version: Annotated[int | None, typer.Option(help="Version to promote (default: the @challenger).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Promote even when it scores worse than @champion.")] = False,
        split: Annotated[str | None, typer.Option(help="Split both are compared on (default: evaluate.split).")] = None,
    ) -> None:
        """Make a version @champion (scoring loads @champion) if it is at least as good as the current one.

        Both models score the same prepared split; a challenger with a lower macro-F1 is refused (exit 1,
        nothing changes) with the comparison table, unless --force.
        """
        from pantau.model.registry import (
            CHAMPION,
            RegistryError,
            aliases,
            challenger_version,
            tracking_uri_for,
        )
        from pantau.model.registry import promote as do_promote

        settings = settings_from_ctx(ctx)
        uri = tracking_uri_for(settings.train.tracking_uri, settings.root)
        name = settings.train.registered_model
        try:
            candidate = str(version) if version is not None else challenger_version(name=name, tracking_uri=uri)
            champion = aliases(name=name, tracking_uri=uri).get(CHAMPION)
            if champion is not None and champion != candidate:
                verdict = _compare(settings, name, uri, champion, candidate, split or settings.evaluate.split)
                if verdict is not None and not force:
                    console.print(f"[red]refused:[/red] {verdict}; {name}@champion stays v{champion} "
                                  "(`pantau promote --force` promotes it anyway)")
                    raise typer.Exit(1)
            promoted = do_promote(version=candidate, name=name, tracking_uri=uri)
        except RegistryError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        current = aliases(name=name, tracking_uri=uri)
        console.print(f"{name} v{promoted} is @champion; aliases: {current}")


def _compare(settings, name: str, uri: str, champion: str, challenger: str, split: str) -> str | None:
    """Score both versions on the same split, print the table; the reason to refuse, or None."""
    import pandas as pd

    from pantau.model.registry import resolve_model_uri

    path = settings.path(settings.data.processed_dir) / f"{split}.parquet"
    if not path.exists():
        return f"cannot compare with v{champion}: {path} not found (run `pantau prepare`)"
    frame = pd.read_parquet(path)
    figures = {}
    for v in (champion, challenger):
        folder = resolve_model_uri(f"models:/{name}/{v}", tracking_uri=uri)
        figures[v] = split_metrics(folder, frame, batch_size=settings.evaluate.batch_size)
    table = Table(title=f"{split} split ({len(frame)} posts): @champion v{champion} vs challenger v{challenger}")
    for col in ("label", f"F1 v{champion}", f"F1 v{challenger}", "ΔF1", f"ROC-AUC v{champion}",
                f"ROC-AUC v{challenger}"):
        table.add_column(col, justify="left" if col == "label" else "right")

    def fmt(v: float | None, signed: bool = False) -> str:
        return "—" if v is None else (f"{v:+.3f}" if signed else f"{v:.3f}")

    old, new = figures[champion], figures[challenger]
    for label in old["labels"]:
        a, b = old["labels"][label], new["labels"].get(label, {})
        delta = None if a.get("f1") is None or b.get("f1") is None else b["f1"] - a["f1"]
        table.add_row(label, fmt(a.get("f1")), fmt(b.get("f1")), fmt(delta, True), fmt(a.get("roc_auc")),
                      fmt(b.get("roc_auc")))
    macro_delta = None if old["macro_f1"] is None or new["macro_f1"] is None else new["macro_f1"] - old["macro_f1"]
    table.add_row("macro", fmt(old["macro_f1"]), fmt(new["macro_f1"]), fmt(macro_delta, True), "", "")
    console.print(table)
    if new["macro_f1"] is None:
        return f"v{challenger} has no macro-F1 on the {split} split"
    if macro_delta is not None and macro_delta < 0:
        return f"v{challenger} scores worse than @champion v{champion} (macro-F1 {new['macro_f1']:.3f} < " \
               f"{old['macro_f1']:.3f} on the same {split} split)"
    return None


def split_metrics(folder, frame, *, batch_size: int = 64) -> dict:
    """``metrics.json``-shaped figures for a model folder on a labelled frame (nothing written)."""
    from pantau.model.classifier import Classifier
    from pantau.model.meta import load_meta
    from pantau.training.data import label_matrix, validate_frame
    from pantau.training.evaluate import evaluate_predictions

    meta = load_meta(folder)
    frame = validate_frame(frame, meta.labels, name="evaluation split")
    probs = Classifier.load(folder, batch_size=batch_size).predict_proba(frame["text"].tolist())
    return evaluate_predictions(probs, label_matrix(frame, meta.labels), meta.labels, meta.thresholds)


SUMMARY_KEYS = ("f1", "roc_auc", "precision", "recall")


def write_summary(path: Path, metrics: dict, *, rows: int) -> Path:
    """The figures DVC compares across experiments: small, flat per label, the same keys every time.

    ``{"rows": N, "macro_f1": x, "<label>": {"f1", "roc_auc", "precision", "recall"}}`` rounded to 4
    places; null where a label has no annotated positives in the split.
    """
    import json

    from pantau.labels import LABEL_KEYS

    def r(v: float | None) -> float | None:
        return None if v is None else round(float(v), 4)

    out: dict = {"rows": rows, "macro_f1": r(metrics.get("macro_f1"))}
    for label in LABEL_KEYS:
        m = metrics["labels"].get(label, {})
        out[label] = {k: r(m.get(k)) for k in SUMMARY_KEYS}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return path


def settings_from_ctx(ctx: typer.Context):
    """The settings chosen by the global options."""
    from pantau.cli.common import settings_from

    return settings_from(ctx)
