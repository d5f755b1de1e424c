"""What a scoring run takes and gives back: options, the output folder's file names, results and errors.

Every other module of :mod:`pantau.scoring` builds on this one, so it imports nothing heavy: the
Classifier (and with it torch) is imported only inside :func:`load_classifier`, which keeps
``pantau --help`` fast.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pantau.config import CampaignSettings, IOSettings

if TYPE_CHECKING:
    from pantau.config import Settings
    from pantau.model.classifier import Classifier

MANIFEST_FILE = "_manifest.json"
CHECKPOINT_FILE = "_checkpoint.json"
REJECTS_FILE = "_rejects.csv"
PART_PATTERN = "part-{:05d}.parquet"


class ScoreError(RuntimeError):
    """Scoring cannot start or continue; the message says what to do."""


class CannotStart(ScoreError):
    """The run cannot start as given (inputs, output folder, options); found before the model loads."""


class ResumeMismatch(ScoreError):
    """The output folder holds a run made with different inputs, model or settings."""


class Stopped(ScoreError):
    """The run was stopped by a signal after committing what it had scored; the same command resumes it."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


@dataclass(frozen=True)
class ScoreOptions(IOSettings):
    """Everything ``score_files`` needs besides inputs, model and output folder (from ``params.yaml``).

    The reader's settings are :class:`pantau.config.IOSettings` itself (``text_column``, ``id_column``,
    ``chunk_rows`` — one part file per chunk, 10,000 posts by default —, ``max_chars``, ``encoding``);
    the rest are scoring's own.
    """

    chunk_rows: int = 10_000
    precision: str = "fp32"
    int8_verify_margin: float = 0.3
    threads: int = 0
    batch_size: int = 32
    max_length: int | None = None
    stride: int | None = None  # None: the model's own window overlap (the one its thresholds were tuned at)
    cascade: bool = False  # ensembles: posts the baseline member rules out skip the transformer (pantau.model.cascade)
    queue_url: str | None = None
    risk_threshold: float = 0.5
    double_review_risk: float = 0.85
    aging_per_hour: float = 0.01
    resume: bool = True
    progress: bool = False
    # issue 18: an account's confirmed violations raise its later posts' priority (queue.account_boost…);
    # campaigns: assign coordinated-posting campaigns while scoring (None: campaigns.enabled is false).
    account_boost: float = 0.0
    account_boost_max: float = 0.0
    campaigns: CampaignSettings | None = None

    def __post_init__(self) -> None:
        # Named as the command line names them: these are what an operator mistypes.
        if self.chunk_rows < 1:
            raise ValueError(f"--chunk-rows must be ≥ 1, got {self.chunk_rows}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be ≥ 1, got {self.batch_size}")
        if self.threads < 0:
            raise ValueError(f"--threads must be ≥ 0 (0 = all cores), got {self.threads}")
        if not 0.0 <= self.risk_threshold <= 1.0:
            raise ValueError(f"risk_threshold must be within [0, 1], got {self.risk_threshold}")
        super().__post_init__()

    @classmethod
    def from_settings(cls, settings: Settings, **given: Any) -> ScoreOptions:
        """Options from ``params.yaml`` (``io``, ``score``, ``queue``), with ``given`` (not ``None``) on top."""
        s, q = settings.score, settings.queue
        values: dict[str, Any] = {
            **dataclasses.asdict(settings.io),
            "chunk_rows": s.chunk_rows,
            **{k: getattr(s, k) for k in ("precision", "int8_verify_margin", "threads", "batch_size",
                                          "max_length", "stride", "cascade")},
            "risk_threshold": q.risk_threshold,
            "double_review_risk": q.double_review_risk,
            "aging_per_hour": q.aging_per_hour,
            "account_boost": q.account_boost,
            "account_boost_max": q.account_boost_max,
            "campaigns": settings.campaigns if settings.campaigns.enabled else None,
        }
        return cls(**(values | {k: v for k, v in given.items() if v is not None}))

    def reader_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`pantau.io.read_posts` (the IOSettings fields), shared by both engines."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(IOSettings)}

    def classifier_options(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`pantau.model.classifier.Classifier.load`."""
        return {
            "precision": self.precision,
            "int8_verify_margin": self.int8_verify_margin,
            "threads": self.threads,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
            "stride": self.stride,
            "cascade": self.cascade,
        }


@dataclass
class ScoreResult:
    """What a finished run produced."""

    out_dir: Path
    manifest: dict[str, Any]

    @property
    def rejected(self) -> int:
        """Rows that went to the rejects file."""
        return int(self.manifest["counts"]["rejected"])


def load_classifier(model: str | os.PathLike[str] | Classifier, options: ScoreOptions) -> Classifier:
    """The run's one Classifier: ``model`` itself when already loaded, else the folder/URI loaded once."""
    from pantau.model.classifier import Classifier

    if isinstance(model, Classifier):
        return model
    # Classifier.load resolves a models:/ URI to a folder; the engines then use classifier.folder, so
    # the registry is asked once per run.
    return Classifier.load(model, **options.classifier_options())


def input_paths(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The inputs as paths, or :class:`ScoreError` when none is given or one is not a file."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ScoreError("no input files given")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ScoreError(f"input file(s) not found: {', '.join(missing)}")
    return paths


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second (output rows, checkpoints, manifests)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
