"""Accounts and campaigns during a scoring run (issue 18 §1–2), for both engines.

:class:`RunPosts` follows what the inputs say about each post's account, link and posting time (counted
per run and written to the manifest's ``posts`` key, with a sentence for each that is missing), and — when
``campaigns.enabled`` — assigns coordinated-posting campaigns batch by batch with one
:class:`~pantau.campaigns.CampaignIndex` per run folder:

* ``_campaigns.npz``: the index (:func:`pantau.campaigns.save_index`), loaded when the run resumes and saved
  at every checkpoint, so a resumed run continues with the same window and ids;
* ``_campaigns.json``: the run's token (campaign keys are ``<token>-<index id>``, unique across run folders),
  the counts above, every campaign found so far with its posts, and ``parts``: the committed parts it covers.

Both are committed with the checkpoint, in two steps, so a resumed run finds exactly the index and counts of
its last checkpoint (never one chunk ahead, which would count the replayed chunk's posts twice):
:meth:`RunPosts.save` writes ``_campaigns.pending.npz``/``.json`` (stamped with the part count), the engine
saves its checkpoint, then :meth:`RunPosts.publish` renames them into place. On resume, pending files whose
stamp matches the checkpoint are published (the run died after its checkpoint); others are deleted.

The Ray engine calls the same :meth:`RunPosts.assign` in its driver, chunk by chunk in input order.

Each part gets a ``campaign_id`` column: the campaign a post was in when its chunk was scored. A post that
an *later* chunk's near-duplicates turn into a campaign member is not rewritten in its part; the queue
(``items.campaign_id``) and ``_campaigns.json`` hold the final membership.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from pantau.config import CampaignSettings
from pantau.io import write_json_atomic
from pantau.scoring.options import ScoreError
from pantau.scoring.sink import QueueSink

log = logging.getLogger(__name__)

INDEX_FILE = "_campaigns.npz"
SUMMARY_FILE = "_campaigns.json"
PENDING_INDEX = "_campaigns.pending.npz"
PENDING_SUMMARY = "_campaigns.pending.json"
FIELDS = ("author", "url", "created_at")
MISSING_TEXT = {
    "author": "accounts unknown: {n} of {total} scored post(s) have no author (io.author_column); account "
              "pages, the accounts ranking and the account boost leave them out",
    "url": "links unknown: {n} of {total} scored post(s) have no url (io.url_column)",
    "created_at": "posting times unknown: {n} of {total} scored post(s) have no readable created_at "
                  "(io.time_column); first/last seen and campaign time windows leave them out",
}


def _when(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


def post_times(values: Iterable[Any]) -> list[float | None]:
    """Posting times as epoch seconds; a missing or unreadable time is ``None`` (counted, said so)."""
    from pantau.campaigns import to_epoch

    times: list[float | None] = []
    for value in values:
        try:
            times.append(to_epoch(value))
        except (TypeError, ValueError):
            times.append(None)
    return times


class RunPosts:
    """One run's account/time coverage and (optionally) its campaign index; see the module text."""

    def __init__(self, out: Path, settings: CampaignSettings | None, *, parts: int):
        """``parts``: the run's committed parts (its checkpoint's ``next_part``); 0 starts afresh."""
        self.out = out
        self.settings = settings
        self.index: Any = None
        fresh = parts == 0
        if fresh:
            for name in (INDEX_FILE, PENDING_INDEX, PENDING_SUMMARY):
                (out / name).unlink(missing_ok=True)
        else:
            self._recover(parts)
        saved = self._read_summary() if not fresh else {}
        self.token: str = saved.get("token") or secrets.token_hex(4)
        self.counts: dict[str, int] = {"posts": 0, **{f"without_{f}": 0 for f in FIELDS}}
        self.counts.update(saved.get("counts") or {})
        self.campaigns: dict[str, dict[str, Any]] = dict(saved.get("campaigns") or {})
        self.notes: list[str] = list(saved.get("notes") or [])
        if settings is not None:
            from pantau.campaigns import CampaignIndex, CampaignStateError, load_index

            path = out / INDEX_FILE
            if not fresh and path.exists():
                try:
                    self.index = load_index(path, settings)
                except CampaignStateError as exc:
                    raise ScoreError(f"cannot continue this run's campaigns: {exc}; use --no-resume") from exc
            else:
                self.index = CampaignIndex(settings)

    def _recover(self, parts: int) -> None:
        """Publish what the last commit wrote if its checkpoint was saved, else drop it."""
        pending = self.out / PENDING_SUMMARY
        try:
            stamp = json.loads(pending.read_text(encoding="utf-8")).get("parts") if pending.exists() else None
        except (OSError, ValueError):
            stamp = None  # torn or unreadable: its checkpoint cannot have been saved after it
        if stamp == parts:
            self.publish()
        else:
            (self.out / PENDING_INDEX).unlink(missing_ok=True)
            pending.unlink(missing_ok=True)

    def _read_summary(self) -> dict[str, Any]:
        path = self.out / SUMMARY_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            return {}

    def assign(self, chunk: pd.DataFrame, scored: pd.DataFrame, sink: QueueSink | None) -> pd.DataFrame:
        """Count the chunk's scored posts' accounts/times; with campaigns, add ``campaign_id`` to ``scored``
        and store the campaigns this batch touched in the queue (after the chunk was enqueued)."""
        posts = chunk.set_index(chunk["id"].astype(str)).reindex(scored["id"].astype(str))
        self.counts["posts"] += len(posts)
        times = post_times(posts["created_at"] if "created_at" in posts.columns else [None] * len(posts))
        self.counts["without_created_at"] += sum(t is None for t in times)
        for name in ("author", "url"):
            values = posts[name] if name in posts.columns else pd.Series([None] * len(posts))
            self.counts[f"without_{name}"] += int(sum(1 for v in values if v is None or pd.isna(v) or str(v).strip() == ""))
        if self.index is None:
            return scored
        authors = posts["author"].tolist() if "author" in posts.columns else [None] * len(posts)
        result = self.index.add(
            {"id": i, "text": t, "account": a, "posted_at": p}
            for i, t, a, p in zip(posts.index, posts["text"].astype(str), authors, times, strict=True)
        )
        for note in result.notes:
            if note not in self.notes[-20:]:
                self.notes.append(note)
        key = f"{self.token}-{{}}".format
        rows = []
        for c in result.campaigns:
            row = {
                "key": key(c.campaign_id), "post_ids": list(c.post_ids), "accounts": list(c.accounts),
                "posts_total": c.posts_total, "posts_without_account": c.posts_without_account,
                "posts_without_time": c.posts_without_time, "first_seen": _when(c.first_seen),
                "last_seen": _when(c.last_seen), "basis": c.basis,
            }
            rows.append(row)
            earlier = self.campaigns.get(row["key"], {}).get("post_ids", [])
            self.campaigns[row["key"]] = {
                **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()},
                "post_ids": sorted(set(earlier) | set(c.post_ids)),
            }
        merged = {key(a): key(b) for a, b in result.merged.items()}
        for gone, into in merged.items():
            if gone in self.campaigns:
                absorbed = self.campaigns.pop(gone)
                target = self.campaigns.setdefault(into, {"key": into, "post_ids": []})
                target["post_ids"] = sorted(set(target.get("post_ids", [])) | set(absorbed.get("post_ids", [])))
        if sink is not None:
            sink.record_campaigns(rows, merged)
        of = result.campaign_of()
        scored = scored.copy()
        scored["campaign_id"] = pd.array(
            [key(of[i]) if i in of else None for i in scored["id"].astype(str)], dtype="string"
        )
        return scored

    def save(self, parts: int) -> None:
        """Write the index and the summary as pending files stamped with ``parts`` (the committed parts once
        this commit's checkpoint is saved); :meth:`publish` puts them in place after the checkpoint."""
        if self.index is not None:
            from pantau.campaigns import save_index

            save_index(self.index, self.out / PENDING_INDEX)
        # The summary last: it is the marker that this commit's pending files are complete.
        write_json_atomic(
            {"token": self.token, "parts": parts, "counts": self.counts, "campaigns": self.campaigns,
             "notes": self.notes[-50:]},
            self.out / PENDING_SUMMARY,
        )

    def publish(self) -> None:
        """Rename the pending index and summary into place (after the checkpoint that covers them)."""
        index = self.out / PENDING_INDEX
        if index.exists():
            os.replace(index, self.out / INDEX_FILE)
        summary = self.out / PENDING_SUMMARY
        if summary.exists():
            os.replace(summary, self.out / SUMMARY_FILE)

    def summary(self) -> dict[str, Any]:
        """The manifest's ``posts`` key: counts, what is missing in words, and the campaigns found."""
        total = self.counts["posts"]
        missing = [
            MISSING_TEXT[f].format(n=self.counts[f"without_{f}"], total=total)
            for f in FIELDS
            if total and self.counts[f"without_{f}"]
        ]
        out: dict[str, Any] = {"counts": dict(self.counts), "missing": missing}
        out["campaigns"] = (
            {"enabled": True, "found": len(self.campaigns), "file": SUMMARY_FILE, "notes": self.notes[-20:]}
            if self.index is not None
            else {"enabled": False}
        )
        return out


