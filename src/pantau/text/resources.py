"""Packaged word lists for text preprocessing, each read once per process on first use (never on import)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

_PACKAGE = "pantau.resources"


def _read(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _lines(name: str) -> list[str]:
    """Non-empty lines with ``#`` comments removed."""
    out = []
    for line in _read(name).splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def _pairs(name: str) -> dict[str, str]:
    """A TAB-separated ``key<TAB>value`` file as a dict (keys lowercased)."""
    out: dict[str, str] = {}
    for number, line in enumerate(_read(name).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("\t")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{name}:{number}: expected 'word<TAB>replacement', got {line!r}")
        out[key.strip().lower()] = value.strip().lower()
    return out


@functools.cache
def stopwords() -> frozenset[str]:
    """Our stopword list for the classic pipeline (negations and othering pronouns deliberately absent)."""
    return frozenset(w.lower() for w in _lines("stopwords.txt"))


@functools.cache
def lexicon_data() -> dict[str, Any]:
    """The raw divisive-term lexicon (``resources/lexicon.yaml``)."""
    data = yaml.safe_load(_read("lexicon.yaml"))
    if not isinstance(data, dict) or "terms" not in data or "categories" not in data:
        raise ValueError("lexicon.yaml must have 'categories' and 'terms'")
    return data


@functools.cache
def protected_words() -> frozenset[str]:
    """Words never rewritten by slang maps and never stemmed: labels, identity terms, names, places.

    Includes every single word of every lexicon variant, so a lexicon term cannot be normalised away.
    """
    words = {w.lower() for w in _lines("protected.txt")}
    for term in lexicon_data()["terms"]:
        for variant in [term["term"], *term.get("variants", [])]:
            words.update(str(variant).lower().replace("-", " ").split())
    return frozenset(words)


@functools.cache
def core_slang() -> dict[str, str]:
    """Our core slang dictionary (informal spelling -> standard form)."""
    return _pairs("slang_core.tsv")


@functools.cache
def stem_exceptions() -> dict[str, str]:
    """Known Sastrawi over-stemming: word -> the stem we use instead."""
    return _pairs("stem_exceptions.tsv")


@functools.cache
def sastrawi_roots() -> frozenset[str]:
    """Sastrawi's root-word dictionary (kata dasar), used to decide whether a repaired spelling is a word."""
    text = resources.files("Sastrawi.Stemmer").joinpath("data", "kata-dasar.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.split("\n") if w.strip())


@functools.cache
def extra_words() -> frozenset[str]:
    """Everyday words of Indonesian social media that are not Sastrawi roots (pilpres, capres, medsos, ...)."""
    return frozenset(w.lower() for w in _lines("words_extra.txt"))
