"""Issue 15, item 12: the item page says why a post was flagged — each highlighted term read as used or
mentioned (by the model where it has a span reading, else by the mention cues, and says which), the risk
and threshold tick in one line, Indonesian tooltips, a warning for bidi controls, long posts collapsed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.web import scored

from pantau import queue
from pantau.text import find_spans
from pantau.web.reading import SOURCE_TEXT

MENTION = "Imbauan: jangan ada kata cebong kadrun di grup ini. Tapi dasar kadrun semua, usir!"


def _spans(text: str, **extra: object) -> list[dict]:
    return [
        {"start": s.start, "end": s.end, "term": s.term, "category": s.category, **extra}
        for s in find_spans(text)
    ]


def _item(engine: Engine, post_id: str, text: str, spans: list[dict]) -> int:
    queue.enqueue(engine, [scored(post_id, text, 0.9, spans=spans)], model_version="v1", risk_threshold=0.5)
    return next(i.id for i in queue.list_items(engine, limit=100)[0] if i.post_id == post_id)


def _readings(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-reading="(\w+)" data-source="(\w+)">', html)


def test_a_mentioned_term_is_not_read_like_an_insult(reviewer: TestClient, engine: Engine) -> None:
    html = reviewer.get(f"/items/{_item(engine, 'm-1', MENTION, _spans(MENTION))}").text
    # "jangan ada kata cebong kadrun": both mentioned; "dasar kadrun semua": used
    assert _readings(html) == [("mentioned", "cues"), ("mentioned", "cues"), ("used", "cues")]
    assert "disebut (mentioned)" in html and "dipakai (used)" in html
    assert "sesudah kata «kata»" in html and "«jangan»" in html  # the words behind the reading
    marks = re.findall(r'<mark class="span span-[\w-]+" data-reading="(\w+)" title="([^"]+)">', html)
    assert [m[0] for m in marks] == ["mentioned", "mentioned", "used"]
    # Honest about the source: computed here from the cues, not the model's score.
    assert SOURCE_TEXT["cues"] in html.replace("&#39;", "'")
    # Tooltips in Indonesian words, never the lexicon's category keys.
    for _, title in marks:
        assert "smear" not in title and "dibaca:" in title
    assert "pendukung pemerintah" in marks[0][1] and "berudu" in marks[0][1]
    shown = re.sub(r'class="[^"]*"', "", html)  # CSS class tokens are not shown to anyone
    assert "opposition-smear" not in shown and "pro-government-smear" not in shown


def test_the_models_own_span_reading_is_used_when_the_item_has_it(
    reviewer: TestClient, engine: Engine
) -> None:
    spans = _spans(MENTION)
    for span, use in zip(spans, (0.12, 0.08, 0.91), strict=True):
        span["use"] = use
    html = reviewer.get(f"/items/{_item(engine, 'm-2', MENTION, spans)}").text
    assert _readings(html) == [("mentioned", "model"), ("mentioned", "model"), ("used", "model")]
    assert "peluang dipakai 91%" in html and "peluang dipakai 12%" in html
    assert SOURCE_TEXT["model"].replace("'", "&#39;") in html
    assert SOURCE_TEXT["cues"].replace("'", "&#39;") not in html
    # the stored item keeps the reading (the API shows it too)
    assert [s.get("use") for s in queue.get_item(engine, _item(engine, "m-2", MENTION, spans)).spans] == [
        0.12,
        0.08,
        0.91,
    ]


def test_risk_and_the_threshold_tick_are_explained_in_one_line(reviewer: TestClient, engine: Engine) -> None:
    html = reviewer.get(f"/items/{_item(engine, 'm-3', MENTION, _spans(MENTION))}").text
    [line] = re.findall(r'<p class="risk-line" id="risk-line">([^<]+)</p>', html)
    assert "Risiko 0.90" in line and "garis hitam pada bar adalah ambang" in line and "black tick" in line


def test_bidi_controls_are_warned_about(reviewer: TestClient, engine: Engine) -> None:
    text = "dasar kadrun, buka \u202etxt.kisab\u202c dan \u2067x\u2069"
    html = reviewer.get(f"/items/{_item(engine, 'b-1', text, _spans(text))}").text
    assert 'id="bidi-warning"' in html and "U+202E, U+202C, U+2067, U+2069" in html
    assert "tampil terbalik" in html and "display reversed" in html
    assert "buka txt.kisab dan x" in html  # the stored order, without the controls, on request
    plain = reviewer.get(f"/items/{_item(engine, 'b-2', MENTION, _spans(MENTION))}").text
    assert 'id="bidi-warning"' not in plain


def test_a_long_post_collapses_keeping_every_highlight_in_view(reviewer: TestClient, engine: Engine) -> None:
    filler = "Warga membahas harga beras dan jalan rusak di desa. " * 200
    text = "Awal pos. " + filler + "Tapi dasar kadrun semua. " + filler + " Akhir pos."
    html = reviewer.get(f"/items/{_item(engine, 'l-1', text, _spans(text))}").text
    excerpt = html.split('id="post-excerpt">', 1)[1].split("</blockquote>", 1)[0]
    assert "Awal pos." in excerpt and "Akhir pos." in excerpt
    assert '">kadrun</mark>' in excerpt and "karakter dilewati (characters skipped)" in excerpt
    assert len(excerpt) < len(text) / 3
    # the whole text is in a <details> (opens without script), the excerpt hidden once it is open
    assert '<details id="post-full"><summary>Tampilkan seluruh teks' in html
    assert html.count('">kadrun</mark>') >= 2  # in the excerpt and in the full text
    short = reviewer.get(f"/items/{_item(engine, 'l-2', MENTION, _spans(MENTION))}").text
    assert 'id="post-excerpt"' not in short and 'id="post-full"' not in short
