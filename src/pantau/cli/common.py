"""What every ``pantau`` command shares: the settings of this invocation, one error style, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from pantau.config import ConfigError, Settings, load_settings

# 0 finished; 1 failed while running (rerun to resume); 2 cannot start as given; 3 finished with rejects
# and --fail-on-rejects.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REJECTS = 0, 1, 2, 3


def settings_from(ctx: typer.Context) -> Settings:
    """The settings the top-level options selected, built once per invocation."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(obj.get("params", Path("params.yaml")), overrides=obj.get("overrides"))
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--params/--set") from None
    return obj["settings"]


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print ``error: message`` to stderr unwrapped and return the Exit to raise (``raise fail(...)``)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def parse_sets(values: list[str]) -> dict[str, Any]:
    """``--set section.key=value`` options as a dict of overrides (values parsed as YAML)."""
    overrides: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE (e.g. train.epochs=1), got {item!r}", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides
