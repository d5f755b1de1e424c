"""Turning one validated chunk of posts into output rows and queue rows (the same for both engines).

Output columns: ``id``, ``text_hash``, ``prob_<label>`` and ``flag_<label>`` for each label in the
model's order, ``risk``, ``spans`` (JSON list of divisive-term spans in the *original* text),
``windows`` (token windows read; > 1 for long posts), ``model_name``, ``model_version``, ``run_id``,
``preprocessing``, ``scored_at`` (UTC).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from pantau.io import text_hash
from pantau.scoring.options import ScoreError, utc_now

# Passthrough columns an input may carry; the queue shows them to reviewers.
QUEUE_COLUMNS = ("source", "author", "url", "created_at")


def span_finder() -> Callable[[str], Any]:
    """``pantau.text.find_spans``, imported lazily with a clear error when the text module is absent."""
    try:
        from pantau.text import find_spans
    except ImportError as exc:
        raise ScoreError(
            f"divisive-term spans need pantau.text.find_spans, which is not available ({exc})"
        ) from exc
    return find_spans


def spans_json(spans: Iterable[Any]) -> str:
    """Serialise spans (dataclasses, dicts or tuples) as a JSON list."""
    out = []
    for span in spans:
        if dataclasses.is_dataclass(span) and not isinstance(span, type):
            out.append(dataclasses.asdict(span))
        elif isinstance(span, dict):
            out.append(span)
        elif hasattr(span, "_asdict"):
            out.append(span._asdict())
        else:
            out.append(list(span))
    return json.dumps(out, ensure_ascii=False)


def score_frame(
    classifier: Any,
    frame: pd.DataFrame,
    *,
    find_spans: Callable[[str], Any] | None = None,
    scored_at: str | None = None,
) -> pd.DataFrame:
    """Score one validated chunk (columns ``id``, ``text``) into the output columns described above."""
    texts = frame["text"].astype(str).tolist()
    probs, flags, risk, windows = classifier.score_arrays(texts)
    finder = find_spans or span_finder()
    ident = classifier.describe()
    out: dict[str, Any] = {
        "id": frame["id"].astype(str).to_numpy(),
        "text_hash": [text_hash(t) for t in texts],
    }
    for j, label in enumerate(classifier.labels):
        out[f"prob_{label}"] = probs[:, j].astype("float32")
    for j, label in enumerate(classifier.labels):
        out[f"flag_{label}"] = flags[:, j]
    out["risk"] = risk.astype("float32")
    out["spans"] = [spans_json(finder(t)) for t in texts]
    out["windows"] = windows.astype("int32")
    n = len(texts)
    out["model_name"] = [ident["model_name"]] * n
    out["model_version"] = [ident["model_version"]] * n
    out["run_id"] = [ident["run_id"]] * n
    out["preprocessing"] = [ident["preprocessing"]] * n
    out["scored_at"] = [scored_at or utc_now()] * n
    return pd.DataFrame(out)


def queue_rows(
    classifier: Any, frame: pd.DataFrame, scored: pd.DataFrame, source: str
) -> list[dict[str, Any]]:
    """Rows for ``pantau.queue.enqueue``: the post, its scores and the model identity."""
    thresholds = dict(zip(classifier.labels, map(float, classifier.thresholds), strict=True))
    rows = []
    for (_, post), (_, pred) in zip(frame.iterrows(), scored.iterrows(), strict=True):
        extra = {c: _none_if_missing(post.get(c)) for c in QUEUE_COLUMNS}
        rows.append(
            {
                "id": str(post["id"]),
                "text": str(post["text"]),
                **extra,
                "source": extra["source"] or source,
                "probabilities": {label: float(pred[f"prob_{label}"]) for label in classifier.labels},
                "flags": {label: bool(pred[f"flag_{label}"]) for label in classifier.labels},
                "thresholds": thresholds,
                "risk": float(pred["risk"]),
                "spans": json.loads(pred["spans"]),
                "model_name": pred["model_name"],
                "model_version": pred["model_version"],
                "scored_at": pred["scored_at"],
            }
        )
    return rows


def _none_if_missing(value: Any) -> Any:
    # Any scalar missing marker: NaN from the local reader's object columns, pd.NA from the Ray
    # engine's string columns (whose truth value cannot be taken, so it is tested before == "").
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) or value == "":
        return None
    return value
