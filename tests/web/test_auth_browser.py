"""Sessions in real headless Chromium (issue 15 items 5 and 6): a cookie copied before logout is dead
afterwards; a link pasted in chat opens the item for a signed-in reviewer; a form another site posts
neither writes nor signs the reviewer out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from support.browser import login

from pantau import queue

pytestmark = pytest.mark.browser

CHAT = "https://chat.example"  # another site, served by Playwright itself (nothing leaves the machine)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def chat_page(context: Any, body: str) -> None:
    """Serve ``body`` as the page at CHAT (a different site from 127.0.0.1)."""
    context.route(f"{CHAT}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=body))


def test_a_cookie_copied_before_logout_is_dead_after_it(browser: Any, context: Any, server: str) -> None:
    page = context.new_page()
    login(page, server, "rina")
    copied = context.cookies()
    assert [c["name"] for c in copied] == ["pantau_session"]
    thief = browser.new_context()
    try:
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto(f"{server}/queue")
        assert stolen.url == f"{server}/queue"  # while the session is open, the copy works
        page.click("form.logout button[type=submit]")  # Keluar (log out)
        page.wait_for_url(f"{server}/login")
        stolen.goto(f"{server}/queue")
        assert "/login" in stolen.url  # before: the copied cookie still opened the queue
        stolen.goto(f"{server}/api/v1/items")
        assert "401" in stolen.content() or "not signed in" in stolen.content()
    finally:
        thief.close()


def test_a_link_pasted_in_chat_opens_the_item_and_keeps_the_session(
    context: Any, server: str, engine: Engine
) -> None:
    item = queue.list_items(engine)[0][0]
    page = context.new_page()
    login(page, server, "rina")
    chat_page(context, f'<p>tolong cek: <a id="link" href="{server}/items/{item.id}">post ini</a></p>')
    page.goto(f"{CHAT}/room")
    page.click("#link")
    page.wait_for_load_state()
    # Before (SameSite=Strict): the cookie stayed behind, the item sent the reviewer to the login page,
    # and that page's fresh cookie replaced the real session.
    assert page.url == f"{server}/items/{item.id}"
    assert page.locator("#item-status").count() == 1
    page.goto(f"{server}/queue")
    assert page.url == f"{server}/queue"  # still signed in


def test_a_form_another_site_posts_neither_writes_nor_signs_out(
    context: Any, server: str, engine: Engine
) -> None:
    page = context.new_page()
    login(page, server, "rina")
    chat_page(
        context,
        f'<form id="f" method="post" action="{server}/claim"><button id="go">klik</button></form>'
        f'<form id="g" method="post" action="{server}/login"><input name="username" value="rina">'
        f'<input name="password" value="x"><button id="go2">klik</button></form>',
    )
    for button in ("#go", "#go2"):
        page.goto(f"{CHAT}/room")
        page.click(button)
        page.wait_for_load_state()
    assert all(i.status == "pending" for i in queue.list_items(engine)[0])  # nothing claimed
    page.goto(f"{server}/queue")
    assert page.url == f"{server}/queue"  # the real session survived both cross-site posts
