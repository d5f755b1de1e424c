"""PDF renderings of a case file and of the desk report (ReportLab), with a real text layer.

Every string that came from a post, an account or a note is hostile: it is stripped of control
characters and XML-escaped before ReportLab's paragraph markup sees it. Headings are bilingual
(Indonesian / English). A TrueType font with wide coverage (DejaVu Sans when the system has it,
else ReportLab's own Vera) is embedded so the text extracts as written.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from pantau.labels import LABEL_KEYS, LABELS_BY_KEY
from pantau.queue.casefile import NOT_AVAILABLE
from pantau.queue.reports import DeskReport

_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)
_fonts: tuple[str, str] | None = None


def _register_fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once, at the first rendering (not on import)."""
    global _fonts  # a process-wide registration, like ReportLab's own registry
    if _fonts is not None:
        return _fonts
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for regular, bold in _FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            break
    else:
        folder = Path(reportlab.__file__).parent / "fonts"
        regular, bold = str(folder / "Vera.ttf"), str(folder / "VeraBd.ttf")
    pdfmetrics.registerFont(TTFont("PantauSans", regular))
    pdfmetrics.registerFont(TTFont("PantauSans-Bold", bold))
    _fonts = ("PantauSans", "PantauSans-Bold")
    return _fonts


def clean(value: Any) -> str:
    """Text safe for a ReportLab paragraph: no control or bidi-override characters, XML-escaped."""
    text = "" if value is None else str(value)
    kept = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") else "\ufffd"
        for ch in text
    )
    return xml_escape(kept).replace("\n", "<br/>")


def _or_na(value: Any) -> str:
    return clean(NOT_AVAILABLE) if value is None or value == "" else clean(value)


