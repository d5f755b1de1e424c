"""Screenshot of one item page in headless Chromium (docs/screenshots/item-*.png).

    .venv/bin/python docs/screenshots/item_page.py docs/screenshots/item-after.png

A fresh SQLite queue in a temporary folder, one long post that both *mentions* ("jangan ada kata cebong
kadrun") and *uses* ("dasar kadrun semua") divisive terms and carries a right-to-left override, signed in
as a reviewer who has claimed it; the app served by uvicorn on a free local port.
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue.db import make_engine, upgrade
from pantau.queue.users import add_user
from pantau.text import find_spans
from pantau.web.app import WebConfig, create_app

PASSWORD = "contoh-sandi-panjang-42"
PROBS = {"hate_speech": 0.41, "abusive": 0.62, "divisive_label": 0.88, "incitement": 0.57}
THRESHOLDS = {"hate_speech": 0.5, "abusive": 0.55, "divisive_label": 0.45, "incitement": 0.6}
FILLER = " ".join(["Warga berdiskusi soal harga beras, jalan rusak, dan jadwal pemungutan suara di desa."] * 90)
TEXT = (
    "Imbauan panitia: jangan ada kata cebong kadrun di grup RT ini. "
    + FILLER
    + " Tapi dasar kadrun semua, usir mereka dari kampung! Tautan: \u202etxt.kisab\u202c"
)


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'queue.db'}")
        upgrade(engine)
        add_user(engine, "rina", PASSWORD, "reviewer")
        spans = [
            {"start": s.start, "end": s.end, "term": s.term, "category": s.category} for s in find_spans(TEXT)
        ]
        row = {
            "id": "tw-1029", "text": TEXT, "source": "twitter", "author": "@warga_rt05",
            "url": "https://example.org/status/1029", "created_at": "2026-03-02T08:15:00Z",
            "probabilities": PROBS, "flags": {k: PROBS[k] >= THRESHOLDS[k] for k in LABEL_KEYS},
            "thresholds": THRESHOLDS, "risk": 0.89, "spans": spans, "model_name": "baseline",
        }  # fmt: skip
        queue.enqueue(engine, [row], model_version="v7", risk_threshold=0.5)
        app = create_app(engine, secret_key="s" * 48, config=WebConfig(claim_batch=1))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "rina")
            page.fill("input[name=password]", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url(f"{base}/queue")
            page.keyboard.press("c")
            page.wait_for_url(f"{base}/items/*")
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def shrink(path: Path) -> None:
    """64 colours are plenty for a page of text: a few hundred KB instead of a megabyte."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    shrink(Path(sys.argv[1]))
