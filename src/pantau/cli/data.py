"""``pantau prepare``: the data commands."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pantau.labels import LABEL_KEYS


def register(app: typer.Typer) -> None:
    """Add the data commands to the top-level app."""

    @app.command()
    def prepare(ctx: typer.Context) -> None:
        """Load the corpora in params.yaml, deduplicate, split into train/val/test and write a data report."""
        from pantau.cli.common import fail, settings_from
        from pantau.data.prepare import prepare as run_prepare
        from pantau.data.sources import CorpusError
        from pantau.io import InputError

        settings = settings_from(ctx)
        console = Console(stderr=True)
        try:
            with console.status("preparing corpora…"):
                result = run_prepare(settings)
        except (CorpusError, InputError) as exc:
            raise fail(str(exc)) from None
        rows = result.report["rows"]
        dedup = result.report["dedup"]
        console.print(
            f"read {rows['read']} rows, rejected {rows['rejected']} (see {result.rejects_path}), "
            f"removed {rows['removed_as_duplicates']} duplicates "
            f"({dedup['exact_duplicates']} exact, {dedup['near_duplicates']} near, {dedup['conflicts']} conflicting "
            f"groups resolved by rule '{dedup['conflict_rule']}'), kept {rows['kept']}"
        )
        table = Table(title="positives / known per label")
        table.add_column("split")
        table.add_column("rows", justify="right")
        for key in LABEL_KEYS:
            table.add_column(key, justify="right")
        for name, info in result.report["splits"].items():
            cells = [f"{v['positive']}/{v['positive'] + v['negative']}" for v in info["labels"].values()]
            table.add_row(name, str(info["rows"]), *cells)
        console.print(table)
        console.print(f"splits: {', '.join(str(p) for p in result.paths.values())}; report: {result.report_path}")
