"""pantau: find provocative content in Indonesian social-media posts and route it to human reviewers.

The public face::

    from pantau import Classifier, load_settings, score_files
    clf = Classifier.load("models/pantau-classifier")
    clf.predict_proba(["dasar cebong"])

Names load on first use, so ``import pantau`` (and ``pantau --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Classifier": "pantau.model.classifier",
    "Settings": "pantau.config",
    "load_settings": "pantau.config",
    "score_files": "pantau.scoring.local",
}
__all__ = ["Classifier", "Settings", "__version__", "load_settings", "score_files"]

if TYPE_CHECKING:
    from pantau.config import Settings, load_settings
    from pantau.model.classifier import Classifier
    from pantau.scoring.local import score_files


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'pantau' has no attribute {name!r}")
