"""Issue 15, item 13, in the store (SQLite and PostgreSQL): search by post id, account or text with LIKE
wildcards taken literally, my decisions (today / all), the queue without items I already reviewed,
recently decided first, and a case-insensitive source filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from support.web import scored

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue import DecisionIn, ItemFilter
from pantau.queue.errors import Invalid
from pantau.queue.models import utcnow
from pantau.queue.reads import like_pattern, list_items, my_decisions, reviewed_by, search_items

NONE = DecisionIn(labels=dict.fromkeys(LABEL_KEYS, False), action="no_violation")


def _load(engine: Engine) -> dict[str, int]:
    rows = [
        scored("tw-100", "Harga beras naik 50% di pasar", 0.6, author="@Warga_RT05", source="Twitter"),
        scored("tw-101", "Harga beras naik 50 persen", 0.6, author="@warga_lain", source="twitter"),
        scored("fb_7", "diskon_besar hari ini", 0.6, author="Toko\\Kita", source="FACEBOOK"),
        scored("tw-200", "dasar KADRUN semua", 0.95, author="@anon", source="twitter"),  # double review
    ]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5, double_review_risk=0.9)
    return {i.post_id: i.id for i in list_items(engine, status=None, limit=100)[0]}


def _found(engine: Engine, q: str) -> list[str]:
    return [i.post_id for i in search_items(engine, q)[0]]


def test_search_by_post_id_account_or_text_with_literal_wildcards(engine: Engine) -> None:
    _load(engine)
    assert _found(engine, "tw-100") == ["tw-100"]  # exact post id
    assert sorted(_found(engine, "tw-10")) == ["tw-100", "tw-101"]  # part of one
    assert _found(engine, "warga_rt05") == ["tw-100"]  # account, case-insensitive
    assert _found(engine, "kadrun") == ["tw-200"]  # text, case-insensitive
    assert _found(engine, "50%") == ["tw-100"]  # % is a percent sign, not "anything"
    assert _found(engine, "fb_") == ["fb_7"] and _found(engine, "b_") == ["fb_7"]  # _ is an underscore
    assert sorted(_found(engine, "_")) == ["fb_7", "tw-100", "tw-101"]  # only texts/accounts with one
    assert _found(engine, "%") == ["tw-100"]
    assert _found(engine, "toko\\kita") == ["fb_7"]  # a backslash is itself too
    assert _found(engine, "tidak ada") == []
    assert search_items(engine, "beras", limit=1)[1] == 2  # the total beside one page
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(Invalid):
            search_items(engine, bad)
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_my_decisions_today_and_history(engine: Engine, people: dict[str, int]) -> None:
    ids = _load(engine)
    rina = people["rina"]
    for post in ("tw-100", "tw-101"):
        queue.claim_item(engine, rina, ids[post])
        queue.decide(
            engine, rina, ids[post], NONE, now=utcnow() - timedelta(days=2) if post == "tw-100" else None
        )
    rows, total = my_decisions(engine, rina)
    assert total == 2 and [r["post_id"] for r in rows] == ["tw-101", "tw-100"]  # newest first
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    rows, total = my_decisions(engine, rina, since=today)
    assert total == 1 and rows[0]["post_id"] == "tw-101" and rows[0]["action"] == "no_violation"
    assert rows[0]["status"] == "decided" and rows[0]["undone"] is False
    assert my_decisions(engine, people["budi"]) == ([], 0)


def test_a_double_review_item_is_not_offered_back_to_its_first_reviewer(
    engine: Engine, people: dict[str, int]
) -> None:
    ids = _load(engine)
    rina, budi = people["rina"], people["budi"]
    item = ids["tw-200"]
    queue.claim_item(engine, rina, item)
    assert queue.decide(engine, rina, item, NONE).status == "pending"  # waits for a second reviewer
    assert reviewed_by(engine, item, rina) and not reviewed_by(engine, item, budi)
    assert item not in [i.id for i in list_items(engine, not_reviewed_by=rina)[0]]
    assert item in [i.id for i in list_items(engine, not_reviewed_by=budi)[0]]
    assert item not in queue.claim(engine, rina, 10)  # nor by a claim


def test_recently_decided_first_and_the_source_filter_ignores_case(
    engine: Engine, people: dict[str, int]
) -> None:
    ids = _load(engine)
    rina = people["rina"]
    start = utcnow()
    for k, post in enumerate(("fb_7", "tw-101", "tw-100")):  # decided in this order
        queue.claim_item(engine, rina, ids[post])
        queue.decide(engine, rina, ids[post], NONE, now=start + timedelta(minutes=k))
    recent = [i.post_id for i in list_items(engine, status="decided", sort="decided")[0]]
    assert recent == ["tw-100", "tw-101", "fb_7"]
    for spelling in ("twitter", "Twitter", "TWITTER", " twitter "):
        got = list_items(engine, status=None, filters=ItemFilter(source=spelling))[0]
        assert sorted(i.post_id for i in got) == ["tw-100", "tw-101", "tw-200"], spelling
    assert [i.post_id for i in list_items(engine, status=None, filters=ItemFilter(source="facebook"))[0]] == [
        "fb_7"
    ]
