"""CampaignSettings: params.yaml's campaigns block loads, bad values are rejected with the key named."""

from __future__ import annotations

import pytest

from pantau.config import CampaignSettings, ConfigError, load_settings


def test_params_yaml_block_loads(repo_root):
    settings = load_settings(repo_root / "params.yaml", env={})
    assert settings.campaigns == CampaignSettings(**vars(settings.campaigns))
    assert 0 < settings.campaigns.threshold < 1
    assert settings.campaigns.min_accounts >= 2


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("threshold", 0.0),
        ("threshold", 1.0),
        ("threshold", 1.5),
        ("num_perm", 8),
        ("shingle_unit", "line"),
        ("shingle_size", 0),
        ("min_tokens", 0),
        ("window_hours", 0),
        ("window_hours", -3),
        ("min_accounts", 1),
        ("max_posts", 0),
    ],
)
def test_bad_settings_rejected(key, value):
    with pytest.raises(ConfigError, match=f"campaigns.{key}"):
        load_settings(None, env={}, overrides={f"campaigns.{key}": value})


def test_unknown_key_and_wrong_type_rejected():
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(None, env={}, overrides={"campaigns.jaccard": 0.5})
    with pytest.raises(ConfigError, match="campaigns.num_perm"):
        load_settings(None, env={}, overrides={"campaigns.num_perm": "many"})


def test_environment_override():
    settings = load_settings(None, env={"PANTAU_CAMPAIGNS__MIN_ACCOUNTS": "5"})
    assert settings.campaigns.min_accounts == 5
