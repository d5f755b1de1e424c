"""One training run from settings: splits → fine-tune or baseline → validation report → MLflow.

This is what ``pantau train``, the DVC ``train`` stage and the benchmarks call. The model is written to
a fresh folder beside ``model.out_dir`` and swapped in only when training finished, so an interrupted
run never leaves a half-written model where scoring looks for one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pantau.config import Settings
from pantau.training.augment import masked_term_copies
from pantau.training.data import load_splits, preprocessing_id, subsample
from pantau.training.folder import TrainResult, write_model_card

log = logging.getLogger(__name__)

TRAIN_KINDS = ("transformer", "baseline", "ensemble")


@dataclass(frozen=True)
class TrainingRun:
    """A finished run: the training result, the validation metrics and the registry entry (if tracked)."""

    result: TrainResult
    val_metrics: dict[str, Any]
    run_id: str | None
    version: str | None


def experiment_overrides(path: str | Path) -> dict[str, Any]:
    """Read a named experiment config (a partial params.yaml) as dotted overrides for ``load_settings``."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"experiment config {p} not found (see experiments/*.yaml)")
    raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, Mapping):
        raise TypeError(f"{p}: expected a mapping of params sections")
    out: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value

    walk(raw, "")
    out.pop("description", None)
    return out


def _swap_in(tmp: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    if old.exists():
        shutil.rmtree(old)


def _train_kind(settings: Settings, train: Any, val: Any, out: Path) -> TrainResult:
    """Train ``settings.train.kind`` into ``out`` with the library's trainers."""
    from pantau.training.baseline import train_baseline

    train_s = settings.train

    def baseline(folder: Path) -> TrainResult:
        return train_baseline(train, val, out_dir=folder, settings=train_s, preprocessing=preprocessing_id("classic"))

    def transformer(folder: Path) -> TrainResult:
        from pantau.training.base import resolve_base_model
        from pantau.training.transformer import train_transformer

        base = resolve_base_model(settings.model.base, offline_dir=settings.path(settings.model.offline_dir))
        return train_transformer(train, val, base_model=base, out_dir=folder, settings=train_s,
                                 preprocessing=preprocessing_id(settings.text.pipeline),
                                 base_name=settings.model.base)

    if train_s.kind == "baseline":
        return baseline(out)
    if train_s.kind == "ensemble":
        from pantau.training.ensemble import train_ensemble

        return train_ensemble(train, val, out_dir=out, settings=train_s, train_transformer=transformer,
                              train_baseline=baseline)
    return transformer(out)


def default_run_name(settings: Settings, train: Any, when: datetime) -> str:
    """``recipe · data · time`` for the MLflow run, e.g. ``baseline · sample+ibrohim2019 14,143 rows · 2026-…``.

    The recipe is the kind plus the base model's short name (transformer/ensemble); the time is UTC to the
    second; inside ``dvc exp run`` the experiment's name is added, so runs and experiments match up.
    """
    kind = settings.train.kind
    recipe = kind if kind == "baseline" else f"{kind}-{Path(settings.model.base.rstrip('/')).name}"
    sources = "+".join(sorted(train["source"].astype(str).unique()))
    name = f"{recipe} · {sources} {len(train):,} rows · {when:%Y-%m-%d %H:%M:%S}Z"
    experiment = os.environ.get("DVC_EXP_NAME")
    return f"{name} · exp {experiment}" if experiment else name


def _rewrite_card(folder: Path, result: TrainResult, data: dict[str, Any], test: dict[str, Any] | None,
                  when: datetime) -> None:
    """The model card again, now with rows per source and split, the test figures and the training time."""
    from pantau.model.meta import load_meta

    meta = load_meta(folder)
    write_model_card(folder, meta, params=result.params, sources=sorted(data["train"]["source"].astype(str).unique()),
                     train_rows=len(data["train"]), data=data, test=test, trained_at=f"{when:%Y-%m-%d %H:%M} UTC")


def run_training(settings: Settings, *, track: bool = True, run_name: str | None = None,
                 out_dir: str | Path | None = None) -> TrainingRun:
    """Train the kind in ``settings.train.kind`` on the prepared splits, report on validation, log to MLflow."""
    from pantau.training.evaluate import evaluate_model, plot_history

    train_s = settings.train
    if train_s.kind not in TRAIN_KINDS:
        raise ValueError(f"train.kind must be one of {TRAIN_KINDS}, got {train_s.kind!r}")
    processed = settings.path(settings.data.processed_dir)
    splits = load_splits(processed)
    train = subsample(splits["train"], train_s.max_train_rows, train_s.seed)
    train = masked_term_copies(train, train_s.masked_term_copies, seed=train_s.seed)
    val = splits["val"]
    target = Path(out_dir) if out_dir else settings.path(settings.model.out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        result = _train_kind(settings, train, val, tmp)
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result = dataclasses.replace(result, folder=target)

    trained_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="pantau-val-") as report_dir:
        report = Path(report_dir)
        evaluation = evaluate_model(target, val, report / "val", batch_size=train_s.eval_batch_size)
        (report / "val" / "predictions.parquet").unlink(missing_ok=True)  # raw texts stay out of the store
        plot_history(result.history, report / "val" / "training.png")
        test_metrics = None
        if "test" in splits and len(splits["test"]):
            # Reported in the model card, never used to choose anything.
            test_eval = evaluate_model(target, splits["test"], report / "test", batch_size=train_s.eval_batch_size)
            test_metrics = {**test_eval.metrics, "rows": len(splits["test"])}
        data = {"train": train, "val": val, **({"test": splits["test"]} if test_metrics else {})}
        _rewrite_card(target, result, data, test_metrics, trained_at)
        run_id = version = None
        if track:
            from pantau.model.registry import log_training, tracking_uri_for

            metrics: dict[str, float] = dict(result.timings)
            if test_metrics and test_metrics["macro_f1"] is not None:
                metrics["test_macro_f1"] = test_metrics["macro_f1"]
            if evaluation.metrics["macro_f1"] is not None:
                metrics["val_macro_f1"] = evaluation.metrics["macro_f1"]
            for label, values in evaluation.metrics["labels"].items():
                for key, value in values.items():
                    if value is not None:
                        metrics[f"val_{label}_{key}"] = value
            artifacts: dict[str, Path] = {"val": report / "val"}
            data_report = processed / "report.json"
            if data_report.exists():
                artifacts["data"] = data_report
            params = {"train": dataclasses.asdict(train_s), "model": dataclasses.asdict(settings.model),
                      "text": dataclasses.asdict(settings.text), "used": result.params,
                      "data": {"train_rows": len(train), "val_rows": len(val),
                               "sources": ",".join(sorted(train["source"].astype(str).unique()))}}
            params["train"].pop("tracking_uri", None)
            registered = log_training(
                target, params=params, history=result.history, metrics=metrics, artifacts=artifacts,
                tracking_uri=tracking_uri_for(train_s.tracking_uri, settings.root), experiment=train_s.experiment,
                name=train_s.registered_model, run_name=run_name or default_run_name(settings, train, trained_at),
            )
            run_id, version = registered.run_id, registered.version
    from pantau.model.meta import load_meta

    result = dataclasses.replace(result, meta=load_meta(target))
    return TrainingRun(result, evaluation.metrics, run_id, version)
