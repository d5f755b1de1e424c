"""Turning one validated chunk of posts into output rows and queue rows (the same for both engines).

Output columns: ``id``, ``text_hash``, ``author``/``url``/``created_at`` (as text, null where the input lacks
them: ``io.author_column`` etc.; ``campaign_id`` follows when ``campaigns.enabled``), ``prob_<label>`` and ``flag_<label>`` for each label in the
model's order, ``risk``, ``spans`` (JSON list of divisive-term spans in the *original* text),
``windows`` (token windows read; > 1 for long posts), ``model_name``, ``model_version``, ``run_id``,
``preprocessing``, ``scored_at`` (UTC).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from pantau.io import text_hash
from pantau.scoring.options import ScoreError, utc_now

# Passthrough columns an input may carry; the queue shows them to reviewers.
QUEUE_COLUMNS = ("source", "author", "url", "created_at")
# Who posted, where and when: kept in the output parts too (issue 18 §1).
POST_COLUMNS = ("author", "url", "created_at")


def span_finder() -> Callable[[str], Any]:
    """``pantau.text.find_spans``, imported lazily with a clear error when the text module is absent."""
    try:
        from pantau.text import find_spans
    except ImportError as exc:
        raise ScoreError(
            f"divisive-term spans need pantau.text.find_spans, which is not available ({exc})"
        ) from exc
    return find_spans


def _plain(span: Any) -> Any:
    """A span (dataclass, dict, named tuple or tuple) as JSON-ready data."""
    if dataclasses.is_dataclass(span) and not isinstance(span, type):
        return dataclasses.asdict(span)
    if isinstance(span, dict):
        return span
    if hasattr(span, "_asdict"):
        return span._asdict()
    return list(span)


def spans_json(spans: Iterable[Any]) -> str:
    """Serialise spans (dataclasses, dicts or tuples) as a JSON list."""
    return json.dumps([_plain(span) for span in spans], ensure_ascii=False)


def _spans_with_reading(
    classifier: Any, texts: list[str], finder: Callable[[str], Any]
) -> list[list[dict[str, Any]]]:
    """Each post's spans as dicts; where the model reads mention vs use per term (a baseline's
    span-context model), each span also carries ``use``: the probability that the term is used on people."""
    reader = getattr(classifier, "term_use_probabilities", None)
    readings = reader(texts) if callable(reader) else None
    out = []
    for i, text in enumerate(texts):
        spans = [dict(p) if isinstance(p := _plain(s), dict) else p for s in finder(text)]
        if readings is not None:
            use = {(start, end): p for start, end, p in readings[i]}
            for span in spans:
                if isinstance(span, dict) and (span.get("start"), span.get("end")) in use:
                    span["use"] = round(use[span["start"], span["end"]], 4)
        out.append(spans)
    return out


def score_frame(
    classifier: Any,
    frame: pd.DataFrame,
    *,
    find_spans: Callable[[str], Any] | None = None,
    scored_at: str | None = None,
    on_batch: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Score one validated chunk (columns ``id``, ``text``) into the output columns described above.

    The chunk is scored in batches of ``classifier.batch_size`` posts, shortest first (so a batch's
    windows pad little), calling ``on_batch(posts)`` after each — the progress bar moves per batch.
    When ``should_stop()`` turns true, the batch in hand is finished and the rest is left unscored:
    the result then holds only the scored rows (in chunk order; compare its ``id`` with the chunk's).
    """
    texts = frame["text"].astype(str).tolist()
    done, (probs, flags, risk, windows) = _score_in_batches(classifier, texts, on_batch, should_stop)
    if not done.all():
        frame = frame.iloc[np.flatnonzero(done)]
        texts = [t for t, d in zip(texts, done, strict=True) if d]
        probs, flags, risk, windows = probs[done], flags[done], risk[done], windows[done]
    finder = find_spans or span_finder()
    ident = classifier.describe()
    out: dict[str, Any] = {
        "id": frame["id"].astype(str).to_numpy(),
        "text_hash": [text_hash(t) for t in texts],
    }
    for name in POST_COLUMNS:
        # Always present (null when the input lacks it), so every part and both engines share one schema.
        column = frame[name] if name in frame.columns else [None] * len(frame)
        values = [None if (v := _none_if_missing(value)) is None else str(v) for value in column]
        out[name] = pd.array(values, dtype="string")  # a typed column, even when a part has no value
    for j, label in enumerate(classifier.labels):
        out[f"prob_{label}"] = probs[:, j].astype("float32")
    for j, label in enumerate(classifier.labels):
        out[f"flag_{label}"] = flags[:, j]
    out["risk"] = risk.astype("float32")
    out["spans"] = [spans_json(s) for s in _spans_with_reading(classifier, texts, finder)]
    out["windows"] = windows.astype("int32")
    n = len(texts)
    out["model_name"] = [ident["model_name"]] * n
    out["model_version"] = [ident["model_version"]] * n
    out["run_id"] = [ident["run_id"]] * n
    out["preprocessing"] = [ident["preprocessing"]] * n
    out["scored_at"] = [scored_at or utc_now()] * n
    return pd.DataFrame(out)


def _score_in_batches(
    classifier: Any,
    texts: list[str],
    on_batch: Callable[[int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``score_arrays`` over ``texts`` batch by batch; returns which posts were scored and the arrays."""
    n = len(texts)
    step = max(1, int(getattr(classifier, "batch_size", n) or n))
    order = np.argsort(np.fromiter(map(len, texts), dtype=np.int64, count=n), kind="stable")
    done = np.zeros(n, dtype=bool)
    arrays: list[np.ndarray] | None = None
    for start in range(0, n, step):
        if should_stop is not None and should_stop():
            break
        idx = order[start : start + step]
        batch = classifier.score_arrays([texts[i] for i in idx])
        if arrays is None:
            arrays = [np.zeros((n, *a.shape[1:]), dtype=a.dtype) for a in batch]
        for whole, part in zip(arrays, batch, strict=True):
            whole[idx] = part
        done[idx] = True
        if on_batch is not None:
            on_batch(len(idx))
    if arrays is None:  # nothing scored (an empty chunk, or stopped before the first batch)
        labels = len(classifier.labels)
        arrays = [np.zeros((n, labels)), np.zeros((n, labels), dtype=bool), np.zeros(n), np.zeros(n, dtype=np.int64)]
    probs, flags, risk, windows = arrays
    return done, (probs, flags, risk, windows)


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
