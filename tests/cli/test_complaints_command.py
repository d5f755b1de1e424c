"""``pantau complaints purge`` erases reporters' contacts past complaints.retention_days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pantau.cli import app
from pantau.config import ConfigError, load_settings
from pantau.queue import complaints as desk
from pantau.queue.db import make_engine, upgrade
from pantau.queue.models import ComplaintReport, utcnow


def test_purge_erases_old_contacts_only(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(
        "queue:\n  database_url: sqlite:///var/q.db\ncomplaints:\n  retention_days: 30\n", encoding="utf-8"
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'q.db'}")
    upgrade(engine)
    policy = desk.ComplaintPolicy(retention_days=3650)
    old = utcnow() - timedelta(days=31)
    for text, when in (("lama", old), ("baru", utcnow())):
        desk.file_complaint(
            engine,
            desk.ComplaintIn(("abusive",), text=text, contact=f"{text}@example.org"),
            client="c",
            policy=policy,
            score=None,
            now=when,
        )
    result = CliRunner().invoke(
        app, ["--params", str(params), "complaints", "purge"], env={"PANTAU_DATABASE_URL": None}
    )
    assert result.exit_code == 0, result.output
    assert "erased 1 contact(s) older than 30 day(s)" in result.output
    with engine.connect() as conn:
        assert conn.execute(
            select(ComplaintReport.contact).where(ComplaintReport.contact.is_not(None))
        ).scalars().all() == ["baru@example.org"]
    engine.dispose()


@pytest.mark.parametrize(
    "bad",
    [
        {"complaints.retention_days": 0},
        {"complaints.priority_floor": 1.5},
        {"complaints.per_client_per_hour": 0},
        {"complaints.total_per_hour": 1, "complaints.per_client_per_hour": 5},
        {"complaints.max_text_chars": 10},
    ],
)
def test_complaint_settings_are_validated(bad: dict) -> None:
    with pytest.raises(ConfigError, match="complaints"):
        load_settings(None, env={}, overrides=bad)


def test_params_yaml_has_the_complaints_section() -> None:
    settings = load_settings(Path(__file__).parents[2] / "params.yaml", env={})
    assert settings.complaints.retention_days == 90 and settings.complaints.model is None
