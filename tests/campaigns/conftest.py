"""Settings shared by the campaign tests (their texts are in support/campaign_posts.py)."""

from __future__ import annotations

import pytest

from pantau.config import CampaignSettings


@pytest.fixture
def settings() -> CampaignSettings:
    return CampaignSettings(threshold=0.6, num_perm=128, window_hours=48, min_accounts=3)
