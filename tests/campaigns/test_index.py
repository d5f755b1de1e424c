"""CampaignIndex end to end with real datasketch: planted campaigns found, unrelated posts kept apart,
min_accounts, the window, missing accounts/times flagged, batches that build on earlier ones."""

from __future__ import annotations

import dataclasses

from support.campaign_posts import DISTINCT, HOUR, MESSAGE, VARIANTS

from pantau.campaigns import ACCOUNTS_UNKNOWN, TIMES_UNKNOWN, CampaignIndex, CampaignPost


def _status(result) -> dict[str, str]:
    return {a.post_id: a.status for a in result.assignments}


def test_planted_near_duplicates_across_accounts_are_one_campaign(settings):
    index = CampaignIndex(settings)
    posts = [CampaignPost(f"v{i}", text, f"buzzer{i}", i * 600.0) for i, text in enumerate(VARIANTS)]
    posts += [CampaignPost(f"d{i}", text, f"user{i}", 100.0 + i) for i, text in enumerate(DISTINCT)]
    result = index.add(posts)
    found = {a.post_id: a.campaign_id for a in result.assignments}
    assert {found[f"v{i}"] for i in range(len(VARIANTS))} == {"C000001"}
    assert all(found[f"d{i}"] is None for i in range(len(DISTINCT)))
    (campaign,) = result.campaigns
    assert campaign.campaign_id == "C000001" and campaign.basis == "accounts"
    assert set(campaign.post_ids) == {f"v{i}" for i in range(len(VARIANTS))}
    assert len(campaign.accounts) == len(VARIANTS) and campaign.flags == ()
    assert (campaign.first_seen, campaign.last_seen) == (0.0, (len(VARIANTS) - 1) * 600.0)
    assert result.notes == ()


def test_different_posts_are_not_merged(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"d{i}", t, f"u{i}", float(i)) for i, t in enumerate(DISTINCT))
    assert set(_status(result).values()) == {"unique"}
    assert index.campaigns() == []
    # a post sharing a theme and some words with the campaign message is still not part of it
    index.add([CampaignPost(f"v{i}", MESSAGE, f"b{i}", 50.0 + i) for i in range(3)])
    near = "Ayo warga dukung paslon nomor satu karena programnya jelas untuk petani dan nelayan kita"
    assert index.add([CampaignPost("other", near, "x", 60.0)]).assignments[0].status == "unique"


def test_one_account_repeating_itself_is_no_campaign(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"s{i}", VARIANTS[i % 4], "spammer", i * 60.0) for i in range(20))
    assert set(_status(result).values()) == {"cluster"}
    assert index.campaigns() == [] and result.campaigns == ()
    # two accounts are still too few for min_accounts=3; the third makes the campaign
    assert index.add([CampaignPost("t1", MESSAGE, "second", 2000.0)]).assignments[0].status == "cluster"
    result = index.add([CampaignPost("t2", MESSAGE, "third", 2100.0)])
    assert result.assignments[0].status == "campaign"
    (campaign,) = result.campaigns
    assert len(campaign.post_ids) == 22 and campaign.accounts == ("second", "spammer", "third")


def test_earlier_batches_posts_are_listed_when_they_become_a_campaign(settings):
    index = CampaignIndex(settings)
    first = index.add([CampaignPost("a", VARIANTS[0], "u1", 0.0), CampaignPost("b", VARIANTS[1], "u2", 10.0)])
    assert [a.campaign_id for a in first.assignments] == [None, None]
    second = index.add([CampaignPost("c", VARIANTS[2], "u3", 20.0)])
    (campaign,) = second.campaigns
    assert campaign.post_ids == ("a", "b", "c")
    assert index.campaign_of("a") == campaign.campaign_id


def test_window_expiry(settings):
    index = CampaignIndex(settings)  # 48 hours
    index.add([CampaignPost(f"old{i}", MESSAGE, f"u{i}", i * HOUR) for i in range(2)])
    assert len(index) == 2
    # 49 hours after the first post: it has left the window, the second (48 h before) has not
    result = index.add([CampaignPost("new", MESSAGE, "u9", 49 * HOUR)])
    assert result.counts["expired"] == 1 and len(index) == 2
    assert result.assignments[0].status == "cluster"  # linked to old1 only: two accounts
    # far later, everything old has left: the same text starts afresh
    result = index.add([CampaignPost("later", MESSAGE, "u7", 200 * HOUR)])
    assert result.assignments[0].status == "unique" and len(index) == 1
    assert index.campaign_of("old0") is None


def test_posts_far_apart_never_form_a_campaign(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"p{i}", MESSAGE, f"u{i}", i * 50 * HOUR) for i in range(6))
    assert set(_status(result).values()) == {"unique"}


def test_campaign_outlives_its_window(settings):
    index = CampaignIndex(settings)
    index.add(CampaignPost(f"v{i}", MESSAGE, f"u{i}", float(i)) for i in range(3))
    index.add([CampaignPost("tick", DISTINCT[0], "x", 100 * HOUR)])
    (campaign,) = index.campaigns()
    assert campaign.post_ids == () and campaign.posts_total == 3


