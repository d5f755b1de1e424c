"""MinHash signatures: deterministic across instances, estimating Jaccard similarity."""

from __future__ import annotations

import numpy as np

from pantau.campaigns import Signer, similarity


def _set(n: int, start: int = 0) -> list[bytes]:
    return [f"s{i}".encode() for i in range(start, start + n)]


def test_same_set_same_signature_across_signers():
    a, b = Signer(128), Signer(128)
    sa, sb = a.sign(_set(50)), b.sign(list(reversed(_set(50))))
    assert sa.dtype == np.uint32 and len(sa) == 128
    assert np.array_equal(sa, sb)
    assert similarity(sa, sb) == 1.0


def test_estimate_tracks_true_jaccard():
    signer = Signer(256)
    x = signer.sign(_set(200))
    y = signer.sign(_set(200, start=100))  # true Jaccard 100 / 300
    assert abs(similarity(x, y) - 1 / 3) < 0.1
    z = signer.sign(_set(200, start=1000))  # disjoint
    assert similarity(x, z) < 0.05


def test_lean_minhash_keeps_values():
    signer = Signer(64)
    hv = signer.sign(_set(10))
    assert np.array_equal(signer.lean(hv).hashvalues, hv)
