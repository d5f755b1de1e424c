"""Issue 15 items 3, 4, 7 and 8 in real headless Chromium against the real app: what the reviewer sees when
a lead's own dispute goes to someone else, when a claim's lease runs out under them, when wrong passwords
slow a device down, and when the admin form refuses a weak password or the only admin's own demotion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from support.browser import failed_load, login, new_page, serve_app
from support.web import PASSWORD, SECRET

from pantau import queue
from pantau.queue.models import Item, utcnow
from pantau.queue.throttle import ThrottlePolicy
from pantau.queue.users import find_user
from pantau.web.app import WebConfig, create_app

pytestmark = pytest.mark.browser

RINA, BUDI, LIA = 1, 2, 3  # user ids in the engine fixture (rina, budi, lia, adi)


def _claim_top(page: Any, server: str, engine: Engine) -> int:
    top = queue.list_items(engine)[0][0].id
    page.keyboard.press("c")  # claim next
    page.wait_for_url(f"{server}/items/{top}")
    return top


def test_a_lead_is_not_offered_their_own_dispute_and_an_admin_resolves_it(
    page: Any, browser: Any, server: str, engine: Engine
) -> None:
    login(page, server, "lia")  # a lead reviews an item and escalates it
    item = _claim_top(page, server, engine)
    page.keyboard.press("e")
    page.wait_for_url(f"{server}/queue")
    assert queue.get_item(engine, item).status == "escalated"
    page.goto(f"{server}/items/{item}")
    own = page.locator("#own-dispute")
    assert own.is_visible()
    assert "ketua lain atau admin yang menyelesaikannya" in own.inner_text()
    assert "another lead or an admin resolves it" in own.inner_text()
    assert page.locator("#resolve-form").count() == 0  # no resolve form for one side of the dispute
    assert page.locator("text=Selesaikan eskalasi").count() == 0
    assert page.problems == []

    admin = new_page(browser)
    login(admin, server, "adi")
    admin.goto(f"{server}/items/{item}")
    assert admin.locator("#own-dispute").count() == 0
    form = admin.locator("#resolve-form")
    assert form.is_visible() and admin.locator("text=Selesaikan eskalasi").is_visible()
    form.locator('button[value="no_violation"]').click()
    admin.wait_for_url(f"{server}/lead")
    assert f"Item {item} diselesaikan (resolved)" in admin.inner_text(".flash")
    resolved = queue.get_item(engine, item)
    final = next(d for d in queue.item_decisions(engine, item) if d.id == resolved.final_decision_id)
    assert resolved.status == "decided" and final.reviewer == "adi" and final.action == "no_violation"
    admin.goto(f"{server}/items/{item}")
    assert "adi" in admin.inner_text("table.decisions tr.final")
    assert admin.problems == []
    admin.context.close()


def test_the_lease_is_shown_and_a_lost_claim_gives_the_note_back(
    page: Any, server: str, engine: Engine
) -> None:
    login(page, server, "rina")
    item = _claim_top(page, server, engine)
    lease = page.locator("#lease")
    expires = queue.get_item(engine, item).lease_expires_at
    shown = datetime.fromisoformat(lease.get_attribute("data-expires"))
    assert abs((shown.replace(tzinfo=None) - expires.replace(tzinfo=None)).total_seconds()) < 1
    assert "Klaim Anda berlaku sampai" in lease.inner_text() and "sisa" in lease.inner_text()
    assert lease.locator(".left").inner_text() in ("14", "15")  # minutes left, shown on the page
    assert expires.strftime("%H:%M") in lease.locator("strong").inner_text()

    # The lease runs out while the reviewer is typing, and another reviewer takes the item.
    with engine.begin() as conn:
        conn.execute(
            update(Item).where(Item.id == item).values(lease_expires_at=utcnow() - timedelta(minutes=1))
        )
    queue.claim_item(engine, BUDI, item)
    note = "catatan panjang <b>saya</b>: ajakan mengusir warga"
    page.fill("#decision-form textarea[name=note]", note)
    page.check('#decision-form input[name="label_abusive"]')
    with page.expect_navigation() as lost:
        page.click('#decision-form button[value="warn"]')
    assert lost.value.status == 409
    assert "Keputusan belum tersimpan (not recorded)" in page.inner_text("p.error")
    assert "your note, kept so it is not lost" in page.content()
    kept = page.locator("#kept-note")
    assert kept.is_visible() and kept.input_value() == note  # the typed note, character for character
    assert page.locator("#kept-note *").count() == 0  # shown as text
    assert queue.item_decisions(engine, item) == []
    assert queue.claimed_by_user(engine, BUDI) == [item]
    # The renewal the typing set off and the refused decision are the only failed loads.
    assert set(page.problems) <= {failed_load(409, "Conflict")} and page.problems


@pytest.fixture
def slow_server(engine: Engine) -> Iterator[str]:
    """The app with a 60 s first delay (independent of how slow argon2 is on a busy machine)."""
    config = WebConfig(claim_batch=1, login_throttle=ThrottlePolicy(base_seconds=60))
    with serve_app(create_app(engine, secret_key=SECRET, config=config)) as base:
        yield base


def _submit_login(page: Any, username: str, password: str) -> Any:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as reply:
        page.click("form.login button[type=submit]")
    return reply.value


def test_wrong_passwords_bring_a_bilingual_wait_and_the_right_one_waits_too(
    page: Any, slow_server: str
) -> None:
    page.goto(f"{slow_server}/login")
    for _ in range(4):  # three free tries, then a delay starts
        assert _submit_login(page, "rina", "salah-salah-1").status == 401
        assert "Nama pengguna atau kata sandi salah (wrong username or password)" in page.inner_text(
            "p.error"
        )
    refused = _submit_login(page, "rina", PASSWORD)  # the right password, during the delay
    assert refused.status == 429 and 55 <= int(refused.headers["retry-after"]) <= 60
    message = page.inner_text("p.error")
    assert "Terlalu banyak percobaan gagal dari perangkat ini; coba lagi dalam" in message
    assert "(too many failed attempts from this device; try again in" in message
    seconds = int(message.split("coba lagi dalam ")[1].split(" ")[0])
    assert 55 <= seconds <= 60 and f"try again in {seconds} s" in message
    assert page.locator("form.login").is_visible() and "/login" in page.url
    page.goto(f"{slow_server}/queue")
    assert "/login" in page.url  # not signed in
    assert set(page.problems) == {
        failed_load(401, "Unauthorized"),
        failed_load(429, "Too Many Requests"),
    }


def test_the_admin_form_refuses_weak_passwords_and_the_only_admins_demotion(
    page: Any, server: str, engine: Engine
) -> None:
    login(page, server, "adi", start="/admin/users")

    def add(username: str, password: str) -> Any:
        page.goto(f"{server}/admin/users")
        page.fill("form.adduser input[name=username]", username)
        page.fill("form.adduser input[name=password]", password)
        with page.expect_navigation() as reply:
            page.click("form.adduser button[type=submit]")
        return reply.value

    common = add("wati", "1234567890")
    assert common.status == 400
    message = page.inner_text("p.error")
    assert "kata sandi" in message.lower()
    assert "(this password is on a list of common passwords; choose another)" in message
    assert find_user(engine, "wati") is None

    # Under 10 characters: the browser itself holds the form back (minlength) …
    page.goto(f"{server}/admin/users")
    page.fill("form.adduser input[name=username]", "wati")
    page.fill("form.adduser input[name=password]", "Rahasia-9")
    page.click("form.adduser button[type=submit]")
    assert page.eval_on_selector("form.adduser input[name=password]", "e => e.validity.tooShort")
    assert page.url == f"{server}/admin/users" and find_user(engine, "wati") is None
    # … and where it would not (the limit stripped from the page), the server refuses, in both languages.
    page.eval_on_selector("form.adduser input[name=password]", "e => e.removeAttribute('minlength')")
    with page.expect_navigation() as short:
        page.click("form.adduser button[type=submit]")
    assert short.value.status == 400
    assert (
        "Kata sandi minimal 10 karakter (the password must have at least 10 characters)"
        in page.inner_text("p.error")
    )
    assert find_user(engine, "wati") is None

    # The only admin cannot demote themselves.
    page.goto(f"{server}/admin/users")
    row = page.locator('#users tr[data-user="adi"]')
    row.locator("select[name=role]").select_option("lead")
    with page.expect_navigation() as demote:
        row.get_by_role("button", name="Simpan (save)").click()
    assert demote.value.status == 400
    message = page.inner_text("p.error")
    assert "Admin aktif terakhir" in message and "last active admin" in message
    user = find_user(engine, "adi")
    assert user is not None and user.role == "admin" and user.active
    page.goto(f"{server}/admin/users")  # still signed in, still the admin
    assert page.url == f"{server}/admin/users"
    assert page.locator('#users tr[data-user="adi"] td').nth(1).inner_text() == "admin"
    assert add("wati", PASSWORD).status == 200 and find_user(engine, "wati") is not None
    assert "Pengguna wati ditambahkan (added)" in page.inner_text(".flash")
    assert set(page.problems) == {failed_load(400, "Bad Request")}
