"""Save/load: a loaded index continues exactly as the one that never stopped; wrong files are refused."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from support.campaign_posts import DISTINCT, HOUR, VARIANTS

from pantau.campaigns import CampaignIndex, CampaignPost, CampaignStateError, load_index, save_index


def _stream(n: int = 400, seed: int = 3) -> list[CampaignPost]:
    """Campaign variants and unrelated posts over ~6 days, some without account or time."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        t = i * 0.35 * HOUR
        if rng.random() < 0.3:
            text, account = rng.choice(VARIANTS), f"b{rng.randrange(12)}"
        else:
            text, account = f"{rng.choice(DISTINCT)} nomor {i} {rng.choice(DISTINCT)}", f"u{i}"
        if rng.random() < 0.05:
            account = None
        posts.append(CampaignPost(f"p{i}", text, account, None if rng.random() < 0.03 else t))
    return posts


def _batches(posts, size):
    return [posts[i : i + size] for i in range(0, len(posts), size)]


def test_round_trip_continues_identically(settings, tmp_path):
    posts = _stream()
    batches = _batches(posts, 37)
    settings = dataclasses.replace(settings, max_posts=150)  # eviction state must survive too
    straight = CampaignIndex(settings)
    straight_results = [straight.add(b) for b in batches]

    resumed = CampaignIndex(settings)
    for b in batches[:5]:
        resumed.add(b)
    path = save_index(resumed, tmp_path / "state" / "campaigns.npz")
    resumed = load_index(path)
    assert resumed.settings == settings
    resumed_results = [resumed.add(b) for b in batches[5:]]
    assert resumed_results == straight_results[5:]
    assert resumed.campaigns() == straight.campaigns()
    assert len(resumed) == len(straight) and resumed.watermark == straight.watermark
    assert resumed.totals == straight.totals
    assert straight.campaigns(), "the stream must plant at least one campaign"


def test_save_twice_gives_the_same_index(settings, tmp_path):
    index = CampaignIndex(settings)
    index.add(_stream(120))
    a = load_index(save_index(index, tmp_path / "a.npz"))
    b = load_index(save_index(a, tmp_path / "b.npz"))
    assert a.campaigns() == b.campaigns() == index.campaigns()
    with np.load(tmp_path / "a.npz") as fa, np.load(tmp_path / "b.npz") as fb:
        assert fa.files == fb.files
        for k in fa.files:
            assert np.array_equal(fa[k], fb[k], equal_nan=fa[k].dtype.kind == "f"), k


def test_window_and_accounts_may_change_on_load(settings, tmp_path):
    index = CampaignIndex(settings)
    index.add(_stream(60))
    path = save_index(index, tmp_path / "s.npz")
    loaded = load_index(path, dataclasses.replace(settings, window_hours=24, min_accounts=4, threshold=0.7))
    assert loaded.settings.window_hours == 24 and len(loaded) == len(index)


@pytest.mark.parametrize(("key", "value"), [("num_perm", 64), ("shingle_size", 4), ("shingle_unit", "word")])
def test_signature_settings_must_match(settings, tmp_path, key, value):
    index = CampaignIndex(settings)
    index.add(_stream(30))
    path = save_index(index, tmp_path / "s.npz")
    with pytest.raises(CampaignStateError, match=key):
        load_index(path, dataclasses.replace(settings, **{key: value}))


def test_not_a_state_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not numpy")
    with pytest.raises(CampaignStateError, match="not a saved campaign index"):
        load_index(bad)
    with pytest.raises(CampaignStateError):
        load_index(tmp_path / "missing.npz")
