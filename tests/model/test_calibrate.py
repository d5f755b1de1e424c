"""Temperature scaling and threshold tuning on synthetic scores with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from pantau.model.calibrate import (
    apply_temperatures,
    calibrate,
    expected_calibration_error,
    fit_temperature,
    logit,
    objective_value,
    reliability_curve,
    sigmoid,
    tune_threshold,
)


def test_sigmoid_and_logit_are_inverse_and_stable() -> None:
    x = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    p = sigmoid(x)
    assert np.all(np.isfinite(p)) and p[0] == 0.0 and p[-1] == 1.0 and p[2] == 0.5
    np.testing.assert_allclose(logit(sigmoid(np.array([-3.0, 0.5, 4.0]))), [-3.0, 0.5, 4.0], rtol=1e-6)


def test_fit_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, 20_000)
    y = (rng.random(20_000) < sigmoid(true_logits)).astype(float)
    temp = fit_temperature(true_logits * 3.0, y)  # a model three times too confident
    assert temp == pytest.approx(3.0, rel=0.08)


def test_fit_temperature_ignores_unannotated_rows_and_single_class() -> None:
    y = np.array([1.0, 0.0, np.nan, np.nan])
    z = np.array([2.0, -2.0, 100.0, -100.0])
    assert 0.05 <= fit_temperature(z, y) <= 20.0
    assert fit_temperature(z, np.array([1.0, 1.0, np.nan, 1.0])) == 1.0


def test_tune_threshold_max_f1_separates_perfectly() -> None:
    probs = np.array([0.1, 0.2, 0.35, 0.6, 0.7, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    thr = tune_threshold(probs, y)
    assert 0.35 < thr <= 0.6
    assert ((probs >= thr) == y.astype(bool)).all()


def test_tune_threshold_target_precision_trades_recall() -> None:
    probs = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    y = np.array([1, 1, 0, 1, 0, 1, 0, 0], dtype=float)
    f1_thr = tune_threshold(probs, y, objective="f1")
    strict = tune_threshold(probs, y, objective="precision", target_precision=0.99)
    assert strict > f1_thr
    flagged = probs >= strict
    assert y[flagged].mean() == 1.0 and flagged.sum() == 2
    # An unreachable target falls back to max F1 instead of flagging nothing.
    assert (
        tune_threshold(
            np.array([0.9, 0.8]), np.array([0.0, 1.0]), objective="precision", target_precision=1.0
        )
        <= 0.8
    )
    with pytest.raises(ValueError, match="objective"):
        tune_threshold(probs, y, objective="recall")


def test_objective_value_is_what_the_tuned_threshold_achieves() -> None:
    scores = np.array([0.9, 0.8, 0.3, 0.2, 0.5])
    y = np.array([1.0, 0.0, 1.0, 0.0, np.nan])  # the unannotated row does not count
    # Best F1: everything above 0.3 flagged (P 2/3, R 1); the threshold tune_threshold picks gets it too.
    assert objective_value(scores, y) == pytest.approx(0.8)
    flagged = scores[:4] >= tune_threshold(scores, y)
    tp = (flagged & (y[:4] == 1)).sum()
    assert 2 * tp / (flagged.sum() + y[:4].sum()) == pytest.approx(0.8)
    # Best recall at precision >= 0.9: only the top post; unreachable target falls back to max F1.
    assert objective_value(scores, y, objective="precision", target_precision=0.9) == pytest.approx(0.5)
    assert objective_value(scores, y, objective="precision", target_precision=1.01) == pytest.approx(0.8)
    # Logits or probabilities: the same operating points.
    assert objective_value(logit(scores), y) == pytest.approx(0.8)
    assert objective_value(scores, np.zeros(5)) == 0.0
    with pytest.raises(ValueError, match="not one of"):
        objective_value(scores, y, objective="recall")


def test_tune_threshold_without_positives_keeps_default() -> None:
    assert tune_threshold(np.array([0.2, 0.9]), np.array([0.0, 0.0])) == 0.5
    assert tune_threshold(np.array([0.2, 0.9]), np.array([np.nan, np.nan])) == 0.5


def test_ece_zero_when_calibrated_and_large_when_not() -> None:
    probs = np.array([0.0, 0.0, 1.0, 1.0])
    assert expected_calibration_error(probs, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    assert expected_calibration_error(probs, np.array([1.0, 1.0, 0.0, 0.0])) == 1.0
    conf, acc, count = reliability_curve(np.array([0.05, 0.05, 0.95, 0.95]), np.array([0.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(conf, [0.05, 0.95])
    np.testing.assert_allclose(acc, [0.5, 1.0])
    assert count.tolist() == [2, 2]


def test_calibrate_per_label_and_apply() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    z = rng.normal(0, 2, (n, 2))
    y = (rng.random((n, 2)) < sigmoid(z)).astype(float)
    y[: n // 2, 1] = np.nan  # second label annotated by half the rows only
    cal = calibrate(np.c_[z[:, 0] * 2.0, z[:, 1] * 0.5], y, ["a", "b"])
    assert cal.temperatures["a"] == pytest.approx(2.0, rel=0.15)
    assert cal.temperatures["b"] == pytest.approx(0.5, rel=0.15)
    assert set(cal.thresholds) == {"a", "b"} and all(0 < t < 1 for t in cal.thresholds.values())
    probs = apply_temperatures(np.c_[z[:, 0] * 2.0, z[:, 1] * 0.5], ["a", "b"], cal.temperatures)
    np.testing.assert_allclose(probs, sigmoid(z), atol=0.08)
    with pytest.raises(ValueError, match="shape"):
        calibrate(z, y[:, :1], ["a", "b"])


def test_thresholds_can_be_tuned_on_some_rows_while_temperatures_use_all() -> None:
    # Our own sample is easy (positives at +1, negatives at -3); the real posts hold hard negatives
    # (mentions, at 0.5-1.5) and positives above 2. Tuned on every row, the threshold sits where the
    # sample wants it and flags the real hard negatives; tuned on the real rows it separates them.
    sample = np.r_[np.full(50, 1.0), np.full(50, -3.0)]
    real = np.r_[np.linspace(2.0, 3.0, 50), np.linspace(0.5, 1.5, 50)]
    z = np.r_[sample, real]
    t = np.r_[np.ones(50), np.zeros(50), np.ones(50), np.zeros(50)]
    is_real = np.r_[np.zeros(100, bool), np.ones(100, bool)]
    y = np.c_[t, np.r_[np.ones(10), np.zeros(190)]]  # label b: its only positives are sample rows
    logits = np.c_[z, z]
    everywhere = calibrate(logits, y, ["a", "b"])
    on_real = calibrate(logits, y, ["a", "b"], threshold_rows=is_real)
    assert on_real.temperatures == everywhere.temperatures  # fitted on every row either way
    temp = on_real.temperatures["a"]
    real_probs = sigmoid(real / temp)
    flags = real_probs >= on_real.thresholds["a"]
    assert flags.tolist() == [True] * 50 + [False] * 50
    assert (real_probs >= everywhere.thresholds["a"])[50:].any()  # all-row tuning flags real hard negatives
    # No positive of label b among the real rows: tuned on every row, as without the mask.
    assert on_real.thresholds["b"] == everywhere.thresholds["b"]
    with pytest.raises(ValueError, match="threshold_rows"):
        calibrate(logits, y, ["a", "b"], threshold_rows=is_real[:10])
