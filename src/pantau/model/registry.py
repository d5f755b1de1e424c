"""MLflow: one run per training, the model registered as ``pantau-classifier``, aliases for promotion.

* :func:`log_training` records params, per-epoch metrics, final metrics, the data report, plots and the
  model folder (artifact ``model/``), registers a new version and points the ``challenger`` alias at it.
* :func:`promote` points ``champion`` at a version (by default the current challenger); ``pantau promote``
  first compares it with the current champion on the same split and refuses a worse one.
* :func:`resolve_model_uri` turns ``models:/pantau-classifier@champion`` (or ``models:/NAME/VERSION``) into
  a local model folder for the Classifier.

The default store is a sqlite file (``experiments/mlflow.db``) with artifacts beside it in
``experiments/mlartifacts``; any MLflow tracking URI works.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pantau.model.meta import META_FILE, ModelFolderError, load_meta, save_meta

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///experiments/mlflow.db"
DEFAULT_MODEL_NAME = "pantau-classifier"
CHALLENGER = "challenger"
CHAMPION = "champion"
MODEL_ARTIFACT = "model"
_MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))/?$")


class RegistryError(ValueError):
    """A registry operation cannot be done; the message says why and what to run instead."""


@dataclass(frozen=True)
class RegisteredRun:
    """Where a training run went: the run, the registered version and its artifact location."""

    run_id: str
    experiment_id: str
    name: str
    version: str
    source: str


def tracking_uri_for(uri: str, root: str | os.PathLike[str] = ".") -> str:
    """Make a relative ``sqlite:///path`` absolute against ``root`` (the params file's folder)."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        path = Path(uri[len("sqlite:///") :])
        if not path.is_absolute():
            return "sqlite:///" + str((Path(root) / path).resolve())
    return uri


def _client(tracking_uri: str | None) -> Any:
    from mlflow import MlflowClient

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    uri = tracking_uri_for(uri)
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment_id(client: Any, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    uri = client._tracking_client.tracking_uri
    location = None
    if uri.startswith("sqlite:///"):
        # Artifacts beside the database (git-ignored), not in the current directory's ./mlruns.
        location = (Path(uri[len("sqlite:///") :]).parent / "mlartifacts").resolve().as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)[:500]
    return out


def log_training(
    folder: str | Path,
    *,
    params: Mapping[str, Any],
    history: list[dict[str, float]] | None = None,
    metrics: Mapping[str, float] | None = None,
    artifacts: Mapping[str, str | Path] | None = None,
    tracking_uri: str | None = None,
    experiment: str = "pantau",
    name: str = DEFAULT_MODEL_NAME,
    run_name: str | None = None,
    alias: str = CHALLENGER,
) -> RegisteredRun:
    """Log one training run and register its model folder; the folder's meta gets the run id and version.

    ``history`` holds one dict per epoch (``epoch`` plus metrics, logged with the epoch as step);
    ``artifacts`` maps an artifact sub-folder to a file or folder (e.g. ``{"data": "report.json"}``).
    """
    from mlflow.entities import Metric, Param

    folder = Path(folder)
    meta = load_meta(folder)
    client = _client(tracking_uri)
    exp_id = _experiment_id(client, experiment)
    run = client.create_run(exp_id, run_name=run_name, tags={"pantau.kind": meta.kind, "pantau.base": meta.base_model})
    run_id = run.info.run_id
    try:
        flat = _flatten(params)
        flat.update({"labels": ",".join(meta.labels), "preprocessing": meta.preprocessing,
                     "data_fingerprint": meta.data_fingerprint, "max_length_used": str(meta.max_length)})
        items = [Param(k, v) for k, v in sorted(flat.items())]
        for start in range(0, len(items), 90):  # MLflow caps params per batch at 100
            client.log_batch(run_id, params=items[start : start + 90])
        points = []
        for row in history or []:
            step = round(float(row.get("epoch", 0)))
            points += [Metric(k, float(v), 0, step) for k, v in row.items() if k != "epoch" and _finite(v)]
        points += [Metric(k, float(v), 0, 0) for k, v in (metrics or {}).items() if _finite(v)]
        for start in range(0, len(points), 500):
            client.log_batch(run_id, metrics=points[start : start + 500])
        for sub, path in (artifacts or {}).items():
            p = Path(path)
            if p.is_dir():
                client.log_artifacts(run_id, str(p), sub)
            elif p.exists():
                client.log_artifact(run_id, str(p), sub)
            else:
                log.warning("artifact %s not found; not logged", p)
        source = f"{run.info.artifact_uri.rstrip('/')}/{MODEL_ARTIFACT}"
        if not _registered(client, name):
            client.create_registered_model(name, description="Indonesian provocative-content classifier (pantau)")
        mv = client.create_model_version(name, source=source, run_id=run_id, await_creation_for=0)
        version = str(mv.version)
        # The folder describes itself: name, version and run travel with the weights.
        save_meta(folder, dataclasses.replace(meta, name=name, version=version, run_id=run_id))
        client.log_artifacts(run_id, str(folder), MODEL_ARTIFACT)
        client.set_registered_model_alias(name, alias, version)
        client.set_terminated(run_id, "FINISHED")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    log.info("logged run %s; registered %s version %s as @%s", run_id, name, version, alias)
    return RegisteredRun(run_id, exp_id, name, version, source)


