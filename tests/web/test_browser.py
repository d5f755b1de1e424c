"""Headless Chromium (Debian's ``chromium``) driving the real app over HTTP: keyboard review flow,
hostile posts that must not run, authorisation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from support.browser import login
from support.web import HOSTILE

from pantau import queue
from pantau.labels import LABEL_KEYS, PASAL_280

pytestmark = pytest.mark.browser


# The server, browser and page fixtures live in conftest.py (built from support.browser). These pass-throughs
# keep ``from test_browser import browser, login, page, server`` working for files that still import them.
@pytest.fixture(scope="module")
def browser(browser: Any) -> Any:
    return browser


@pytest.fixture
def server(server: str) -> str:
    return server


@pytest.fixture
def page(page: Any) -> Any:
    return page


def test_claim_and_decide_with_the_keyboard(page: Any, server: str, engine: Engine) -> None:
    login(page, server, "rina")
    top = queue.list_items(engine)[0][0]
    assert page.locator(f'#queue-table tr[data-item="{top.id}"]').count() == 1
    page.keyboard.press("c")  # claim next
    page.wait_for_url(f"{server}/items/{top.id}")
    assert "sedang ditinjau" in page.inner_text("#item-status")
    box = page.locator('input[name="label_incitement"]')
    before = box.is_checked()
    assert before is False  # issue 15: the model flagged every label, yet nothing arrives ticked
    page.keyboard.press("4")  # toggle incitement
    assert box.is_checked() is (not before)
    page.keyboard.press("t")  # recommend takedown → asks for a second press first
    assert page.locator(".confirm-msg").is_visible()
    assert page.url == f"{server}/items/{top.id}" and queue.get_item(engine, top.id).status == "claimed"
    page.keyboard.press("t")  # the deliberate second press submits
    page.wait_for_url(f"{server}/queue")
    assert page.locator(f'#queue-table tr[data-item="{top.id}"]').count() == 0  # left the queue
    assert "diputuskan" in page.inner_text(".flash")
    item = queue.get_item(engine, top.id)
    [decision] = queue.item_decisions(engine, top.id)
    assert item.status == "decided" and decision.action == "takedown"
    assert decision.labels["incitement"] is (not before) and decision.reviewer == "rina"
    assert page.problems == []


def test_hostile_posts_do_not_run(page: Any, server: str, engine: Engine) -> None:
    login(page, server, "lia")
    hostile = {i.post_id: i for i in queue.list_items(engine, limit=100)[0] if i.post_id.startswith("x-")}
    assert len(hostile) == len(HOSTILE)
    for key, text in HOSTILE.items():
        item = hostile[f"x-{key}"]
        page.goto(f"{server}/items/{item.id}")
        assert page.inner_text("#post-text") == text  # shown as text, character for character
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("#post-text *:not(mark)").count() == 0  # no element from the post
        assert page.locator("a[href^='javascript' i]").count() == 0
    page.goto(f"{server}/items/{hostile['x-script'].id}")
    assert page.inner_text(".inert-url").startswith("javascript:")
    assert page.locator("#post-text mark").inner_text() == "kadrun"
    page.goto(f"{server}/queue")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # The keyboard script is our own file and does load under the CSP.
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    # Nothing was even blocked by the CSP: the markup never contained anything to block.
    assert page.problems == []


def test_reviewer_cannot_open_lead_or_admin_pages(page: Any, server: str) -> None:
    login(page, server, "rina")
    for path in ("/lead", "/stats", "/admin/users", "/admin/audit"):
        response = page.goto(f"{server}{path}")
        assert response.status == 403, path
        assert "Akses ditolak" in page.content() or "lead" in page.content()
    page.click("form.logout button")
    page.wait_for_url(f"{server}/login")
    page.goto(f"{server}/items/1")
    assert "/login?next=" in page.url


def _claim_top(page: Any, server: str, engine: Engine) -> int:
    top = queue.list_items(engine)[0][0].id
    page.keyboard.press("c")
    page.wait_for_url(f"{server}/items/{top}")
    return top


def test_the_form_starts_unticked_with_the_models_view_beside_it(
    page: Any, server: str, engine: Engine
) -> None:
    login(page, server, "rina")
    item = _claim_top(page, server, engine)
    flags = queue.get_item(engine, item).flags
    assert all(flags.values())  # the model flagged every label…
    boxes = page.locator('#decision-form input[type="checkbox"]')
    assert boxes.count() == len(LABEL_KEYS) + len(PASAL_280) + 1  # labels, clauses, the confirmation
    assert all(not boxes.nth(i).is_checked() for i in range(boxes.count()))  # …and nothing is ticked
    views = page.locator("#decision-form .model-view")
    assert views.count() >= 4 and "model: ditandai" in views.first.inner_text()
    assert page.locator("#decision-form .model-view.suggested").count() >= 1  # suggested clauses shown
    # The lease and its time left are shown.
    assert "sisa" in page.inner_text("#lease") and page.inner_text("#lease .left") in ("14", "15")
    # A "no violation" with a label ticked is refused by the store, with the reason, and not recorded.
    page.keyboard.press("1")
    with page.expect_navigation() as refused:
        page.keyboard.press("n")
    assert refused.value.status == 400 and "no violation cannot carry labels" in page.content()
    assert queue.get_item(engine, item).status == "claimed" and queue.item_decisions(engine, item) == []
    assert page.problems == [
        "console error: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_a_held_down_key_does_not_decide(page: Any, server: str, engine: Engine) -> None:
    login(page, server, "rina")
    item = _claim_top(page, server, engine)
    cdp = page.context.new_cdp_session(page)
    for _ in range(5):  # what the keyboard sends while "n" is held: trusted keydowns with repeat set
        cdp.send(
            "Input.dispatchKeyEvent",
            {
                "type": "keyDown",
                "key": "n",
                "code": "KeyN",
                "text": "n",
                "windowsVirtualKeyCode": 78,
                "autoRepeat": True,
            },
        )
    page.wait_for_timeout(300)
    assert page.url == f"{server}/items/{item}"
    assert queue.get_item(engine, item).status == "claimed" and queue.item_decisions(engine, item) == []
    page.keyboard.press("n")  # one real press decides
    page.wait_for_url(f"{server}/queue")
    assert [d.action for d in queue.item_decisions(engine, item)] == ["no_violation"]
    assert page.problems == []


def test_undo_my_last_decision(page: Any, server: str, engine: Engine) -> None:
    login(page, server, "rina")
    item = _claim_top(page, server, engine)
    page.keyboard.press("n")  # a slip
    page.wait_for_url(f"{server}/queue")
    assert page.locator("#undo-form").is_visible()
    page.keyboard.press("u")
    page.wait_for_url(f"{server}/items/{item}")
    assert "dibatalkan" in page.inner_text(".flash")
    assert queue.get_item(engine, item).status == "claimed"  # mine again, to decide properly
    page.keyboard.press("3")
    page.keyboard.press("w")
    page.wait_for_url(f"{server}/queue")
    decisions = queue.item_decisions(engine, item)
    assert [(d.action, d.undone) for d in decisions] == [("no_violation", True), ("warn", False)]
    events = [e["event"] for e in queue.audit_log(engine, item_id=item)]
    assert events[:3] == ["decide", "undo", "decide"]
    assert page.problems == []


def _enqueue(engine: Engine, post_id: str, text: str) -> int:
    from support.web import scored

    from pantau.text import find_spans

    spans = [{"start": s.start, "end": s.end, "term": s.term, "category": s.category} for s in find_spans(text)]
    queue.enqueue(engine, [scored(post_id, text, 0.95, spans=spans)], model_version="v1", risk_threshold=0.5)
    return next(i.id for i in queue.list_items(engine, limit=100)[0] if i.post_id == post_id)


def test_used_and_mentioned_terms_read_differently(page: Any, server: str, engine: Engine) -> None:
    item_id = _enqueue(engine, "why-1", "Imbauan: jangan ada kata cebong kadrun di sini. Tapi dasar kadrun semua!")
    login(page, server, "rina")
    page.goto(f"{server}/items/{item_id}")
    marks = page.locator("#post-text mark")
    assert marks.evaluate_all("ms => ms.map(m => m.dataset.reading)") == ["mentioned", "mentioned", "used"]
    colours = marks.evaluate_all("ms => ms.map(m => getComputedStyle(m).backgroundColor)")
    assert colours[0] == colours[1] != colours[2]  # the stylesheet loaded under the CSP and tells them apart
    assert "disebut (mentioned)" in marks.nth(0).get_attribute("title")
    rows = page.locator("#term-readings tbody tr")
    assert rows.count() == 3 and "dipakai (used)" in rows.nth(2).inner_text()
    assert "bukan skor model" in page.inner_text("#reading-source")
    assert page.problems == []


def test_a_long_post_collapses_and_expands_without_script(page: Any, server: str, engine: Engine) -> None:
    filler = "Warga membahas harga beras dan jalan rusak di desa. " * 250
    item_id = _enqueue(engine, "long-1", "Awal. " + filler + "Tapi dasar kadrun semua. " + filler + "Akhir.")
    login(page, server, "rina")
    page.goto(f"{server}/items/{item_id}")
    excerpt = page.locator("#post-excerpt")
    assert excerpt.is_visible() and not page.locator("#post-text").is_visible()
    assert excerpt.locator("mark").inner_text() == "kadrun"  # the highlighted part is kept in view
    assert excerpt.bounding_box()["height"] < 3 * page.viewport_size["height"]
    page.click("#post-full > summary")  # a <details>: the browser opens it, no script of ours involved
    assert page.locator("#post-text").is_visible() and not excerpt.is_visible()
    assert page.inner_text("#post-text").startswith("Awal. Warga") and page.inner_text("#post-text").endswith("Akhir.")
    # With JavaScript off it works the same.
    context = page.context.browser.new_context(java_script_enabled=False)
    bare = context.new_page()
    login(bare, server, "budi")
    bare.goto(f"{server}/items/{item_id}")
    assert bare.locator("#post-excerpt").is_visible()
    bare.click("#post-full > summary")
    assert bare.locator("#post-text").is_visible()
    context.close()
    assert page.problems == []


def test_the_keyboard_help_opens_in_view_wherever_the_page_is(page: Any, server: str, engine: Engine) -> None:
    filler = "Warga membahas harga beras dan jalan rusak di desa. " * 250
    item_id = _enqueue(engine, "long-2", filler + "dasar kadrun")
    login(page, server, "rina")
    page.goto(f"{server}/items/{item_id}")
    page.click("#post-full > summary")  # a very tall page
    page.mouse.wheel(0, 2500)
    page.wait_for_function("window.scrollY > 1000")
    page.keyboard.press("?")
    help_box = page.locator("#help")
    assert help_box.is_visible()
    box, height = help_box.bounding_box(), page.viewport_size["height"]
    assert 0 <= box["y"] and box["y"] + box["height"] <= height  # inside the viewport, not at the page's foot
    page.keyboard.press("Escape")
    assert not help_box.is_visible()
    page.keyboard.press("?")
    page.click("#help-close")
    assert not help_box.is_visible()
    assert page.problems == []
