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


@pytest.mark.parametrize("written", ["3e-05", "3E-5", "0.00003", "3.0e-5", "+3e-05", " 3e-05 "])
def test_numbers_in_exponent_form_read_as_numbers_from_every_source(tmp_path: Path, written: str) -> None:
    # DVC (a YAML 1.2 writer) puts `3e-05` into params.yaml for `-S train.learning_rate=3e-5`; PyYAML reads it
    # as text. Every way a setting arrives must give the same float.
    params = tmp_path / "params.yaml"
    params.write_text(f"train:\n  learning_rate: '{written}'\n  epochs: 1E0\n", encoding="utf-8")
    assert load_settings(params, env={}).train.learning_rate == pytest.approx(3e-5, rel=1e-12)
    assert load_settings(params, env={}).train.epochs == 1.0
    params.write_text(f"train:\n  learning_rate: {written.strip()}\n", encoding="utf-8")  # unquoted, as DVC writes it
    assert load_settings(params, env={}).train.learning_rate == pytest.approx(3e-5, rel=1e-12)
    blank = tmp_path / "blank.yaml"
    blank.write_text("train: {}\n", encoding="utf-8")
    from_env = load_settings(blank, env={"PANTAU_TRAIN__LEARNING_RATE": written})
    from_set = load_settings(blank, env={}, overrides={"train.learning_rate": written})
    assert from_env.train.learning_rate == from_set.train.learning_rate == pytest.approx(3e-5, rel=1e-12)


def test_number_text_that_is_not_a_number_is_still_an_error(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    for bad in ("3e", "e-5", "1e-5x", "0x10"):
        params.write_text(f"train:\n  learning_rate: '{bad}'\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="train.learning_rate: expected a number"):
            load_settings(params, env={})
    params.write_text("train:\n  batch_size: '3e1'\n", encoding="utf-8")
    assert load_settings(params, env={}).train.batch_size == 30  # a whole number in exponent form is fine
    params.write_text("train:\n  batch_size: '2.5'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="train.batch_size: expected a whole number"):
        load_settings(params, env={})


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


def test_threshold_sources_must_name_configured_sources(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  sources:\n    - {name: sample, kind: sample, path: s.csv}\n"
                      "train:\n  threshold_sources: [sample]\n", encoding="utf-8")
    assert load_settings(params, env={}).train.threshold_sources == ("sample",)
    with pytest.raises(ConfigError, match="train.threshold_sources names 'smaple', not a data.sources name"):
        load_settings(params, env={}, overrides={"train.threshold_sources": ["smaple"]})