def log_evaluation(
    run_id: str, metrics: Mapping[str, Any], *, files: Mapping[str, str | Path] | None = None, prefix: str = "test",
    tracking_uri: str | None = None,
) -> None:
    """Add an evaluation (``metrics.json`` shape) and its files to an existing run, e.g. the model's own."""
    from mlflow.entities import Metric

    client = _client(tracking_uri)
    points = []
    if _finite(metrics.get("macro_f1")):
        points.append(Metric(f"{prefix}_macro_f1", float(metrics["macro_f1"]), 0, 0))
    for label, values in (metrics.get("labels") or {}).items():
        points += [Metric(f"{prefix}_{label}_{k}", float(v), 0, 0) for k, v in values.items() if _finite(v)]
    if points:
        client.log_batch(run_id, metrics=points)
    for path in (files or {}).values():
        if Path(path).is_file():
            client.log_artifact(run_id, str(path), prefix)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _registered(client: Any, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
        return True
    except MlflowException:
        return False


def promote(
    *, version: str | int | None = None, name: str = DEFAULT_MODEL_NAME, tracking_uri: str | None = None,
    alias: str = CHAMPION, from_alias: str = CHALLENGER,
) -> str:
    """Point ``alias`` (``champion``) at ``version``, or at the current ``challenger``; return the version."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        if version is None:
            version = client.get_model_version_by_alias(name, from_alias).version
        else:
            client.get_model_version(name, str(version))
    except MlflowException as exc:
        what = f"version {version}" if version is not None else f"alias @{from_alias}"
        raise RegistryError(f"{name} has no {what}; train a model with `pantau train` first") from exc
    client.set_registered_model_alias(name, alias, str(version))
    log.info("%s@%s → version %s", name, alias, version)
    return str(version)


def challenger_version(*, name: str = DEFAULT_MODEL_NAME, tracking_uri: str | None = None,
                       alias: str = CHALLENGER) -> str:
    """The version ``@challenger`` points at (the latest training run); RegistryError when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        return str(_client(tracking_uri).get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        raise RegistryError(f"{name} has no alias @{alias}; train a model with `pantau train` first") from exc


def aliases(*, name: str = DEFAULT_MODEL_NAME, tracking_uri: str | None = None) -> dict[str, str]:
    """The registered model's aliases → versions (empty when nothing is registered)."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        return {k: str(v) for k, v in client.get_registered_model(name).aliases.items()}
    except MlflowException:
        return {}


def resolve_model_uri(
    uri: str, *, tracking_uri: str | None = None, cache_dir: str | Path | None = None
) -> Path:
    """A local model folder for ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.

    Local artifact stores are used in place; remote ones are downloaded once into ``cache_dir``
    (default: a ``pantau-models`` folder in the temp directory), keyed by name and version.
    """
    from mlflow.exceptions import MlflowException

    match = _MODEL_URI.match(uri)
    if not match:
        raise RegistryError(f"{uri!r} is not a model URI; expected models:/NAME@ALIAS or models:/NAME/VERSION")
    name, alias, version = match["name"], match["alias"], match["version"]
    client = _client(tracking_uri)
    try:
        mv = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except MlflowException as exc:
        raise RegistryError(
            f"{uri}: not found in the registry at {client._tracking_client.tracking_uri} "
            "(train with `pantau train`, promote with `pantau promote`, or set MLFLOW_TRACKING_URI)"
        ) from exc
    source = str(mv.source)
    parsed = urlparse(source)
    if parsed.scheme in ("", "file"):
        folder = Path(unquote(parsed.path))
        if (folder / META_FILE).exists():
            return folder
    target = Path(cache_dir or Path(tempfile.gettempdir()) / "pantau-models") / name / str(mv.version)
    if (target / META_FILE).exists():
        return target
    import mlflow.artifacts

    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=_mkdir(target.parent)))
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(tmp),
                                                         tracking_uri=client._tracking_client.tracking_uri))
        if not (local / META_FILE).exists():
            raise ModelFolderError(f"{uri} (version {mv.version}) has no {META_FILE}; it is not a pantau model")
        shutil.move(str(local), str(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