def test_late_and_repeated_posts(settings):
    index = CampaignIndex(settings)
    index.add(CampaignPost(f"v{i}", MESSAGE, f"u{i}", 100 * HOUR + i) for i in range(3))
    result = index.add(
        [CampaignPost("v0", MESSAGE, "u0", 100 * HOUR), CampaignPost("ancient", MESSAGE, "u8", 10 * HOUR)]
    )
    assert [(a.status, a.campaign_id) for a in result.assignments] == [("seen", "C000001"), ("late", None)]
    assert any("older than the current window" in n for n in result.notes)
    assert index.campaign("C000001").posts_total == 3


def test_short_posts_are_not_clustered(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"s{i}", "mantap gan 👍", f"u{i}", float(i)) for i in range(5))
    assert set(_status(result).values()) == {"too_short"}
    assert any("too short" in n for n in result.notes)


def test_without_times_the_window_is_ignored_and_said(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"v{i}", MESSAGE, f"u{i}") for i in range(3))
    (campaign,) = result.campaigns
    assert TIMES_UNKNOWN in campaign.flags and campaign.posts_without_time == 3
    assert campaign.first_seen is None
    assert result.counts["without_time"] == 3
    assert any("without posted_at" in n and "window was not applied" in n for n in result.notes)
    # a timed post long after still matches them: no time, no window
    later = index.add([CampaignPost("t", MESSAGE, "u9", 1000 * HOUR)])
    assert later.assignments[0].campaign_id == campaign.campaign_id


def test_without_accounts_clusters_count_posts_and_are_flagged(settings):
    index = CampaignIndex(settings)
    result = index.add(CampaignPost(f"v{i}", VARIANTS[i], None, float(i)) for i in range(3))
    (campaign,) = result.campaigns
    assert campaign.basis == "posts" and campaign.accounts == ()
    assert ACCOUNTS_UNKNOWN in campaign.flags and campaign.posts_without_account == 3
    assert any("without an account" in n and ACCOUNTS_UNKNOWN in n for n in result.notes)
    # once enough real accounts join, the campaign stands on accounts (still flagged for the unknown ones)
    index.add(CampaignPost(f"k{i}", MESSAGE, f"acc{i}", 10.0 + i) for i in range(3))
    campaign = index.campaign(campaign.campaign_id)
    assert campaign.basis == "accounts" and ACCOUNTS_UNKNOWN in campaign.flags


def test_two_campaigns_bridged_by_a_post_merge(settings):
    # true Jaccard of the shingle sets: a~bridge 0.62, b~bridge 0.64, a~b 0.27 (128-permutation estimates
    # 0.52, 0.65, 0.17); a threshold of 0.45 links the bridge to both and keeps a and b apart
    index = CampaignIndex(dataclasses.replace(settings, threshold=0.45))
    a = "Tolak kenaikan harga BBM sekarang juga rakyat kecil makin susah hidupnya"
    b = "rakyat kecil makin susah hidupnya pemerintah harus turun tangan bantu kami"
    index.add(CampaignPost(f"a{i}", a, f"x{i}", float(i)) for i in range(3))
    index.add(CampaignPost(f"b{i}", b, f"y{i}", 10.0 + i) for i in range(3))
    assert [c.campaign_id for c in index.campaigns()] == ["C000001", "C000002"]
    result = index.add([CampaignPost("bridge", f"{a} pemerintah harus turun tangan bantu kami", "z", 20.0)])
    assert result.merged == {"C000002": "C000001"}
    assert result.assignments[0].campaign_id == "C000001"
    assert [c.campaign_id for c in index.campaigns()] == ["C000001"]
    merged = index.campaign("C000002")  # the absorbed id leads to the one it joined
    assert merged.campaign_id == "C000001" and len(merged.post_ids) == 7 and merged.posts_total == 7
    assert len(merged.accounts) == 7


def test_max_posts_evicts_oldest_and_says_so(settings):
    index = CampaignIndex(dataclasses.replace(settings, max_posts=5))
    result = index.add(CampaignPost(f"d{i}", t, f"u{i}") for i, t in enumerate(DISTINCT[:8]))
    assert len(index) == 5 and result.counts["evicted"] == 3
    assert any("max_posts" in n for n in result.notes)


def test_mappings_and_tuples_are_accepted(settings):
    index = CampaignIndex(settings)
    result = index.add(
        [
            {"id": "m1", "text": MESSAGE, "author": "a", "posted_at": "2024-02-01T10:00:00+07:00"},
            ("m2", MESSAGE, "b", "2024-02-01T11:00:00+07:00"),
            {"post_id": "m3", "text": MESSAGE, "account": "c", "posted_at": "2024-02-01T12:00:00+07:00"},
        ]
    )
    assert {a.campaign_id for a in result.assignments} == {"C000001"}


def test_a_post_leaving_the_window_in_its_own_batch_keeps_its_campaign(settings):
    index = CampaignIndex(settings)
    posts = [CampaignPost(f"v{i}", MESSAGE, f"u{i}", i * HOUR) for i in range(3)]
    posts.append(CampaignPost("much-later", DISTINCT[0], "x", 100 * HOUR))  # expires the three
    result = index.add(posts)
    assert [a.campaign_id for a in result.assignments] == ["C000001"] * 3 + [None]
    assert [a.status for a in result.assignments] == ["campaign"] * 3 + ["unique"]
    assert len(index) == 1
