"""params.yaml → ``pantau serve``'s web settings → what a reviewer's claim does (issue 15, item 4)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from support.web import SECRET, sign_in

from pantau import queue
from pantau.cli.serve import web_config
from pantau.config import load_settings
from pantau.queue.models import Item, utcnow
from pantau.web.app import create_app


def test_queue_settings_reach_the_app_and_a_claim_takes_claim_batch_items(tmp_path: Path, engine: Engine) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("queue:\n  claim_batch: 3\n  lease_minutes: 7\n  undo_seconds: 60\n", encoding="utf-8")
    config = web_config(load_settings(params, env={}))
    assert (config.claim_batch, config.lease_minutes, config.undo_seconds) == (3, 7, 60)
    reviewer = sign_in(create_app(engine, secret_key=SECRET, config=config), "rina")
    before = utcnow()
    assert reviewer.post("/claim", data={"csrf_token": reviewer.csrf}).status_code == 303
    held = queue.claimed_by_user(engine, 1)
    assert len(held) == 3
    with engine.connect() as conn:
        leases = conn.execute(select(Item.lease_expires_at).where(Item.id.in_(held))).scalars().all()
    # Each claimed item runs on the configured lease, not the default 15 minutes.
    assert all(before + timedelta(minutes=7) - timedelta(seconds=5) <= t <= utcnow() + timedelta(minutes=7)
               for t in leases)
    # The next claim takes the next three, by priority, none of them twice.
    waiting = _pending(engine)
    assert waiting > 0
    reviewer.post("/claim", data={"csrf_token": reviewer.csrf})
    again = queue.claimed_by_user(engine, 1)
    assert len(again) == 3 + min(3, waiting) and set(held) < set(again)


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Item.id).where(Item.status == "pending")).all())
