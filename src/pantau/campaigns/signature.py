"""MinHash signatures (datasketch) of shingle sets, and their estimated Jaccard similarity."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash

SCHEME = "affine32"  # datasketch's default permutation scheme since 2.0; recorded in saved state
SEED = 1
# Shingles are hashed with CRC-32 (C, deterministic across processes) instead of datasketch's default SHA-1:
# ~5x faster on ~100 shingles a post, and the affine32 scheme mixes the value (murmur3 finaliser) before
# permuting, so CRC's weak avalanche does not matter. Recorded in saved state.
HASH = "crc32"


class Signer:
    """Signs shingle sets with ``num_perm`` MinHash permutations, drawn once (fixed seed, so a saved index
    and a new one sign alike)."""

    def __init__(self, num_perm: int, seed: int = SEED):
        self.num_perm = num_perm
        self.seed = seed
        self._permutations = MinHash(num_perm, seed=seed, scheme=SCHEME).permutations

    def sign(self, shingles: Iterable[bytes]) -> np.ndarray:
        """The signature (``num_perm`` uint32 values) of one shingle set."""
        m = MinHash(
            self.num_perm, seed=self.seed, hashfunc=zlib.crc32, permutations=self._permutations, scheme=SCHEME
        )
        m.update_batch(shingles)
        return m.hashvalues

    def lean(self, hashvalues: np.ndarray) -> LeanMinHash:
        """A datasketch MinHash object over stored values, for the LSH index."""
        return LeanMinHash(seed=self.seed, hashvalues=hashvalues, scheme=SCHEME)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    return float(np.count_nonzero(a == b)) / len(a)
