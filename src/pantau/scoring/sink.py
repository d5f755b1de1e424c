"""The review queue as a scoring run sees it: one :class:`QueueSink` per run, reused for every chunk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Self

from pantau.scoring.options import ScoreError, ScoreOptions

log = logging.getLogger(__name__)


class QueueSink:
    """Enqueues scored rows into the queue database: one engine per process, migrated once per run.

    Pickled into Ray actors: a database engine holds connections that cannot cross processes, so the
    copy drops it and opens its own on first use. The engine opens the sink before the actors start,
    so the migrations run there once and each actor's check finds the schema already at head (two
    upgrades racing on one SQLite file could otherwise collide).
    """

    def __init__(
        self,
        database_url: str,
        *,
        risk_threshold: float,
        double_review_risk: float = 0.85,
        aging_per_hour: float = 0.01,
        account_boost: float = 0.0,
        account_boost_max: float = 0.0,
    ):
        self.database_url = database_url
        self.risk_threshold = risk_threshold
        self.double_review_risk = double_review_risk
        self.aging_per_hour = aging_per_hour
        self.account_boost = account_boost
        self.account_boost_max = account_boost_max
        self._engine: Any = None

    @classmethod
    def from_options(cls, options: ScoreOptions) -> QueueSink | None:
        """A sink for ``options.queue_url``, or ``None`` when the run does not enqueue.

        Not opened yet: an engine opens it once it knows there is work, so a run that is already
        finished does not touch the database.
        """
        if not options.queue_url:
            return None
        return cls(
            options.queue_url,
            risk_threshold=options.risk_threshold,
            double_review_risk=options.double_review_risk,
            aging_per_hour=options.aging_per_hour,
            account_boost=options.account_boost,
            account_boost_max=options.account_boost_max,
        )

    def open(self) -> QueueSink:
        """Create the engine and bring the schema up to date (once per process; later calls do nothing)."""
        if self._engine is not None:
            return self
        try:
            from sqlalchemy.exc import SQLAlchemyError

            from pantau.queue import open_queue
        except ImportError as exc:
            raise ScoreError(f"--queue needs pantau.queue, which is not available ({exc})") from exc
        try:
            self._engine = open_queue(self.database_url)
        except (SQLAlchemyError, ValueError) as exc:
            # The URL is not repeated: it may carry a password, and this message reaches logs.
            raise ScoreError(f"cannot open the queue database: {exc}") from exc
        return self

    def put(self, rows: Sequence[dict[str, Any]], model_version: str) -> int:
        """Enqueue rows whose risk passes the threshold; returns how many are now queued with these scores."""
        from pantau.queue import enqueue

        result = enqueue(
            self.open()._engine,
            rows,
            model_version=model_version,
            risk_threshold=self.risk_threshold,
            double_review_risk=self.double_review_risk,
            aging_per_hour=self.aging_per_hour,
            account_boost=self.account_boost,
            account_boost_max=self.account_boost_max,
        )
        if result.rejected:
            log.warning("the queue refused %d row(s), e.g. %s", len(result.rejected), result.rejected[0])
        return int(result.enqueued)

    def record_campaigns(self, campaigns: Sequence[dict[str, Any]], merged: dict[str, str]) -> None:
        """Store campaigns and link their posts' queue items (:mod:`pantau.queue.campaigns_store`)."""
        from pantau.queue.campaigns_store import record_campaigns

        if campaigns or merged:
            record_campaigns(self.open()._engine, campaigns, merged)

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_engine": None}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
