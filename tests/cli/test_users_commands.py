"""``pantau users …`` account commands (issue 15 items 7 and 8): password rules, the last admin,
reactivate, and the login throttle's list and clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pantau.cli import app
from pantau.queue import throttle
from pantau.queue.db import make_engine


@pytest.fixture
def params(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text("queue:\n  database_url: sqlite:///var/q.db\n", encoding="utf-8")
    return path


def users(params: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--params", str(params), "users", *args], input=stdin, env={"PANTAU_DATABASE_URL": None}
    )
    return result.exit_code, result.output


def test_password_rules_last_admin_and_reactivate(params: Path) -> None:
    assert users(params, "add", "adi", "--role", "admin", "--password-stdin", stdin="rahasia-123\n")[0] == 0
    for password, reason in (
        ("pendek123", "minimal 10 karakter"),
        ("password123", "common passwords"),
        ("Wati.Reviewer", "must not be the username"),
    ):
        code, out = users(params, "add", "wati.reviewer", "--password-stdin", stdin=password + "\n")
        assert code == 2 and reason in out, out
    assert users(params, "set-password", "adi", "--password-stdin", stdin="1234567890\n")[0] == 2
    code, out = users(params, "set-role", "adi", "lead")
    assert code == 2 and "last active admin" in out and "Admin aktif terakhir" in out
    assert users(params, "deactivate", "adi")[0] == 2
    assert users(params, "add", "rina", "--password-stdin", stdin="rahasia-123\n")[0] == 0
    assert users(params, "deactivate", "rina") == (0, "rina deactivated\n")
    assert "inactive" in users(params, "list")[1]
    assert users(params, "reactivate", "rina") == (0, "rina reactivated\n")
    assert "rina                 reviewer  active" in users(params, "list")[1]
    assert users(params, "reactivate", "nobody")[0] == 2


def test_throttled_and_unthrottle(params: Path, tmp_path: Path) -> None:
    assert users(params, "throttled") == (0, "no failed sign-ins on record\n")
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'q.db'}")
    try:
        policy = throttle.ThrottlePolicy(base_seconds=60)
        for _ in range(5):
            throttle.record_failure(engine, "rina", "198.51.100.7", policy=policy)
        code, out = users(params, "throttled")
        assert code == 0 and "198.51.100.7" in out and "rina" in out and "*" in out
        assert users(params, "unthrottle")[0] == 2  # says what to clear
        assert users(params, "unthrottle", "rina") == (0, "cleared 1 throttle key(s)\n")
        assert users(params, "unthrottle", "--client", "198.51.100.7") == (0, "cleared 1 throttle key(s)\n")
        assert throttle.list_throttles(engine) == []
        throttle.record_failure(engine, "budi", "10.0.0.1")
        assert users(params, "unthrottle", "--all") == (0, "cleared 2 throttle key(s)\n")
    finally:
        engine.dispose()
