"""Indonesian text preprocessing: normaliser, Sastrawi stemming, divisive-term lexicon with spans.

Everything here is pure and offline; word lists load on first use, never on import.
"""

from pantau.text.lexicon import Lexicon, Span, find_spans, lexicon_categories, lexicon_features, load_lexicon
from pantau.text.normaliser import EMAIL_TOKEN, URL_TOKEN, USER_TOKEN, Normaliser, normalise
from pantau.text.pipeline import (
    PIPELINES,
    PREPROCESSING_VERSION,
    get_normaliser,
    preprocess,
    preprocessing_version,
)
from pantau.text.slang import build_slang_map, load_kamusalay
from pantau.text.stem import stem_tokens, stem_word

__all__ = [
    "EMAIL_TOKEN",
    "PIPELINES",
    "PREPROCESSING_VERSION",
    "URL_TOKEN",
    "USER_TOKEN",
    "Lexicon",
    "Normaliser",
    "Span",
    "build_slang_map",
    "find_spans",
    "get_normaliser",
    "lexicon_categories",
    "lexicon_features",
    "load_kamusalay",
    "load_lexicon",
    "normalise",
    "preprocess",
    "preprocessing_version",
    "stem_tokens",
    "stem_word",
]
