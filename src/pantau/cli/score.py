"""``pantau score``: batch scoring from the command line (a thin layer over :mod:`pantau.scoring`).

Exit codes (also in ``pantau score --help`` and the README):

* ``0`` — finished: every input row is in the output or in ``_rejects.csv`` (rejects are normal with
  user data; the manifest counts them). Also when the folder already held this finished run.
* ``1`` — failed while running (unreadable model, I/O error, queue error); rerun the same command to
  resume from the last committed part.
* ``2`` — cannot start as given, found before the model loads: bad option, input not found / empty /
  without its text column / of an unknown format, ``--out`` not a writable folder or in use by another
  run (the message names it), model not found, or the output folder holds a run with other
  inputs/model/settings (the message says which changed; use another ``--out`` or ``--no-resume``).
* ``3`` — finished, but rows were rejected and ``--fail-on-rejects`` was given.
* ``143`` — stopped by SIGTERM (``130``: Ctrl-C) after finishing the batch in hand and committing it;
  one line says so; rerun the same command to resume.

``--quiet`` prints nothing on a run that goes well: no progress bar, summary or INFO lines, nothing from
ONNX Runtime, transformers or Ray; pantau's own warnings (something to act on) and errors still show.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pantau.scoring.options import ScoreOptions

from pantau.cli.common import EXIT_ERROR, EXIT_OK, EXIT_REJECTS, EXIT_USAGE  # re-exported

EXIT_SIGNAL_BASE = 128  # a stopped run exits 128 + the signal number, as a shell reports a signal death


def register(app: typer.Typer) -> None:
    """Add ``pantau score`` to the top-level app."""

    @app.command(
        epilog="Exit codes: 0 finished; 1 failed while running (rerun to resume); 2 cannot start as given; "
        "3 finished with rejects and --fail-on-rejects; 143 stopped by SIGTERM after the batch in hand (rerun "
        "to resume)."
    )
    def score(
        ctx: typer.Context,
        inputs: Annotated[
            list[Path] | None, typer.Argument(help="CSV/TSV/JSONL/Parquet files (default: score.inputs).")
        ] = None,
        model: Annotated[
            str | None,
            typer.Option("--model", "-m", help="Model folder or models:/pantau-classifier@champion."),
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder of part files.")] = None,
        queue: Annotated[
            str | None,
            typer.Option("--queue", help="Database URL: enqueue posts whose risk passes the threshold."),
        ] = None,
        engine: Annotated[str | None, typer.Option(help="local | ray (default: score.engine).")] = None,
        precision: Annotated[str | None, typer.Option(help="fp32 | int8 (default: score.precision).")] = None,
        batch_size: Annotated[int | None, typer.Option(help="Windows per forward pass.")] = None,
        threads: Annotated[int | None, typer.Option(help="Torch threads (0 = all cores).")] = None,
        chunk_rows: Annotated[int | None, typer.Option(help="Posts per part file.")] = None,
        text_column: Annotated[str | None, typer.Option(help="Column holding the post text.")] = None,
        id_column: Annotated[str | None, typer.Option(help="Column holding the post id.")] = None,
        resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out.")] = True,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print nothing but warnings and errors (for jobs).")
        ] = False,
        fail_on_rejects: Annotated[bool, typer.Option(help="Exit 3 when any row was rejected.")] = False,
    ) -> None:
        """Score posts into part files with per-label probabilities, flags, risk and divisive-term spans."""
        from pantau.cli.common import fail, settings_from

        if quiet:
            _quiet_logging()
        _say_missing_params(ctx)
        settings = settings_from(ctx)
        s = settings.score
        queue = _production_queue(queue, quiet=quiet)
        chosen_engine = engine or s.engine
        if chosen_engine not in ("local", "ray"):
            raise typer.BadParameter(f"expected local or ray, got {chosen_engine!r}", param_hint="--engine")
        chosen_precision = precision or s.precision
        if chosen_precision not in ("fp32", "int8"):
            raise typer.BadParameter(
                f"expected fp32 or int8, got {chosen_precision!r}", param_hint="--precision"
            )
        paths = list(inputs) if inputs else [settings.path(p) for p in s.inputs]
        model_source = model or str(settings.path(s.model))
        if not model_source.startswith("models:/"):
            model_source = str(Path(model_source))
        out_dir = out or settings.path(s.out)

        from pantau.scoring.options import ScoreOptions

        try:
            options = ScoreOptions.from_settings(
                settings,
                text_column=text_column or None,
                id_column=id_column,
                chunk_rows=chunk_rows,
                precision=chosen_precision,
                threads=threads,
                batch_size=batch_size,
                queue_url=queue,
                resume=resume,
                progress=not quiet and sys.stderr.isatty(),
            )
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        code = run_score(
            paths,
            model_source,
            out_dir,
            options,
            engine=chosen_engine,
            quiet=quiet,
            fail_on_rejects=fail_on_rejects,
        )
        if code:
            raise typer.Exit(code)


def _quiet_logging() -> None:
    """``--quiet``: nothing on the terminal from a run that goes well (a nightly job mails any output).

    pantau's own warnings stay (each is something to act on); libraries keep only their errors —
    ONNX Runtime's graph-fusion INFO lines on first int8 use, transformers' progress bars, Ray's start-up
    and Ray Data's progress lines, Python warnings raised inside libraries.
    """
    import logging
    import os

    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("pantau").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_OperatorFilter())
    logging.captureWarnings(True)  # warnings.warn → the "py.warnings" logger → kept only as errors
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("ORT_LOGGING_LEVEL", "3")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class _OperatorFilter:
    """A handler filter for ``--quiet``: pantau's warnings and anyone's errors, whatever a library set
    its own logger's level to."""

    def filter(self, record: object) -> bool:
        import logging

        assert isinstance(record, logging.LogRecord)
        floor = logging.WARNING if record.name.split(".")[0] == "pantau" else logging.ERROR
        return record.levelno >= floor


