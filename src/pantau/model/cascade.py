"""The ensemble cascade (``score.cascade``): the baseline member scores every post; a post whose baseline
reading is far enough below every label's threshold skips the transformer member.

Why the baseline: on a monitoring desk most posts are harmless, and the bag-of-words member reads a post in
well under a millisecond where the encoder needs tens. The rule is about *the ensemble's* decision: the
baseline member's calibrated log-odds stand in for the transformer's (the blend weights of a label sum to 1,
so the blend becomes the baseline's own log-odds), the ensemble's temperature applies, and the post is
skipped when that stand-in lies far enough below the threshold of *every* label. A skipped post is
therefore never flagged, and its probabilities are the stand-in's (below every threshold, ranked by the
baseline).

"Far enough" is measured in what the transformer could still change (``distance: transformer_weight``):
the stand-in differs from the real blend by the transformer's blend weight ``w`` times how far its
log-odds lie above the baseline's, so a label's gap counts as ``gap / w``. A label the transformer carries
at 0.8 (abusive, where profane everyday posts split the two members) needs twice the gap of one it carries
at 0.4. ``margin`` is then one bound for all labels on how far the transformer may read a post above the
baseline, tuned on the validation split when the ensemble is assembled (:func:`tune_margin`) as the smallest
that keeps ``target_recall`` of the full ensemble's flags (post × label) on posts that are not skipped; it is
recorded in the folder's meta (``cascade``). One bound rather than one per label: the validation split holds
few flags of the rare labels, and a per-label margin fitted on a handful of posts promises a recall nobody
measured. Folders tuned before the weighting (no ``distance`` recorded) keep the plain gap they were tuned
on. Measured on the 2026-12-04 real-plan ensemble, at 99.5 % of the full ensemble's flags the best margin
skips 60.3 % of a desk stream with the weighting and 54.9 % without (today's set: 56.2 % and 54.4 %).
"""

from __future__ import annotations

import numpy as np

from pantau.model.calibrate import logit

DEFAULT_TARGET_RECALL = 0.995
# meta["cascade"]["distance"]: how the gap below a threshold is counted (absent: plain log-odds).
WEIGHTED_DISTANCE = "transformer_weight"


def standin_logits(baseline_probs: np.ndarray) -> np.ndarray:
    """The blend's log-odds with the baseline member's reading in place of the transformer's."""
    return logit(np.asarray(baseline_probs, dtype=np.float64))


def below_thresholds(z: np.ndarray, thresholds: np.ndarray, temperatures: np.ndarray,
                     reach: np.ndarray | None = None) -> np.ndarray:
    """Per post: how far the ensemble score ``z / T`` lies below the nearest threshold (min over labels), in
    log-odds, or with ``reach`` (per label, the transformer's blend weight) in log-odds of the transformer's
    reading: each label's gap divided by its weight. A label the transformer does not weigh at all cannot
    be moved by it, so it never stops a skip unless the stand-in already reaches its threshold."""
    gap = logit(np.asarray(thresholds, dtype=np.float64)) - z / np.asarray(temperatures, dtype=np.float64)
    if reach is not None:
        gap = gap / np.maximum(np.asarray(reach, dtype=np.float64), 1e-12)
    return gap.min(axis=1) if gap.shape[1] else np.full(len(gap), np.inf)


def transformer_reach(weights: np.ndarray, first: int) -> np.ndarray:
    """Per label, the blend weight of the members other than ``first`` (``weights``: [labels, members])."""
    w = np.asarray(weights, dtype=np.float64)
    return 1.0 - w[:, first]


# The margin that just keeps the target on validation is fitted to those posts: measured on held-out and real
# posts it kept only 93.5–98.8 % of the flags. A fixed buffer beyond it buys the recall back at the cost of
# fewer skips. 1.5 log-odds of the transformer's reading is the plain rule's 1.0 log-odds of the blend at the
# transformer's typical weight of 2/3; on 2026-12-04's desk stream (fp32 scores, offline) it kept 99.57 % of the
# flags (1.0: 99.46 %); the int8 cascade there, whose re-check band also lets int8 noise through, 99.46 %.
SAFETY_LOGODDS = 1.5


def tune_margin(distance: np.ndarray, full_flags: np.ndarray, *, target_recall: float = DEFAULT_TARGET_RECALL,
                safety: float = SAFETY_LOGODDS) -> float:
    """The smallest margin ≥ 0 such that skipping posts with ``distance ≥ margin`` keeps ``target_recall`` of
    ``full_flags`` ([n, L] booleans, the full ensemble's flags), plus ``safety`` log-odds; ``inf`` (skip
    nothing) when nothing is flagged."""
    flags_per_post = np.asarray(full_flags, dtype=bool).sum(axis=1)
    total = int(flags_per_post.sum())
    if total == 0:
        return float("inf")
    allowed = int(np.floor((1.0 - target_recall) * total + 1e-9))  # flags we may lose
    if allowed >= total:
        return safety
    flagged = np.flatnonzero(flags_per_post)
    order = flagged[np.argsort(-distance[flagged], kind="stable")]
    lost = np.cumsum(flags_per_post[order])
    # The first flagged post (farthest below) whose loss would exceed the allowance must not be skipped.
    keep = order[int(np.searchsorted(lost, allowed, side="right"))]
    return float(max(np.nextafter(distance[keep], np.inf), 0.0)) + safety


def skipped(distance: np.ndarray, margin: float) -> np.ndarray:
    """Posts the rule lets skip the full model."""
    return np.asarray(distance) >= margin
