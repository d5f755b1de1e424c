"""``pantau text``: try the preprocessing on a few posts (arguments, or one post per stdin line)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

app = typer.Typer(help="Text preprocessing: normalise, pipelines, divisive-term spans.", no_args_is_help=True)


def _posts(posts: list[str]) -> list[str]:
    return posts or [line.rstrip("\n") for line in sys.stdin]


@app.command()
def normalise(
    ctx: typer.Context,
    posts: Annotated[
        list[str] | None, typer.Argument(help="Posts; read from stdin (one per line) when absent.")
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option(help="transformer | classic (default: text.pipeline).")
    ] = None,
) -> None:
    """Print each post as the chosen pipeline sees it (settings from params.yaml: lowercase, slang, kamusalay)."""
    from pantau.cli.common import settings_from
    from pantau.text import preprocess

    text = settings_from(ctx).text
    try:
        out = preprocess(
            _posts(posts or []),
            pipeline or text.pipeline,
            lowercase=text.lowercase,
            slang=text.slang,
            kamusalay_path=text.kamusalay_path,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pipeline") from None
    for line in out:
        typer.echo(line)


@app.command()
def spans(
    posts: Annotated[
        list[str] | None, typer.Argument(help="Posts; read from stdin (one per line) when absent.")
    ] = None,
) -> None:
    """Print the divisive-term spans of each post as one JSON object per line (offsets into the post)."""
    from dataclasses import asdict

    from pantau.text import find_spans

    for post in _posts(posts or []):
        typer.echo(
            json.dumps({"text": post, "spans": [asdict(s) for s in find_spans(post)]}, ensure_ascii=False)
        )


def register(root: typer.Typer) -> None:
    """Add ``text`` to the top-level app."""
    root.add_typer(app, name="text")
