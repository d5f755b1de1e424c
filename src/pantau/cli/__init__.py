"""The ``pantau`` command line: a thin layer over library functions.

One module per area (``pantau.cli.<area>``), each with ``register(app)``; they import heavy libraries only
inside the command functions, so ``pantau --help`` stays fast. Shared helpers live in
:mod:`pantau.cli.common`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from pantau.cli import base, complaints, data, model, queue, score, serve, text
from pantau.cli.common import parse_sets

app = typer.Typer(
    name="pantau",
    help="Find provocative content in Indonesian social-media posts and route it to human reviewers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    params: Annotated[Path, typer.Option("--params", "-p", help="Settings file.")] = Path("params.yaml"),
    set_: Annotated[
        list[str], typer.Option("--set", "-S", help="Override a setting: section.key=value (repeatable).")
    ] = [],  # noqa: B006 - typer needs a literal default
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Global options shared by every command."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not verbose:
        # Libraries' progress chatter ("Context impl SQLiteImpl", "Will assume transactional DDL") is not news
        # to the user; their warnings still show.
        for name in ("alembic", "httpx", "urllib3", "mlflow"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # MLflow sets its own level when it is first imported, from this variable.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    ctx.ensure_object(dict).update(params=params, overrides=parse_sets(set_))


for _area in (data, score, base, model, queue, complaints, serve, text):
    _area.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