def posts_summary_from_parts(out: Path, part_glob: str) -> dict[str, Any]:
    """The manifest's ``posts`` key for a run whose parts are already written (the Ray engine): the same
    counts and sentences, read back from the parts' author/url/created_at columns (used when campaigns are
    off; with campaigns the Ray driver keeps a :class:`RunPosts` as the local engine does)."""
    counts = {"posts": 0, **{f"without_{f}": 0 for f in FIELDS}}
    import pyarrow.parquet as pq

    for part in sorted(out.glob(part_glob)):
        meta = pq.ParquetFile(part)
        rows = meta.metadata.num_rows
        present = [f for f in FIELDS if f in meta.schema_arrow.names]
        frame = pd.read_parquet(part, columns=present) if present else pd.DataFrame(index=range(rows))
        counts["posts"] += rows
        for name in FIELDS:
            if name not in frame.columns:
                counts[f"without_{name}"] += rows
                continue
            values = frame[name].astype("string")
            counts[f"without_{name}"] += int((values.isna() | (values.str.strip() == "")).sum())
    total = counts["posts"]
    missing = [MISSING_TEXT[f].format(n=counts[f"without_{f}"], total=total)
               for f in FIELDS if total and counts[f"without_{f}"]]
    return {"counts": counts, "missing": missing, "campaigns": {"enabled": False}}
