"""Case files: everything the desk knows about one decided warn/takedown item, in one JSON-ready dict.

The case file keeps three things apart: the post as captured (text, link, account, times, and a
SHA-256 of the text), the model's output (scores, flags, highlighted terms — a suggestion, never a
verdict) and what people decided (each decision's labels and the Pasal 280 clauses *they* chose, and
the full audit trail with names and times). A field the item does not have (an older queue, an input
without accounts or times) is named in ``missing`` and shown as :data:`NOT_AVAILABLE`, never left out.

Rendering (PDF) lives in the web layer; this module only reads the store.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select

from pantau.labels import LABEL_KEYS, LABELS_BY_KEY, PASAL_280_BY_KEY
from pantau.queue.errors import NotFound, QueueError
from pantau.queue.models import Action, Item, Status, utcnow
from pantau.queue.reads import audit_log, item_decisions, valid_id
from pantau.queue.schemas import iso

NOT_AVAILABLE = "tidak tersedia / not available"
CASE_ACTIONS = (Action.WARN, Action.TAKEDOWN)
FORMAT_VERSION = 1
# Columns of the post as captured, read when the items table has them (the author/url/posted-at
# columns came later than the queue; a column not there is reported missing, not guessed).
POST_COLUMNS = ("author", "url", "source", "posted_at", "created_at")
AUDIT_LIMIT = 10_000  # events per item: far more than any item gathers


class NotACase(QueueError):
    """The item is not (yet) a decided warning or takedown: there is no case to file."""

    title = ("Belum ada berkas kasus", "No case file")


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the post text as captured, encoded as UTF-8 — what the case file attests."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _item_row(engine: Engine, item_id: int) -> dict[str, Any]:
    table = Item.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == item_id)).first()
    if row is None:
        raise NotFound(f"item {item_id} does not exist")
    return dict(row._mapping)


def item_evidence(engine: Engine, item_id: int) -> dict[str, Any]:
    """One item's evidence, whatever its status: the post as captured (with its hash), the model's
    output, every decision and the audit trail. ``final_action`` is None until the item is decided.

    The per-item case file and the campaign case file are both built from this, so an item reads the
    same in either. Raises :class:`NotFound` for no such item."""
    if not valid_id(item_id):
        raise NotFound(f"item {item_id} does not exist")
    item = _item_row(engine, item_id)
    decisions = item_decisions(engine, item_id)
    final = None
    if item["status"] == Status.DECIDED:
        final = next((d for d in decisions if d.id == item["final_decision_id"]), None)
    missing: list[str] = []

    def field(name: str) -> Any:
        value = item.get(name)  # None too when the column is not there
        if value is None or value == "":
            missing.append(name)
            return None
        return value

    posted = item.get("posted_at") or item.get("created_at")
    post = {
        "post_id": item["post_id"],
        "text": item["text"],
        "url": field("url"),
        "account": field("author"),
        "source": field("source"),
        "posted_at": iso(posted) if posted is not None else None,
        "sha256": content_hash(item["text"]),
        "hash_of": "SHA-256 of the post text as captured in the queue, UTF-8",
    }
    if posted is None:
        missing.append("posted_at")
    spans = [
        {"term": s.get("term"), "category": s.get("category"), "start": s.get("start"), "end": s.get("end")}
        for s in item.get("spans") or []
    ]
    model = {
        "note": "keluaran model, bukan keputusan (model output, not a decision)",
        "model_name": item.get("model_name"),
        "model_version": item["model_version"],
        "risk": item["risk"],
        "probabilities": {k: (item["probabilities"] or {}).get(k) for k in LABEL_KEYS},
        "flags": {k: bool((item["flags"] or {}).get(k)) for k in LABEL_KEYS},
        "thresholds": item.get("thresholds"),
        "highlighted_terms": spans,
    }
    people = [
        {
            "decision_id": d.id,
            "kind": d.kind,
            "reviewer": d.reviewer,
            "at": iso(d.created_at),
            "action": d.action,
            "labels": [k for k in LABEL_KEYS if d.labels[k]],
            "label_names": [
                LABELS_BY_KEY[k].name_id + " / " + LABELS_BY_KEY[k].name_en for k in LABEL_KEYS if d.labels[k]
            ],
            "pasal_280": [
                {
                    "key": c,
                    "huruf": PASAL_280_BY_KEY[c].huruf,
                    "text_id": PASAL_280_BY_KEY[c].text_id,
                    "text_en": PASAL_280_BY_KEY[c].text_en,
                }
                for c in d.pasal_280
                if c in PASAL_280_BY_KEY
            ],
            "hs_target": d.hs_target,
            "hs_category": d.hs_category,
            "hs_strength": d.hs_strength,
            "note": d.note,
            "undone": d.undone,
            "final": final is not None and d.id == final.id,
            "labels_entered_by_person": d.labels_entered,
        }
        for d in decisions
    ]
    # The enqueue run is logged without an item (one event per run): the item's own time stands in.
    trail = [{"at": iso(item["enqueued_at"]), "actor": "sistem (system)", "event": "enqueue", "detail": {}}]
    trail += [
        {"at": e["at"], "actor": e["actor"] or "sistem (system)", "event": e["event"], "detail": e["detail"]}
        for e in reversed(audit_log(engine, item_id=item_id, limit=AUDIT_LIMIT))
    ]
    return {
        "item_id": item_id,
        "status": item["status"],
        "post": post,
        "times": {
            "posted_at": post["posted_at"],
            "enqueued_at": iso(item["enqueued_at"]),
            "decided_at": iso(item["decided_at"]) if item["decided_at"] is not None else None,
        },
        "final_action": final.action if final is not None else None,
        "model": model,
        "decisions": people,
        "trail": trail,
        "missing": sorted(set(missing)),
    }


def case_file(engine: Engine, item_id: int) -> dict[str, Any]:
    """The case file of a decided item whose final decision is a warning or a takedown.

    Raises :class:`NotFound` for no such item and :class:`NotACase` (409) for one that is not decided
    or was decided otherwise."""
    evidence = item_evidence(engine, item_id)
    if evidence["final_action"] not in CASE_ACTIONS:
        raise NotACase(
            f"item {item_id} bukan peringatan/turunkan yang sudah diputuskan "
            f"(is not a decided warn/takedown: status {evidence['status']}, "
            f"action {evidence['final_action'] or 'none'})"
        )
    evidence.pop("status")
    return {
        "format": "pantau.case_file",
        "format_version": FORMAT_VERSION,
        "generated_at": iso(utcnow()),
        **evidence,
        "not_available": NOT_AVAILABLE,
    }


__all__ = ["CASE_ACTIONS", "NOT_AVAILABLE", "NotACase", "case_file", "content_hash", "item_evidence"]