def _say_missing_params(ctx: typer.Context) -> None:
    """One line when the default ``params.yaml`` is not here: every setting is then a built-in default."""
    from pantau.config import DEFAULT_PARAMS

    obj = ctx.ensure_object(dict)
    params = Path(obj.get("params", DEFAULT_PARAMS))
    if params == DEFAULT_PARAMS and not params.exists() and not obj.get("missing_params_said"):
        obj["missing_params_said"] = True
        typer.echo(f"warning: no {DEFAULT_PARAMS} in {Path.cwd()}: using the built-in settings "
                   "(pass --params FILE to use one)", err=True)


def _production_queue(queue: str | None, *, quiet: bool) -> str | None:
    """``--queue`` unless this runs inside ``dvc exp run``: experiments never write into the review queue.

    DVC gives every stage of an experiment ``DVC_EXP_NAME``; ``dvc repro`` (the production pipeline and
    ``make demo``) does not, so there the score stage enqueues as ``dvc.yaml`` says.
    """
    import os

    experiment = os.environ.get("DVC_EXP_NAME")
    if queue and experiment:
        if not quiet:
            typer.echo(f"experiment {experiment}: not enqueueing (experiments never write into the review "
                       "queue; `dvc repro` and `pantau score --queue` do)", err=True)
        return None
    return queue


def run_score(
    paths: list[Path],
    model: str,
    out_dir: Path,
    options: ScoreOptions,
    *,
    engine: str,
    quiet: bool,
    fail_on_rejects: bool,
) -> int:
    """Run the chosen engine and map outcomes to the documented exit codes."""
    from rich.console import Console

    from pantau.cli.common import fail
    from pantau.io import InputError
    from pantau.model.classifier import ClassifierError
    from pantau.model.meta import ModelFolderError
    from pantau.scoring.lock import RunLock
    from pantau.scoring.options import CannotStart, ResumeMismatch, ScoreError, Stopped, load_classifier
    from pantau.scoring.preflight import check_inputs
    from pantau.scoring.sink import QueueSink
    from pantau.scoring.stop import StopSignal

    console = Console(stderr=True)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise fail(f"input file(s) not found: {', '.join(missing)}", EXIT_USAGE)
    lock = RunLock(out_dir)
    try:
        # Before the model loads (20–90 s): what cannot start is said at once, with what to change.
        check_inputs(paths, options)
        lock.acquire()
    except CannotStart as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    sink = QueueSink.from_options(options)
    try:
        # One Classifier and one queue sink for the whole run, whichever engine runs it; a SIGTERM while
        # the model loads stops at once with its one line (the local engine then defers it per batch).
        with StopSignal():
            classifier = load_classifier(model, options)
        if engine == "ray":
            import logging

            from pantau.scoring.ray import quiet_ray_logging, score_files_ray

            # ray.init sets the "ray" loggers' level itself: quiet they keep only errors.
            ray_init = {"logging_level": logging.ERROR} if quiet else None
            if quiet:
                quiet_ray_logging()
            result = score_files_ray(paths, classifier, out_dir, options, sink=sink, ray_init=ray_init)
        else:
            from pantau.scoring.local import score_files

            result = score_files(paths, classifier, out_dir, options, sink=sink)
    except Stopped as exc:
        # The one line a stopped run prints, quiet or not: what was kept and how to go on.
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_SIGNAL_BASE + exc.signum) from None
    except (CannotStart, ResumeMismatch, ClassifierError, ModelFolderError) as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except (ScoreError, InputError, OSError) as exc:
        # Ray runs do not resume: they are started again with --no-resume.
        hint = "rerun with --no-resume to start over" if engine == "ray" else "rerun the same command to resume"
        raise fail(f"{exc} — {hint}", EXIT_ERROR) from None
    finally:
        if sink is not None:
            sink.close()
        lock.release()
    counts = result.manifest["counts"]
    if not quiet:
        rate = result.manifest.get("posts_per_s")
        console.print(
            f"scored {counts['scored']:,} of {counts['read']:,} posts, rejected {counts['rejected']:,}"
            + (f", enqueued {counts['enqueued']:,}" if counts.get("enqueued") else "")
            + (f" ({rate:,.0f} posts/s)" if rate else "")
            + f" → {result.out_dir}"
        )
        if counts["rejected"]:
            console.print(f"rejected rows and reasons: {result.out_dir / '_rejects.csv'}")
    if fail_on_rejects and counts["rejected"]:
        return EXIT_REJECTS
    return EXIT_OK