class _Doc:
    """A small builder over ReportLab's platypus: headings, paragraphs, tables."""

    def __init__(self, title: str) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        regular, bold = _register_fonts()
        base = getSampleStyleSheet()
        self.colors = colors
        self.title = title
        self.body = ParagraphStyle(
            "body", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=12.5
        )
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10, textColor=colors.grey)
        self.h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=15, leading=19)
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=11.5, leading=15)
        self.h3 = ParagraphStyle("h3", parent=base["Heading3"], fontName=bold, fontSize=10, leading=13)
        self.model = ParagraphStyle(
            "model", parent=self.body, backColor=colors.HexColor("#fff6d6"), borderPadding=4
        )
        self.story: list[Any] = []

    def heading(self, id_text: str, en_text: str, *, level: int = 2) -> None:
        style = {1: self.h1, 2: self.h2}.get(level, self.h3)
        self.para(f"{clean(id_text)} <font size='-2'>({clean(en_text)})</font>", style)

    def para(self, markup: str, style: Any = None) -> None:
        from reportlab.platypus import Paragraph

        self.story.append(Paragraph(markup, style or self.body))

    def table(
        self, rows: Iterable[Iterable[str]], widths: list[float] | None = None, header: bool = True
    ) -> None:
        from reportlab.platypus import Paragraph, Table, TableStyle

        data = [[Paragraph(cell, self.body) for cell in row] for row in rows]
        if not data:
            return
        t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, self.colors.HexColor("#b8bec6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#e6e8eb")))
        t.setStyle(TableStyle(style))
        self.story.append(t)

    def space(self, points: float = 6) -> None:
        from reportlab.platypus import Spacer

        self.story.append(Spacer(1, points))

    def bars(self, values: list[tuple[str, float]], *, width: float = 300) -> None:
        """Horizontal bars (counts) drawn as vector shapes, each with its label and figure as text."""
        from reportlab.graphics.shapes import Drawing, Rect, String

        regular, _ = _register_fonts()
        top = max([v for _, v in values] + [1.0])
        row_h, label_w = 16, 120
        d = Drawing(label_w + width + 50, row_h * len(values) + 4)
        for i, (label, value) in enumerate(values):
            y = d.height - (i + 1) * row_h
            d.add(String(0, y + 4, label[:24], fontName=regular, fontSize=8))
            d.add(
                Rect(
                    label_w,
                    y + 2,
                    max(0.5, value / top * width),
                    row_h - 5,
                    fillColor=self.colors.HexColor("#2f5d8a"),
                    strokeColor=None,
                )
            )
            d.add(String(label_w + width + 6, y + 4, f"{value:g}", fontName=regular, fontSize=8))
        self.story.append(d)

    def render(self) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=self.title,
            author="pantau",
            creator="pantau",
        )
        regular, _ = _register_fonts()

        def footer(canvas: Any, document: Any) -> None:
            canvas.saveState()
            canvas.setFont(regular, 7.5)
            canvas.drawString(18 * mm, 9 * mm, f"{self.title} · halaman (page) {document.page}")
            canvas.restoreState()

        doc.build(self.story, onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()


def case_pdf(case: dict[str, Any]) -> bytes:
    """The case file (:func:`pantau.queue.casefile.case_file`) as a PDF."""
    doc = _Doc(f"Berkas kasus (case file) item {case['item_id']}")
    doc.heading(f"Berkas kasus item {case['item_id']}", f"case file, item {case['item_id']}", level=1)
    doc.para(
        f"Dibuat (generated) {clean(case['generated_at'])} · keputusan akhir (final action): "
        f"<b>{clean(case['final_action'])}</b>",
        doc.small,
    )
    if case["missing"]:
        doc.para(
            "Tidak tersedia pada item ini (not available for this item): "
            + clean(", ".join(case["missing"])),
            doc.small,
        )
    _item_sections(doc, case, level=2)
    return doc.render()


def _item_sections(doc: _Doc, case: dict[str, Any], *, level: int) -> None:
    """One item's evidence (:func:`pantau.queue.casefile.item_evidence`): the post as captured, the
    model's output, the reviewers' decisions and the audit trail — the same in an item's case file and
    in a campaign's."""
    post, model, times = case["post"], case["model"], case["times"]
    doc.heading("Pos sebagaimana direkam", "the post as captured", level=level)
    doc.table(
        [
            ["ID pos (post id)", clean(post["post_id"])],
            ["Tautan (link)", _or_na(post["url"])],
            ["Akun (account)", _or_na(post["account"])],
            ["Sumber (source)", _or_na(post["source"])],
            ["Diposting (posted at)", _or_na(times["posted_at"])],
            ["Masuk antrean (enqueued, scored)", _or_na(times["enqueued_at"])],
            ["Diputuskan (decided at)", _or_na(times["decided_at"])],
            ["SHA-256 teks (of the text)", f"<font size='7.5'>{clean(post['sha256'])}</font>"],
        ],
        widths=[130, 344],
        header=False,
    )
    doc.space()
    doc.para("<b>Teks pos (post text)</b>")
    doc.para(clean(post["text"]))
    doc.para(clean(post["hash_of"]), doc.small)

    doc.heading("Keluaran model — bukan keputusan", "model output — not a decision", level=level)
    doc.para(
        f"KELUARAN MODEL (MODEL OUTPUT): {clean(model['model_name'] or '')} versi {clean(model['model_version'])}, "
        f"risiko (risk) {model['risk']:.3f}. Skor ini saran mesin, bukan putusan "
        "(these scores are the machine's suggestion, not a verdict).",
        doc.model,
    )
    doc.space(4)
    rows = [["Label", "Probabilitas (probability)", "Ambang (threshold)", "Ditandai (flagged)"]]
    for k in LABEL_KEYS:
        p = model["probabilities"].get(k)
        th = (model["thresholds"] or {}).get(k)
        rows.append(
            [
                clean(f"{LABELS_BY_KEY[k].name_id} ({k})"),
                "n/a" if p is None else f"{p:.3f}",
                "n/a" if th is None else f"{th:.2f}",
                "ya (yes)" if model["flags"].get(k) else "tidak (no)",
            ]
        )
    doc.table(rows)
    terms = model["highlighted_terms"]
    doc.para(
        "<b>Istilah yang disorot model (terms highlighted by the model):</b> "
        + (
            ", ".join(f"“{clean(t['term'])}” [{clean(t['category'])}]" for t in terms)
            if terms
            else "tidak ada (none)"
        )
    )

    doc.heading("Keputusan peninjau", "the reviewers' decisions", level=level)
    if not case["decisions"]:
        doc.para("Belum ada keputusan peninjau (no reviewer decision yet).")
    for d in case["decisions"]:
        flags = []
        if d["final"]:
            flags.append("KEPUTUSAN AKHIR (final)")
        if d["undone"]:
            flags.append("DIBATALKAN (undone)")
        labels = ", ".join(d["label_names"]) or "tidak ada label (no label)"
        clauses = "; ".join(f"huruf {c['huruf']}: {c['text_id']} ({c['text_en']})" for c in d["pasal_280"])
        lines = [
            (
                f"<b>#{d['decision_id']} · {clean(d['reviewer'])} · {clean(d['at'])} · {clean(d['kind'])} → "
                f"{clean(d['action'])}</b> {clean(' · '.join(flags))}"
            ),
            f"Label yang dipilih peninjau (labels the reviewer chose): {clean(labels)}",
            "Pasal 280 ayat (1) yang dipilih peninjau (clauses the reviewer chose): "
            + (clean(clauses) if clauses else "tidak ada (none)"),
        ]
        detail = [x for x in (d["hs_target"], d["hs_category"], d["hs_strength"]) if x]
        if detail:
            lines.append("Rincian ujaran kebencian (hate-speech detail): " + clean(", ".join(detail)))
        if d["note"]:
            lines.append("Catatan (note): " + clean(d["note"]))
        doc.para("<br/>".join(lines))
        doc.space(4)

    doc.heading("Jejak keputusan (log audit)", "decision trail, from the audit log", level=level)
    rows = [["Waktu (time, UTC)", "Oleh (by)", "Peristiwa (event)", "Rincian (detail)"]]
    for e in case["trail"]:
        detail = {k: v for k, v in (e["detail"] or {}).items() if k != "before"}
        rows.append(
            [
                clean(e["at"]),
                clean(e["actor"]),
                clean(e["event"]),
                f"<font size='7'>{clean(json.dumps(detail, ensure_ascii=False, sort_keys=True)[:600])}</font>",
            ]
        )
    doc.table(rows, widths=[100, 70, 70, 234])


def campaign_case_pdf(case: dict[str, Any]) -> bytes:
    """The campaign case file (:func:`pantau.queue.campaign_case.campaign_case_file`) as a PDF: the
    campaign's summary, a table of its posts, then each post's evidence as an item's case file shows it."""
    c, span, accounts = case["campaign"], case["time_span"], case["accounts"]
    doc = _Doc(f"Berkas kasus kampanye (campaign case file) #{c['id']}")
    doc.heading(f"Berkas kasus kampanye #{c['id']}", f"campaign case file, {c['key']}", level=1)
    doc.para(f"Dibuat (generated) {clean(case['generated_at'])}", doc.small)
    for note in case["missing"]:
        doc.para("TIDAK TERSEDIA (NOT AVAILABLE): " + clean(note))
    doc.para(clean(case["note"]), doc.small)

    doc.heading("Ringkasan kampanye", "campaign summary")
    counts = ", ".join(f"{k}={n}" for k, n in case["counts"].items())
    doc.table(
        [
            ["Kunci (key)", clean(c["key"])],
            ["Dasar (basis)", clean(c["basis"])],
            [
                "Pos ditemukan / di antrean (posts found / queued)",
                f"{c['posts_found']} / {c['posts_in_queue']}",
            ],
            ["Status pos (posts by status)", clean(counts)],
            ["Akun kampanye (campaign accounts)", _or_na(", ".join(accounts["campaign"]))],
            ["Akun pos di antrean (accounts of queued posts)", _or_na(", ".join(accounts["in_queue"]))],
            ["Pertama terlihat (first seen)", _or_na(span["first_seen"])],
            ["Terakhir terlihat (last seen)", _or_na(span["last_seen"])],
            ["SHA-256 semua pos (of all posts)", f"<font size='7.5'>{clean(case['posts_sha256'])}</font>"],
        ],
        widths=[190, 284],
        header=False,
    )
    doc.para(clean(case["posts_sha256_of"]), doc.small)
    doc.space()
    doc.para("<b>Teks bersama (shared text)</b>")
    doc.para(clean(c["shared_text"]))

    doc.heading("Pos kampanye", "the campaign's posts")
    rows = [["Item", "Akun (account)", "Diposting (posted at)", "Status / tindakan", "SHA-256"]]
    for p in case["posts"]:
        rows.append(
            [
                str(p["item_id"]),
                _or_na(p["post"]["account"]),
                f"<font size='8'>{_or_na(p['times']['posted_at'])}</font>",
                clean(p["final_action"] or p["status"]),
                f"<font size='6.5'>{clean(p['post']['sha256'])}</font>",
            ]
        )
    doc.table(rows, widths=[32, 96, 110, 62, 174])
    for n, p in enumerate(case["posts"], start=1):
        doc.heading(
            f"Pos {n} dari {len(case['posts'])} · item {p['item_id']} · {p['final_action'] or p['status']}",
            f"post {n} of {len(case['posts'])}",
        )
        if p["missing"]:
            doc.para("Tidak tersedia (not available): " + clean(", ".join(p["missing"])), doc.small)
        _item_sections(doc, p, level=3)
    return doc.render()


def report_pdf(report: DeskReport) -> bytes:
    """The desk report (:func:`pantau.queue.reports.desk_report`) as a PDF."""
    p = report.period
    kind = "harian (daily)" if p.kind == "day" else "mingguan (weekly)"
    doc = _Doc(f"Laporan meja (desk report) {p.start:%Y-%m-%d}")
    doc.heading(f"Laporan meja {kind.split()[0]}", f"desk report, {kind.split()[1].strip('()')}", level=1)
    doc.para(clean(p.label), doc.small)
    if report.missing:
        doc.para("Tidak tersedia (not available): " + clean(", ".join(report.missing)), doc.small)

    doc.heading("Ringkasan", "totals")
    median = "n/a" if report.median_hours is None else f"{report.median_hours:.2f} jam (hours)"
    doc.table(
        [
            ["Dinilai (scored: rows handed to the queue)", str(report.scored)],
            ["Ditandai (flagged: entered the queue)", str(report.flagged)],
            [
                "Ditinjau (reviewed: independent reviews)",
                f"{report.reviewed} pada (on) {report.reviewed_items} item",
            ],
            ["Diputuskan (decided)", str(report.decided)],
            ["Median skor → keputusan (median scoring → decision)", median],
        ],
        widths=[300, 174],
        header=False,
    )
    doc.heading("Keputusan per tindakan", "decided per action")
    doc.bars([(k, float(n)) for k, n in report.by_action.items()])
    doc.heading("Keputusan per label", "decided per label")
    doc.bars([(k, float(n)) for k, n in report.by_label.items()])
    if p.kind == "week":
        doc.heading("Keputusan per hari", "decided per day")
        doc.bars([(d, float(n)) for d, n in report.per_day])

    doc.heading("Akun teratas", "top accounts")
    if report.top_accounts:
        rows = [["Akun (account)", "Ditandai (flagged)", "Peringatan/turunkan (warn/takedown)"]]
        rows += [[clean(a), str(n), str(v)] for a, n, v in report.top_accounts]
        doc.table(rows)
    else:
        doc.para(
            clean(NOT_AVAILABLE)
            + " — tidak ada akun pada pos periode ini (no accounts on this period's posts)"
        )
    if report.flagged_without_account:
        doc.para(f"{report.flagged_without_account} pos tanpa akun (posts without an account)", doc.small)

    doc.heading("Kampanye teratas", "top campaigns")
    if report.top_campaigns:
        rows = [
            [
                "Kampanye (campaign)",
                "Pos (posts)",
                "Akun (accounts)",
                "Diputuskan (decided)",
                "Peringatan/turunkan (warn/takedown)",
            ]
        ]
        for c in report.top_campaigns:
            accounts = str(c.accounts) + (
                f" (+{c.without_account} tanpa akun / without)" if c.without_account else ""
            )
            rows.append(
                [f"#{c.id} {clean(c.key)}", str(c.posts), accounts, str(c.decided), str(c.violations)]
            )
        doc.table(rows, widths=[150, 50, 110, 64, 100])
    else:
        doc.para(
            "Tidak ada kampanye di antara pos periode ini (no campaign among this period's flagged posts)"
        )

    doc.heading("Kesepakatan peninjau", "reviewer agreement, double-reviewed items")
    ag = report.agreement
    share = "n/a" if ag.share is None else f"{ag.share:.0%}"
    doc.para(
        f"{ag.agreeing} dari (of) {ag.items} item sepakat pada keempat label (agreed on all four labels): {share}"
    )
    rows = [["Label", "Sepakat (share agreeing)"]]
    rows += [[clean(k), "n/a" if v is None else f"{v:.0%}"] for k, v in ag.per_label.items()]
    doc.table(rows)
    return doc.render()


__all__ = ["campaign_case_pdf", "case_pdf", "clean", "report_pdf"]
