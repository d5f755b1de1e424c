"""The taxonomy: one place, consistent display names and Pasal 280 hints."""

from __future__ import annotations

import pytest

from pantau.labels import LABEL_KEYS, LABELS, PASAL_280_BY_KEY, label, pasal_280_hints


def test_label_keys_and_clauses_are_consistent() -> None:
    assert LABEL_KEYS == ("hate_speech", "abusive", "divisive_label", "incitement")
    for item in LABELS:
        assert item.name_id and item.name_en and item.definition
        assert all(clause in PASAL_280_BY_KEY for clause in item.pasal_280)
    assert [c.huruf for c in PASAL_280_BY_KEY.values()] == ["c", "d", "e", "f"]


def test_hints_follow_flags() -> None:
    assert [c.huruf for c in pasal_280_hints({"hate_speech": True, "incitement": False})] == ["c"]
    assert [c.huruf for c in pasal_280_hints({"incitement": True, "abusive": True})] == ["c", "d", "e", "f"]
    assert pasal_280_hints({k: False for k in LABEL_KEYS}) == []
    with pytest.raises(KeyError, match="valid labels"):
        label("hoax")
