"""The ``pantau`` command line: a thin layer over library functions.

Each area keeps its commands in its own small module (``pantau.<area>.cli_*``) that imports heavy
libraries only inside the command functions, so ``pantau --help`` stays fast.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pantau.config import ConfigError, Settings, load_settings

app = typer.Typer(
    name="pantau",
    help="Find provocative content in Indonesian social-media posts and route it to human reviewers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings the top-level options selected, built once per invocation."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(obj.get("params", Path("params.yaml")), overrides=obj.get("overrides"))
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--params/--set") from None
    return obj["settings"]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` to stderr unwrapped and return the Exit to raise (``raise fail(...)``)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _parse_sets(values: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE (e.g. train.epochs=1), got {item!r}", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


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
    ctx.ensure_object(dict).update(params=params, overrides=_parse_sets(set_))


def _register() -> None:
    from pantau.data.cli_data import register as register_data

    register_data(app)
    __import__("pantau.cli_score").cli_score.register(app)
    app.add_typer(__import__("pantau.model.cli_base").model.cli_base.app, name="base")
    __import__("pantau.model.cli_model").model.cli_model.register(app)
    __import__("pantau.queue.cli_queue").queue.cli_queue.register(app)  # queue, users, serve
    app.add_typer(__import__("pantau.text.cli_text").text.cli_text.app, name="text")
    # Sub-apps of other areas are added here as they land (one line each).


_register()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
