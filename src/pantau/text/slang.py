"""Slang dictionaries: our core list plus a loader for the ``new_kamusalay.csv`` format.

A slang map never rewrites a protected term (political labels, identity terms, names, places): the
public kamusalay maps ``aseng`` to ``asing`` and ``china`` to ``cina``, which changes meaning here.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from pantau.text import resources

log = logging.getLogger(__name__)

# Keys and values must be plain lowercase words (letters/digits, single spaces between words) so that a
# replacement can never introduce a URL, a hashtag or punctuation that a later pass would rewrite again.
_ENTRY = re.compile(r"[^\W_]+(?: [^\W_]+)*")


def load_kamusalay(path: str | Path) -> dict[str, str]:
    """Read a ``new_kamusalay.csv``-style file: two columns (slang, standard), no header.

    The file is decoded as UTF-8, falling back to latin-1. Entries whose key is protected, whose key and
    value are equal, or that are not plain words are skipped (counted in a debug log line).
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    protected = resources.protected_words()
    out: dict[str, str] = {}
    skipped = {"protected": 0, "malformed": 0, "identity": 0}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2:
            skipped["malformed"] += 1
            continue
        key = " ".join(row[0].lower().split())
        value = " ".join(row[1].lower().split())
        if not _ENTRY.fullmatch(key) or not _ENTRY.fullmatch(value):
            skipped["malformed"] += 1
        elif key in protected:
            skipped["protected"] += 1
        elif key == value:
            skipped["identity"] += 1
        else:
            out[key] = value
    log.debug("kamusalay %s: %d entries, skipped %s", path, len(out), skipped)
    return out


def build_slang_map(*maps: Mapping[str, str]) -> dict[str, str]:
    """Merge slang maps (later maps override earlier ones) into one that is safe to apply once per word.

    Guarantees: keys are single words of two or more characters and never protected; values are lowercase
    words of two or more characters; every word of a value maps to itself (chains like ``gw -> gue``,
    ``gue -> saya`` are resolved, cycles dropped), so normalising twice gives the same text as once.
    """
    protected = resources.protected_words()
    merged: dict[str, str] = {}
    for mapping in maps:
        for key, value in mapping.items():
            key, value = key.lower().strip(), " ".join(value.lower().split())
            if " " in key or len(key) < 2 or key in protected:
                continue  # one-letter keys would change what the spaced-letter repair sees on a second pass
            if not _ENTRY.fullmatch(key) or not _ENTRY.fullmatch(value):
                continue
            merged[key] = value

    def resolve(value: str, depth: int = 0) -> str | None:
        words = value.split(" ")
        if all(w not in merged or merged[w] == w for w in words):
            return value
        if depth > 5:
            return None  # a cycle or a very long chain
        return resolve(" ".join(merged.get(w, w) for w in words), depth + 1)

    out: dict[str, str] = {}
    for key, value in merged.items():
        resolved = resolve(value)
        if resolved is None or resolved == key:
            continue
        if any(len(w) < 2 for w in resolved.split(" ")):
            # single letters could later be joined by the spaced-letter repair ("k a d r u n")
            continue
        out[key] = resolved
    # a value word that is itself a key would be rewritten on a second pass
    return {k: v for k, v in out.items() if not any(w in out for w in v.split(" "))}
