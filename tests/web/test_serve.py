"""``pantau serve`` as a real process: secret generated 0600 on first run, migrated DB, pages served."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_pantau_serve_starts_with_a_generated_secret(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(
        "queue:\n  database_url: sqlite:///var/q.db\nserve:\n  secret_file: var/secret_key\n",
        encoding="utf-8",
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PANTAU_SECRET_KEY", "PANTAU_DATABASE_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pantau.cli", "--params", str(params), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"pantau serve did not come up: {proc.stdout.read() if proc.stdout else ''}"
                    )
                time.sleep(0.3)
        assert reply.status_code == 200 and "Masuk" in reply.text
        assert "default-src 'none'" in reply.headers["content-security-policy"]
        secret = tmp_path / "var" / "secret_key"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) >= 32
        assert (tmp_path / "var" / "q.db").exists()
        assert httpx.get(f"http://127.0.0.1:{port}/queue", timeout=5).status_code == 303  # to /login
    finally:
        proc.terminate()
        proc.wait(timeout=20)
