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
    for col in ("label", "precision", "recall", "F1", "PR-AUC", "ECE", "threshold"):
        table.add_column(col, justify="right" if col != "label" else "left")

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    for label, m in metrics["labels"].items():
        table.add_row(label, *(fmt(m[k]) for k in ("precision", "recall", "f1", "pr_auc", "ece", "threshold")))
    table.add_row("macro", "", "", fmt(metrics["macro_f1"]), "", "", "")
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
    ) -> None:
        """Per-label precision/recall/F1/PR-AUC/ECE, slices and plots for a model on a labelled split."""
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
    ) -> None:
        """Point the registered model's @champion alias at a version (scoring loads @champion)."""
        from pantau.model.registry import RegistryError, aliases, tracking_uri_for
        from pantau.model.registry import promote as do_promote

        settings = settings_from_ctx(ctx)
        uri = tracking_uri_for(settings.train.tracking_uri, settings.root)
        try:
            promoted = do_promote(version=version, name=settings.train.registered_model, tracking_uri=uri)
        except RegistryError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        current = aliases(name=settings.train.registered_model, tracking_uri=uri)
        console.print(f"{settings.train.registered_model} v{promoted} is @champion; aliases: {current}")


def settings_from_ctx(ctx: typer.Context):
    """The settings chosen by the global options."""
    from pantau.cli.common import settings_from

    return settings_from(ctx)
