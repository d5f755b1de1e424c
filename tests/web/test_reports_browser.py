"""Headless Chromium: a lead opens the desk report, follows a case file's link and downloads the PDF,
whose text is then checked (issue 18 §4, "a case file downloaded and its text checked")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support.browser import login
from test_reports_http import decide_top, pdf_text

pytestmark = pytest.mark.browser


def test_a_lead_downloads_a_case_file(page: Any, server: str, engine: Engine, tmp_path: Path) -> None:
    item = decide_top(engine)
    login(page, server, "lia")
    page.goto(f"{server}/lead/report?period=week")
    assert "Laporan meja" in page.inner_text("h1")
    assert page.locator("svg.chart").count() >= 2  # the charts, inline
    link = page.locator(f'#case-files li[data-item="{item}"] a.case-pdf')
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"kasus-{item}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = pdf_text(target.read_bytes())
    assert "usir kadrun dari kampung ini" in text and "Berkas kasus" in text and "rina" in text
    assert "KELUARAN MODEL (MODEL OUTPUT)" in text
    assert page.problems == []
