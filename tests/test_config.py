"""Settings: params.yaml → typed dataclasses, env overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau.config import ConfigError, Settings, load_settings


def test_repo_params_load_with_defaults(repo_root: Path) -> None:
    settings = load_settings(repo_root / "params.yaml", env={})
    assert isinstance(settings, Settings)
    assert settings.model.base == "e5-small-offline"
    kinds = [s.kind for s in settings.data.sources]
    # The team's annotations come first (they win the dedup over the corpus copies), the sample is always there.
    assert kinds[:2] == ["annotations", "annotations"] and "sample" in kinds
    assert all(not s.required for s in settings.data.sources if s.path.startswith("../shared"))
    assert settings.path(settings.data.processed_dir) == repo_root / "data" / "processed"


def test_env_and_explicit_overrides(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  epochs: 3\n", encoding="utf-8")
    env = {"PANTAU_TRAIN__EPOCHS": "1", "PANTAU_DATABASE_URL": "postgresql://x/y", "PANTAU_TEXT__SLANG": "false"}
    settings = load_settings(params, env=env, overrides={"train.learning_rate": 1e-4})
    assert settings.train.epochs == 1.0
    assert settings.queue.database_url == "postgresql://x/y"
    assert settings.text.slang is False
    assert settings.train.learning_rate == 1e-4


def test_errors_name_the_key(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  epoch: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"train: unknown key\(s\) epoch; valid keys: .*epochs"):
        load_settings(params, env={})
    params.write_text("train:\n  batch_size: many\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="train.batch_size: expected a number"):
        load_settings(params, env={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml", env={})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("train.kind", "forest", "train.kind: 'forest' is not one of transformer, baseline, ensemble"),
        ("queue.risk_threshold", 1.5, r"queue.risk_threshold: 1.5 must be \[0.0, 1.0\]"),
        ("score.precision", "int4", "score.precision"),
        ("score.batch_size", 0, "score.batch_size: 0 must be ≥ 1"),
        ("data.conflict_rule", "min", "data.conflict_rule"),
    ],
)
def test_allowed_values_and_ranges_are_checked_in_the_settings(
    tmp_path: Path, key: str, value: object, message: str
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("{}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(params, env={}, overrides={key: value})
