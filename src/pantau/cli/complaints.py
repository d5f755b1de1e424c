"""``pantau complaints …``: the public complaint desk's upkeep (contacts erased after the retention period)."""

from __future__ import annotations

from typing import Annotated

import typer

from pantau.cli.common import fail, settings_from
from pantau.cli.queue import engine_for

complaints_app = typer.Typer(help="The public complaint desk (posko aduan, /aduan).", no_args_is_help=True)


@complaints_app.command("purge")
def purge(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(help="Erase contacts older than this many days. Default complaints.retention_days."),
    ] = None,
) -> None:
    """Erase reporters' contacts older than complaints.retention_days (run daily, e.g. from cron).

    The web app also runs this whenever a report is filed; this command covers quiet periods."""
    from pantau.queue.complaints import purge_contacts

    retention = days if days is not None else settings_from(ctx).complaints.retention_days
    if retention < 1:
        raise fail("--days must be at least 1", 2)
    erased = purge_contacts(engine_for(ctx), retention)
    typer.echo(f"erased {erased} contact(s) older than {retention} day(s)")


def register(app: typer.Typer) -> None:
    """Add ``complaints`` to the top-level app."""
    app.add_typer(complaints_app, name="complaints")
