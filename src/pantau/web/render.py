"""HTML fragments built in Python: highlighted post text, safe links, inline SVG charts.

Every piece of post-derived text goes through :func:`markupsafe.escape`; only our own tags are
emitted raw. Charts are SVG with presentation attributes (no inline style, allowed by the CSP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from pantau.web.reading import TermReading, category_phrase


def highlight(
    text: str, spans: Sequence[dict[str, Any]], readings: Sequence[TermReading] | None = None
) -> Markup:
    """The post text, escaped, with lexicon spans wrapped in ``<mark>``; overlapping or out-of-range
    spans are skipped rather than trusted. With ``readings`` (:func:`pantau.web.reading.term_readings`)
    each mark says whether the term reads as used or mentioned (class, ``data-reading``, an Indonesian
    title); without, the title names the category in Indonesian words."""
    by_offset = {(r.start, r.end): r for r in readings or ()}
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (int(s.get("start", 0)), -int(s.get("end", 0)))):
        start, end = int(span.get("start", -1)), int(span.get("end", -1))
        if start < pos or end <= start or end > len(text):
            continue
        category = str(span.get("category") or "lexicon")
        reading = by_offset.get((start, end))
        css = f"span span-{escape(_css_token(category))}"
        if reading is not None:
            attrs = f'class="{css}" data-reading="{reading.reading}" title="{escape(reading.tooltip)}"'
        else:
            term = span.get("term") or text[start:end]
            attrs = f'class="{css}" title="{escape(category_phrase(category))}: {escape(term)}"'
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark {attrs}>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


# A post longer than this (about three screens) is shown as an excerpt first: its beginning, every
# highlighted term with the words around it, and its end; the whole text is one click away.
COLLAPSE_CHARS = 6000
_HEAD, _AROUND, _TAIL = 1200, 240, 300


def is_long(text: str) -> bool:
    """Whether the item page collapses this post."""
    return len(text) > COLLAPSE_CHARS


def excerpt(
    text: str, spans: Sequence[dict[str, Any]], readings: Sequence[TermReading] | None = None
) -> Markup:
    """The collapsed view of a long post: its head, each highlighted term in context, its tail, with
    the skipped stretches marked (escaped and highlighted like :func:`highlight`)."""
    valid = [
        (int(s.get("start", -1)), int(s.get("end", -1)))
        for s in spans
        if 0 <= int(s.get("start", -1)) < int(s.get("end", -1)) <= len(text)
    ]
    ranges = [(0, _HEAD), (max(0, len(text) - _TAIL), len(text))]
    ranges += [(max(0, a - _AROUND), min(len(text), b + _AROUND)) for a, b in valid]
    merged: list[list[int]] = []
    for a, b in sorted(ranges):
        for sa, sb in valid:  # never cut a term in two
            if sa < a < sb:
                a = sa
            if sa < b < sb:
                b = sb
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    by_offset = {(r.start, r.end): r for r in readings or ()}
    known = set(valid)
    out: list[str] = []
    pos = 0
    for a, b in merged:
        if a > pos:
            out.append(f'<span class="gap"> … [{a - pos} karakter dilewati (characters skipped)] … </span>')
        inside = [
            {**s, "start": int(s["start"]) - a, "end": int(s["end"]) - a}
            for s in spans
            if (int(s.get("start", -1)), int(s.get("end", -1))) in known
            and a <= int(s["start"])
            and int(s["end"]) <= b
        ]
        shifted = [
            replace(r, start=r.start - a, end=r.end - a)
            for (sa, sb), r in by_offset.items()
            if a <= sa and sb <= b
        ]
        out.append(str(highlight(text[a:b], inside, shifted)))
        pos = b
    return Markup("".join(out))


def _css_token(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in value.lower())[:32] or "lexicon"


def safe_link(url: str | None) -> Markup:
    """A link for http(s) URLs only (rel=noopener noreferrer nofollow); anything else, e.g.
    ``javascript:``, is shown as inert text."""
    if not url:
        return Markup("")
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is not None and parts.scheme.lower() in ("http", "https") and parts.netloc:
        return Markup(
            f'<a href="{escape(url.strip())}" rel="noopener noreferrer nofollow ugc" target="_blank">{escape(url)}</a>'
        )
    return Markup(f'<code class="inert-url">{escape(url)}</code>')


def score_bar(probability: float, threshold: float | None, flagged: bool, width: int = 220) -> Markup:
    """A horizontal bar for one label's probability with a tick at its threshold."""
    w = max(0.0, min(1.0, probability)) * width
    fill = "#b3261e" if flagged else "#5f6b7a"
    tick = ""
    if threshold is not None:
        x = max(0.0, min(1.0, threshold)) * width
        tick = f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="16" stroke="#111" stroke-width="2"/>'
    return Markup(
        f'<svg class="bar" width="{width}" height="16" viewBox="0 0 {width} 16" role="img" '
        f'aria-label="{probability:.2f}"><rect width="{width}" height="16" fill="#e6e8eb"/>'
        f'<rect width="{w:.1f}" height="16" fill="{fill}"/>{tick}</svg>'
    )


def bar_chart(
    values: Sequence[tuple[str, float]],
    *,
    height: int = 160,
    bar_width: int = 18,
    label_every: int = 5,
    fmt: str = "{:.0f}",
    y_max: float | None = None,
) -> Markup:
    """Vertical bars (e.g. decisions per day) as SVG; labels are escaped."""
    n = max(1, len(values))
    top = y_max if y_max is not None else max([v for _, v in values] + [1])
    gap = 4
    width = n * (bar_width + gap) + 40
    parts = [
        f'<svg class="chart" width="{width}" height="{height + 40}" viewBox="0 0 {width} {height + 40}" role="img">',
        f'<line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/>',
        f'<text x="0" y="12" font-size="11">{escape(fmt.format(top))}</text>',
    ]
    for i, (label, value) in enumerate(values):
        h = 0 if top <= 0 else value / top * (height - 10)
        x = 32 + i * (bar_width + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h:.1f}" width="{bar_width}" height="{h:.1f}" fill="#2f5d8a">'
            f"<title>{escape(label)}: {escape(fmt.format(value))}</title></rect>"
        )
        if i % label_every == 0 or i == n - 1:
            parts.append(f'<text x="{x}" y="{height + 14}" font-size="10">{escape(label[-5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(
    values: Sequence[tuple[str, float | None]], *, width: int = 320, lo: float = 0.0, hi: float = 1.0
) -> Markup:
    """Horizontal bars for per-label values in [lo, hi] (precision, drift); None shows as n/a."""
    row_h = 22
    label_w = 130
    height = row_h * max(1, len(values)) + 6
    span = hi - lo
    zero = label_w + (0 - lo) / span * width if lo < 0 < hi else label_w
    parts = [f'<svg class="chart" width="{label_w + width + 60}" height="{height}" role="img">']
    if lo < 0 < hi:  # the zero line, so increases and decreases read at a glance
        parts.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="#888"/>')
    for i, (label, value) in enumerate(values):
        y = i * row_h + 4
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 13}" font-size="12" fill="#777">n/a</text>')
            continue
        x_val = label_w + (max(lo, min(hi, value)) - lo) / span * width
        x0, x1 = sorted((zero, x_val))
        parts.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" height="16" fill="#2f5d8a"/>'
        )
        parts.append(
            f'<text x="{label_w + width + 6}" y="{y + 13}" font-size="12">{value:+.3f}</text>'
            if lo < 0
            else f'<text x="{label_w + width + 6}" y="{y + 13}" font-size="12">{value:.3f}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
