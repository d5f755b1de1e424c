"""Coercing loose input into CampaignPost: ids, missing accounts and times, time formats."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from pantau.campaigns import CampaignPost, as_post, to_epoch


def test_times_in_every_form_agree():
    expected = 1704067200.0  # 2024-01-01T00:00:00Z
    assert to_epoch("2024-01-01T00:00:00Z") == expected
    assert to_epoch("2024-01-01T07:00:00+07:00") == expected  # WIB
    assert to_epoch("2024-01-01 00:00:00") == expected  # naive: UTC
    assert to_epoch(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == expected
    assert to_epoch(pd.Timestamp("2024-01-01", tz="UTC")) == expected
    assert to_epoch(dt.date(2024, 1, 1)) == expected
    assert to_epoch(expected) == expected


@pytest.mark.parametrize("missing", [None, "", "  ", math.nan, pd.NaT])
def test_missing_times(missing):
    assert to_epoch(missing) is None


def test_bad_times_rejected():
    with pytest.raises(ValueError, match="ISO-8601"):
        to_epoch("kemarin sore")
    with pytest.raises(TypeError):
        to_epoch(True)


def test_as_post_from_tuple_mapping_and_post():
    assert as_post(("p1", "teks")) == CampaignPost("p1", "teks")
    assert as_post(("p1", "teks", " akun ", 5)) == CampaignPost("p1", "teks", "akun", 5.0)
    assert as_post({"id": 7, "text": "teks", "author": "", "posted_at": None}) == CampaignPost("7", "teks")
    assert as_post({"post_id": "x", "text": "t", "account": math.nan}).account is None
    post = CampaignPost("a", "b", "c", 1.0)
    assert as_post(post) == post


def test_as_post_rejects_bad_input():
    with pytest.raises(ValueError, match="needs an id"):
        as_post({"text": "teks"})
    with pytest.raises(TypeError, match="text must be str"):
        as_post(("p1", None))
    with pytest.raises(TypeError):
        as_post(["p1", "teks"])
