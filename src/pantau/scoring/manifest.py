"""``_manifest.json``: one builder, so the local and the Ray engine describe a finished run alike.

Keys: ``status``, ``engine`` (``local`` | ``ray``), ``workers`` (1 process, or the Ray actor pool's
size), ``counts`` (read = scored + rejected, enqueued, blank_lines: skipped, not posts), ``started_at``, ``finished_at``, ``attempts``,
``duration_s``, ``posts_per_s``, ``parts``, ``int8_verified_in_fp32``, ``cascade`` (on or off, and
``skipped_full_model``: scored posts the ensemble's baseline member ruled out, so the transformer never
read them), ``inputs`` (per-input summaries),
``model`` (identity, labels, thresholds), ``settings``, ``queue``, ``fingerprint``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pantau.io import write_json_atomic
from pantau.scoring.checkpoint import RunState
from pantau.scoring.options import MANIFEST_FILE, ScoreOptions, utc_now

# Options that are not settings of the result: where the queue lives (may hold a password) and whether
# a progress bar was drawn.
_NOT_SETTINGS = ("queue_url", "progress")


def build_manifest(
    state: RunState,
    classifier: Any,
    options: ScoreOptions,
    *,
    engine: str,
    workers: int,
    queue_enabled: bool,
    int8_verified: int,
    cascade_skipped: int = 0,
) -> dict[str, Any]:
    """The manifest of a finished run from its final state (``state.duration_s`` is the whole run's)."""
    duration = state.duration_s
    return {
        "status": "complete",
        "engine": engine,
        "workers": workers,
        "counts": {
            "read": state.read,
            "scored": state.scored,
            "rejected": state.rejected,
            "enqueued": state.enqueued,
            "blank_lines": state.blank,
        },
        "started_at": state.started_at,
        "finished_at": utc_now(),
        "attempts": state.attempts,
        "duration_s": round(duration, 3),
        "posts_per_s": round(state.scored / duration, 2) if duration > 0 else None,
        "parts": state.next_part,
        # int8 runs: posts re-scored in fp32 because int8 put them near a threshold.
        "int8_verified_in_fp32": int(int8_verified),
        "cascade": {"enabled": bool(getattr(classifier, "cascade", False)), "skipped_full_model": int(cascade_skipped)},
        "inputs": [dataclasses.asdict(e) for e in state.inputs],
        "model": {
            **classifier.describe(),
            "labels": list(classifier.labels),
            "thresholds": dict(zip(classifier.labels, map(float, classifier.thresholds), strict=True)),
        },
        "settings": {k: v for k, v in dataclasses.asdict(options).items() if k not in _NOT_SETTINGS},
        "queue": {"enabled": queue_enabled, "risk_threshold": options.risk_threshold},
        "fingerprint": state.fingerprint,
    }


def write_manifest(manifest: dict[str, Any], out: Path) -> None:
    """Write ``out/_manifest.json`` atomically (it marks the run finished)."""
    write_json_atomic(manifest, out / MANIFEST_FILE)
