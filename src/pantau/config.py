"""Typed settings built once from ``params.yaml`` (plus documented environment overrides).

Configuration flows one way: ``params.yaml`` → :class:`Settings` → functions taking plain arguments.
Nothing here runs on import; call :func:`load_settings` once at the edge (the CLI, a DVC stage, a test).

Environment overrides (applied after the file, before validation):

* ``PANTAU_<SECTION>__<KEY>=value`` sets ``<section>.<key>``; values are parsed as YAML, so
  ``PANTAU_TRAIN__EPOCHS=2`` is an int and ``PANTAU_TEXT__SLANG=false`` a bool.
* ``PANTAU_DATABASE_URL`` is a short alias for ``PANTAU_QUEUE__DATABASE_URL``.
* ``MLFLOW_TRACKING_URI`` overrides ``train.tracking_uri`` (MLflow's own convention).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """A settings file or override is invalid; the message says which key and what is expected."""


def _one_of(where: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, choices))}")


def _within(where: str, value: float | None, low: float, high: float = float("inf")) -> None:
    if value is not None and not low <= value <= high:
        bound = f"[{low}, {high}]" if high != float("inf") else f"≥ {low}"
        raise ConfigError(f"{where}: {value} must be {bound}")


@dataclass(frozen=True)
class SourceSettings:
    """One labelled corpus fed to ``pantau prepare``."""

    name: str
    kind: str  # sample | ibrohim2019 | annotations | csv | reviewed
    path: str
    weight: float = 1.0
    required: bool = True
    text_column: str = "text"
    id_column: str | None = None
    label_columns: dict[str, str] = field(default_factory=dict)  # corpus column -> label key (kind=csv)
    corpus_root: str = "../shared/data"  # kind=annotations: where the annotated corpora are read from


@dataclass(frozen=True)
class SplitSettings:
    val: float = 0.15
    test: float = 0.15
    seed: int = 13


@dataclass(frozen=True)
class DataSettings:
    sources: tuple[SourceSettings, ...] = ()
    processed_dir: str = "data/processed"
    split: SplitSettings = SplitSettings()
    conflict_rule: str = "max"  # how duplicate texts with conflicting labels are resolved: max | drop

    def __post_init__(self) -> None:
        _one_of("data.conflict_rule", self.conflict_rule, ("max", "drop"))


@dataclass(frozen=True)
class IOSettings:
    text_column: str = "text"
    id_column: str | None = "id"
    chunk_rows: int = 50_000
    max_chars: int = 20_000
    encoding: str = "utf-8"
    # Who posted, where and when (issue 18 §1): read into ``author``, ``url`` and ``created_at`` when the
    # input has these columns; missing ones are said so in the run's manifest and on the account pages.
    author_column: str | None = "author"
    url_column: str | None = "url"
    time_column: str | None = "created_at"

    def __post_init__(self) -> None:
        _within("io.chunk_rows", self.chunk_rows, 1)
        _within("io.max_chars", self.max_chars, 1)


@dataclass(frozen=True)
class TextSettings:
    pipeline: str = "transformer"  # transformer | classic
    lowercase: bool = True
    slang: bool = True
    kamusalay_path: str | None = None

    def __post_init__(self) -> None:
        _one_of("text.pipeline", self.pipeline, ("transformer", "classic"))


@dataclass(frozen=True)
class ModelSettings:
    base: str = "e5-small-offline"
    offline_dir: str = "models/base/e5-small"
    out_dir: str = "models/pantau-classifier"


@dataclass(frozen=True)
class TrainSettings:
    kind: str = "transformer"  # transformer | baseline | ensemble (both, blended per label)
    epochs: float = 3.0
    learning_rate: float = 5e-5
    batch_size: int = 32
    max_length: int = 128
    freeze_embeddings: bool = True
    # Baseline mention-vs-use evidence for divisive_label: hand-written cue lists and/or a model of the
    # masked words around each term (pantau.model.span).
    mention_cues: bool = True
    span_context: bool = False
    # Weight of counterfactual copies with each divisive term swapped for a made-up word, so nicknames
    # the lexicon does not know can still be caught (pantau.training.augment); 0 = none.
    masked_term_copies: float = 0.0
    freeze_layers: int = 0  # also freeze the bottom N encoder layers: no backward through them (CPU speed)
    pos_weight: bool = True
    early_stopping_patience: int = 2
    seed: int = 13
    threshold_objective: str = "f1"  # f1 | precision
    target_precision: float = 0.8
    # Decision thresholds are tuned on the validation rows of these data.sources only (temperatures and
    # blend weights on every row): the posts the desk will see, not our own sample. Empty: every row.
    threshold_sources: tuple[str, ...] = ()
    max_train_rows: int | None = None
    tracking_uri: str = "sqlite:///experiments/mlflow.db"
    experiment: str = "pantau"
    registered_model: str = "pantau-classifier"
    # Fine-tuning details (pantau.training.transformer); the baseline ignores them.
    eval_batch_size: int = 64
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    dropout: float = 0.1
    head_lr_multiplier: float = 10.0  # the fresh head learns this many times faster than the encoder
    pos_weight_cap: float = 10.0
    # Training truncates at this percentile of train token lengths (speed); null: at max_length, the
    # window the model is scored, calibrated and thresholded in.
    length_percentile: float | None = None
    group_by_length: bool = True
    bf16: bool = False  # bf16 autocast on CPU (needs AVX-512 BF16 / AMX to be faster)
    threads: int = 0  # torch threads; 0 = all cores

    def __post_init__(self) -> None:
        _one_of("train.kind", self.kind, ("transformer", "baseline", "ensemble"))
        _one_of("train.threshold_objective", self.threshold_objective, ("f1", "precision"))
        _within("train.target_precision", self.target_precision, 0.0, 1.0)
        _within("train.epochs", self.epochs, 0.0)
        _within("train.learning_rate", self.learning_rate, 0.0, 1.0)
        _within("train.batch_size", self.batch_size, 1)
        _within("train.max_length", self.max_length, 8)
        _within("train.length_percentile", self.length_percentile, 1.0, 100.0)
        _within("train.dropout", self.dropout, 0.0, 1.0)
        _within("train.masked_term_copies", self.masked_term_copies, 0.0)


@dataclass(frozen=True)
class EvaluateSettings:
    out_dir: str = "data/processed/eval"
    split: str = "test"  # which prepared split `pantau evaluate` reads
    batch_size: int = 64


@dataclass(frozen=True)
class ScoreSettings:
    inputs: tuple[str, ...] = ("data/sample/unlabelled.csv",)
    out: str = "data/processed/predictions"
    model: str = "models/pantau-classifier"
    batch_size: int = 32
    max_length: int | None = None  # None: the model's own window (the one its thresholds were tuned at)
    stride: int | None = None  # None: the model's own overlap
    precision: str = "fp32"  # fp32 | int8
    int8_verify_margin: float = 0.3  # int8 scores this close (log-odds) to a threshold are redone in fp32
    threads: int = 0  # 0 = all cores
    engine: str = "local"  # local | ray
    chunk_rows: int = 10_000
    # Ensemble folders: posts the baseline member rules out skip the transformer member, by the rule tuned
    # on validation and recorded in the folder (pantau.model.cascade).
    cascade: bool = False

    def __post_init__(self) -> None:
        _one_of("score.precision", self.precision, ("fp32", "int8"))
        if not isinstance(self.cascade, bool):
            raise ConfigError(f"score.cascade must be true or false, got {self.cascade!r}")
        _one_of("score.engine", self.engine, ("local", "ray"))
        _within("score.batch_size", self.batch_size, 1)
        _within("score.chunk_rows", self.chunk_rows, 1)
        _within("score.max_length", self.max_length, 8)
        _within("score.stride", self.stride, 0)
        _within("score.int8_verify_margin", self.int8_verify_margin, 0.0, 20.0)


@dataclass(frozen=True)
class QueueSettings:
    database_url: str = "sqlite:///var/queue.db"
    risk_threshold: float = 0.5
    double_review_risk: float = 0.85
    lease_minutes: int = 15
    aging_per_hour: float = 0.01
    claim_batch: int = 1  # items one "claim" (c) takes for a reviewer
    undo_seconds: int = 300  # how long "undo my last decision" stays open (if nobody else acted on the item)
    # An account's later posts rank higher by this much per earlier post of it a reviewer confirmed as a
    # violation (warn/takedown), at most account_boost_max in all; applied when a post is enqueued.
    account_boost: float = 0.05
    account_boost_max: float = 0.2

    def __post_init__(self) -> None:
        _within("queue.risk_threshold", self.risk_threshold, 0.0, 1.0)
        _within("queue.double_review_risk", self.double_review_risk, 0.0, 1.0)
        _within("queue.lease_minutes", self.lease_minutes, 1)
        _within("queue.aging_per_hour", self.aging_per_hour, 0.0)
        _within("queue.claim_batch", self.claim_batch, 1, 50)
        _within("queue.undo_seconds", self.undo_seconds, 0)
        _within("queue.account_boost", self.account_boost, 0.0, 1.0)
        _within("queue.account_boost_max", self.account_boost_max, 0.0, 1.0)


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    secret_file: str = "var/secret_key"
    secure_cookies: bool = False  # true when served over HTTPS (behind a TLS proxy): cookies get `Secure`
    session_hours: float = 12.0
    max_body_bytes: int = 262144  # request bodies larger than this get 413 (a decision note needs < 64 KiB)

    def __post_init__(self) -> None:
        _within("serve.max_body_bytes", self.max_body_bytes, 1024, 16 * 1024 * 1024)


@dataclass(frozen=True)
class CampaignSettings:
    """Near-duplicate campaigns (pantau.campaigns): MinHash/LSH over normalised text, per time window."""

    enabled: bool = False  # true: `pantau score` assigns campaigns as it scores (one index per run folder)
    threshold: float = 0.6  # estimated Jaccard of two posts' shingle sets for them to be near-duplicates
    num_perm: int = 128  # MinHash permutations (more: a finer Jaccard estimate, more memory per post)
    shingle_unit: str = "char"  # char | word: what a shingle is made of
    shingle_size: int = 5  # characters (or words) per shingle
    min_tokens: int = 5  # posts with fewer words after normalising are not clustered ("mantap gan")
    window_hours: float = 48.0  # near-duplicates count together only within this many hours
    min_accounts: int = 3  # distinct accounts a cluster needs to be a campaign
    max_posts: int = 2_000_000  # posts kept in the index at most (oldest out first; bounds memory)

    def __post_init__(self) -> None:
        _within("campaigns.threshold", self.threshold, 0.05, 0.99)
        _within("campaigns.num_perm", self.num_perm, 16, 1024)
        _one_of("campaigns.shingle_unit", self.shingle_unit, ("char", "word"))
        _within("campaigns.shingle_size", self.shingle_size, 1, 20)
        _within("campaigns.min_tokens", self.min_tokens, 1)
        if not self.window_hours > 0:
            raise ConfigError(f"campaigns.window_hours: {self.window_hours} must be > 0")
        _within("campaigns.min_accounts", self.min_accounts, 2)
        _within("campaigns.max_posts", self.max_posts, 1)


@dataclass(frozen=True)
class ComplaintSettings:
    """The public complaint desk (posko aduan, pantau.queue.complaints): priority, limits, retention."""

    model: str | None = None  # the model that scores complaints; None: score.model (the deployed one)
    priority_floor: float = 0.5  # a complaint ranks at least here, whatever the model says
    per_report_boost: float = 0.05  # added per further report of the same post …
    max_report_boost: float = 0.25  # … up to this much
    per_client_per_hour: int = 10  # reports one client may file in an hour
    total_per_hour: int = 600  # reports everyone together may file in an hour
    max_text_chars: int = 5000  # pasted post text
    max_details_chars: int = 1000  # the reporter's own description
    retention_days: int = 90  # contact details are erased this many days after the report

    def __post_init__(self) -> None:
        _within("complaints.priority_floor", self.priority_floor, 0.0, 1.0)
        _within("complaints.per_report_boost", self.per_report_boost, 0.0, 1.0)
        _within("complaints.max_report_boost", self.max_report_boost, 0.0, 1.0)
        _within("complaints.per_client_per_hour", self.per_client_per_hour, 1, 10_000)
        _within("complaints.total_per_hour", self.total_per_hour, 1, 10_000_000)
        if self.total_per_hour < self.per_client_per_hour:
            raise ConfigError("complaints.total_per_hour must be at least complaints.per_client_per_hour")
        _within("complaints.max_text_chars", self.max_text_chars, 100, 100_000)
        _within("complaints.max_details_chars", self.max_details_chars, 0, 10_000)
        _within("complaints.retention_days", self.retention_days, 1, 3650)


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline reads, one section per stage."""

    data: DataSettings = DataSettings()
    io: IOSettings = IOSettings()
    text: TextSettings = TextSettings()
    model: ModelSettings = ModelSettings()
    train: TrainSettings = TrainSettings()
    evaluate: EvaluateSettings = EvaluateSettings()
    score: ScoreSettings = ScoreSettings()
    queue: QueueSettings = QueueSettings()
    serve: ServeSettings = ServeSettings()
    campaigns: CampaignSettings = CampaignSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    root: str = "."  # folder relative paths are resolved against (the params file's folder)

    def __post_init__(self) -> None:
        names = {source.name for source in self.data.sources}
        unknown = [name for name in self.train.threshold_sources if name not in names]
        if names and unknown:
            raise ConfigError(f"train.threshold_sources names {', '.join(map(repr, unknown))}, not a data.sources name "
                              f"({', '.join(sorted(names))})")

    def path(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path from the settings against the params file's folder."""
        p = Path(value)
        return p if p.is_absolute() else Path(self.root) / p


_ENV_ALIASES = {"PANTAU_DATABASE_URL": ("queue", "database_url"), "MLFLOW_TRACKING_URI": ("train", "tracking_uri")}


def load_settings(
    path: str | os.PathLike[str] | None = DEFAULT_PARAMS,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read ``params.yaml`` (missing file → defaults), apply env and explicit overrides, validate.

    ``overrides`` uses dotted keys (``{"train.epochs": 1}``) and wins over the environment.
    """
    raw: dict[str, Any] = {}
    root = Path(".")
    if path is not None:
        p = Path(path)
        if p.exists():
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"{p}: expected a mapping of sections at the top level")
            raw = loaded
            root = p.parent
        elif p != DEFAULT_PARAMS:
            raise ConfigError(f"settings file {p} not found")
    env = os.environ if env is None else env
    for name, value in env.items():
        if name in _ENV_ALIASES:
            _set_dotted(raw, _ENV_ALIASES[name], yaml.safe_load(value))
        elif name.startswith("PANTAU_") and "__" in name:
            section, _, key = name[len("PANTAU_") :].lower().partition("__")
            _set_dotted(raw, (section, *key.split("__")), yaml.safe_load(value))
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, tuple(dotted.split(".")), value)
    raw.setdefault("root", str(root))
    return _build(Settings, raw, "")


def _set_dotted(raw: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    node = raw
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {'.'.join(keys)}: {key} is not a section")
    node[keys[-1]] = value


def _build(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where or 'settings'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ConfigError(
            f"{where or 'settings'}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"valid keys: {', '.join(sorted(names))}"
        )
    kwargs = {name: _coerce(hints[name], raw[name], f"{where}.{name}".lstrip(".")) for name in raw}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where or 'settings'}: {exc}") from None


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            value = [value]
        (item_tp, *_) = typing.get_args(tp)
        return tuple(_coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, str):
            value = _number_text(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if tp is int and float(value) != int(value):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return tp(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return str(value)
    return value


# YAML 1.1 (PyYAML) reads only ``5.0e-5`` as a float; ``3e-05`` (what DVC and other YAML 1.2 writers emit for
# ``dvc exp run -S train.learning_rate=3e-5``), ``1E-4`` and ``.5`` arrive as text.
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _number_text(value: str) -> Any:
    """A number written as text (``"3e-05"``, ``"1E-4"``, ``" 7 "``) as an int or float; other text unchanged."""
    text = value.strip().replace("_", "")
    if not _NUMBER.match(text):
        return value
    number = float(text)
    return int(number) if number.is_integer() and not any(c in text for c in ".eE") else number
