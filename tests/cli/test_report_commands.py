"""``pantau queue case`` and ``pantau queue report`` through the real Typer app."""

from __future__ import annotations

import io
import json
from pathlib import Path

from typer.testing import CliRunner

from pantau import queue
from pantau.cli import app
from pantau.labels import LABEL_KEYS
from pantau.queue.db import make_engine, upgrade
from pantau.queue.users import add_user


def run(params: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--params", str(params), *args], env={"PANTAU_DATABASE_URL": None})
    assert result.exit_code == code, result.output
    return result.output


def test_case_file_and_report_commands(tmp_path: Path, password_hash: str) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("queue:\n  database_url: sqlite:///var/q.db\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'q.db'}")
    upgrade(engine)
    lia = add_user(engine, "lia", None, "lead", password_hash=password_hash).id
    row = {
        "id": "p1",
        "text": "usir kadrun dari sini",
        "author": "@akun",
        "probabilities": dict.fromkeys(LABEL_KEYS, 0.7),
        "flags": dict.fromkeys(LABEL_KEYS, True),
        "risk": 0.7,
    }
    queue.enqueue(engine, [row, {**row, "id": "p2", "text": "lain"}], model_version="v1", risk_threshold=0.5)
    items = {i.post_id: i.id for i in queue.list_items(engine)[0]}
    queue.claim_item(engine, lia, items["p1"])
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    queue.decide(
        engine, lia, items["p1"], queue.DecisionIn(labels=labels, action="warn", pasal_280=("280_1_d",))
    )

    out = run(params, "queue", "case", str(items["p1"]), "--out", str(tmp_path / "k.json"))
    assert "wrote the case file" in out and "not available for this item: posted_at" in out
    assert json.loads((tmp_path / "k.json").read_text("utf-8"))["decisions"][0]["reviewer"] == "lia"
    run(params, "queue", "case", str(items["p1"]), "--out", str(tmp_path / "k.pdf"))
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO((tmp_path / "k.pdf").read_bytes())).pages)
    assert "usir kadrun dari sini" in text and "Berkas kasus" in text
    assert "bukan peringatan/turunkan" in run(
        params, "queue", "case", str(items["p2"]), "-o", "x.pdf", code=1
    )

    report = run(params, "queue", "report", "--period", "week")
    assert "decided 1" in report and "warn=1" in report and "@akun  flagged=2  warn/takedown=1" in report
    run(params, "queue", "report", "--out", str(tmp_path / "r.csv"))
    assert "decided_by_action,warn,1" in (tmp_path / "r.csv").read_text("utf-8")
    assert "not an ISO date" in run(params, "queue", "report", "--date", "kemarin", code=2)


def test_case_file_of_a_campaign(tmp_path: Path, password_hash: str) -> None:
    from pantau.queue.campaigns_store import decide_campaign, record_campaigns

    params = tmp_path / "params.yaml"
    params.write_text("queue:\n  database_url: sqlite:///var/q.db\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'q.db'}")
    upgrade(engine)
    lia = add_user(engine, "lia", None, "lead", password_hash=password_hash).id
    rows = [
        {
            "id": f"k{i}",
            "text": "ayo kepung kantor mereka",
            "author": f"@k{i}" if i else None,  # one post without an account
            "probabilities": dict.fromkeys(LABEL_KEYS, 0.7),
            "flags": dict.fromkeys(LABEL_KEYS, True),
            "risk": 0.7,
        }
        for i in range(2)
    ]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5)
    found = {"key": "run1-C000001", "post_ids": ["k0", "k1"], "accounts": ["@k1"], "posts_total": 2,
             "posts_without_account": 1, "posts_without_time": 2, "first_seen": None, "last_seen": None,
             "basis": "accounts"}
    cid = record_campaigns(engine, [found])["run1-C000001"]
    assert "has no post decided warn/takedown" in run(
        params, "queue", "case", "--campaign", str(cid), "-o", str(tmp_path / "c.json"), code=1
    )
    labels = {k: k == "incitement" for k in LABEL_KEYS}
    decide_campaign(engine, lia, cid, queue.DecisionIn(labels=labels, action="warn", confirmed=True))

    out = run(params, "queue", "case", "--campaign", str(cid), "--out", str(tmp_path / "c.json"))
    assert "wrote the case file of campaign" in out and "2 post(s)" in out
    assert "not available: 1 post(s) without an account" in out
    case = json.loads((tmp_path / "c.json").read_text("utf-8"))
    assert case["counts"] == {"warn": 2} and case["campaign"]["shared_text"] == "ayo kepung kantor mereka"
    run(params, "queue", "case", "--campaign", str(cid), "--out", str(tmp_path / "c.pdf"))
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO((tmp_path / "c.pdf").read_bytes())).pages)
    assert "Berkas kasus kampanye" in text and "ayo kepung kantor mereka" in text
    assert "one of the two" in run(params, "queue", "case", "1", "--campaign", str(cid), "-o", "x.pdf", code=2)
    assert "one of the two" in run(params, "queue", "case", "-o", "x.pdf", code=2)
    assert "campaign   #" in run(params, "queue", "report", "--period", "week")
