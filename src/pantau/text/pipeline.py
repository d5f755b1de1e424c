"""The two named preprocessing pipelines and their versions.

``transformer``: normalise only (stemming hurts a subword model). ``classic``: normalise, then Sastrawi
stems with our stopword list removed, for the TF-IDF baseline. Model folders record
``PREPROCESSING_VERSION[pipeline]`` (via :func:`preprocessing_version`) so scoring cannot mix them up.
"""

from __future__ import annotations

import functools
import hashlib
import weakref
from collections.abc import Iterable
from pathlib import Path

from pantau.text.normaliser import Normaliser, default_normaliser
from pantau.text.stem import stem_tokens

# Bump a pipeline's number whenever its output changes for some input.
PREPROCESSING_VERSION: dict[str, str] = {"transformer": "transformer/1", "classic": "classic/1"}
PIPELINES: tuple[str, ...] = tuple(PREPROCESSING_VERSION)


def _check_pipeline(pipeline: str) -> None:
    if pipeline not in PREPROCESSING_VERSION:
        raise ValueError(
            f"unknown preprocessing pipeline {pipeline!r}; valid pipelines: {', '.join(PIPELINES)}"
        )


@functools.cache
def _kamusalay_normaliser(path: str, lowercase: bool) -> Normaliser:
    from pantau.text import resources
    from pantau.text.slang import build_slang_map, load_kamusalay

    # our core entries win over kamusalay's where both define a word
    return Normaliser(
        lowercase=lowercase, slang_map=build_slang_map(load_kamusalay(path), resources.core_slang())
    )


def get_normaliser(
    *, lowercase: bool = True, slang: bool = True, kamusalay_path: str | Path | None = None
) -> Normaliser:
    """The shared normaliser for these settings (kamusalay entries added to the core slang when a path is given)."""
    if kamusalay_path is not None and slang:
        return _kamusalay_normaliser(str(Path(kamusalay_path).resolve()), lowercase)
    return default_normaliser(lowercase, slang)


def preprocess(
    texts: Iterable[str],
    pipeline: str = "transformer",
    *,
    lowercase: bool = True,
    slang: bool = True,
    kamusalay_path: str | Path | None = None,
    stopwords: bool = True,
) -> list[str]:
    """Preprocess posts with a named pipeline; returns one string per input, in order.

    ``classic`` returns space-joined stems. Raises ValueError for an unknown pipeline and TypeError for a
    non-string item.
    """
    _check_pipeline(pipeline)
    normaliser = get_normaliser(lowercase=lowercase, slang=slang, kamusalay_path=kamusalay_path)
    if pipeline == "transformer":
        norm = normaliser.normalise
        return [norm(t) for t in texts]
    return [_classic(normaliser, t, stopwords) for t in texts]


# per normaliser (its settings decide the chunks' text) and stopword switch: chunk -> stems
_CLASSIC_MEMO: weakref.WeakKeyDictionary[Normaliser, dict[bool, dict[str, str]]] = weakref.WeakKeyDictionary()


def _classic(normaliser: Normaliser, text: str, stopwords: bool) -> str:
    """``" ".join(stem_tokens(normaliser.normalise(text)))``, memoised per chunk.

    Stems are computed per word and chunks are separated by spaces, so stemming each normalised chunk and
    joining gives the same string as stemming the whole normalised post; a repeated chunk then costs one
    lookup instead of a normalise lookup plus a stem lookup per word.
    """
    memos = _CLASSIC_MEMO.setdefault(normaliser, {})
    memo = memos.get(stopwords)
    if memo is None or len(memo) > 400_000:
        memo = memos[stopwords] = {}
    out = []
    for chunk in normaliser.chunks(text):
        stems = memo.get(chunk)
        if stems is None:
            stems = memo[chunk] = " ".join(
                stem_tokens(normaliser.normalise_chunk(chunk), stopwords=stopwords)
            )
        if stems:
            out.append(stems)
    return " ".join(out)


def preprocessing_version(
    pipeline: str, *, lowercase: bool = True, slang: bool = True, kamusalay_path: str | Path | None = None
) -> str:
    """The version string a model folder records: the pipeline version plus any non-default option.

    A kamusalay file is identified by the first 12 hex digits of its SHA-256, so a changed file changes it.
    """
    _check_pipeline(pipeline)
    parts = [PREPROCESSING_VERSION[pipeline]]
    if not lowercase:
        parts.append("cased")
    if not slang:
        parts.append("noslang")
    elif kamusalay_path is not None:
        digest = hashlib.sha256(Path(kamusalay_path).read_bytes()).hexdigest()[:12]
        parts.append(f"kamusalay-{digest}")
    return "+".join(parts)
