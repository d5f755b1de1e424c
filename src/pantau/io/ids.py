"""A compact index of the post ids a run has seen, shared by every input file of the run.

Each id is kept as a 64-bit hash (8 bytes) in a sorted NumPy array plus a small set of recent ids, so
10⁷ ids take about 80 MB instead of the ~1 GB a Python ``set`` of strings would. The recent set is kept
small (≤ 1/256 of the array, at least 65,536): a Python int in a set costs ~60 bytes, so a set allowed to
grow with the index (it once could reach 1/8 of it) made 10⁷ ids cost ~60 bytes each in resident memory
(measured: benchmarks/memory.py). Two different ids
share a hash with probability about n²/2⁶⁵ (3·10⁻⁴ at 10⁸ ids); such an id is rejected as a
duplicate, never lost: it is in the rejects file with its reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

_MERGE_AT = 65_536


def id_key(post_id: str) -> int:
    """The 64-bit key of one id."""
    digest = hashlib.blake2b(post_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class IdIndex:
    """``add(id)`` → ``True`` the first time an id is seen, ``False`` afterwards."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._sorted = np.empty(0, dtype=np.int64)
        self._recent: set[int] = set()
        self.update(ids)

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, post_id: object) -> bool:
        return isinstance(post_id, str) and self._has(id_key(post_id))

    def _has(self, key: int) -> bool:
        if key in self._recent:
            return True
        i = int(np.searchsorted(self._sorted, key))
        return i < len(self._sorted) and int(self._sorted[i]) == key

    def add(self, post_id: str) -> bool:
        """Record ``post_id``; ``False`` when it was already there."""
        key = id_key(post_id)
        if self._has(key):
            return False
        self._recent.add(key)
        # A merge copies the array once (no re-sort), so merging every 1/256 of it costs ~256 bytes
        # copied per id added: cheap next to reading and scoring the post.
        if len(self._recent) >= max(_MERGE_AT, len(self._sorted) // 256):
            self._merge()
        return True

    def update(self, ids: Iterable[str]) -> None:
        """Record many ids at once (restoring a run from its committed parts)."""
        keys = np.fromiter((id_key(i) for i in ids), dtype=np.int64)
        if len(keys):
            self._merge()
            self._sorted = np.union1d(self._sorted, keys)

    def _merge(self) -> None:
        if self._recent:
            recent = np.sort(np.fromiter(self._recent, dtype=np.int64, count=len(self._recent)))
            # Both sorted and disjoint (an id is only added when absent): insert in one pass.
            self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, recent), recent)
            self._recent.clear()

    @property
    def nbytes(self) -> int:
        """Approximate memory held (the array plus ~60 bytes per recent id)."""
        return int(self._sorted.nbytes) + 60 * len(self._recent)
