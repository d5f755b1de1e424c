"""Sastrawi stemming done right: one stemmer per process, a word memo, protected words, known exceptions.

Creating a Sastrawi stemmer loads its 30k-word dictionary (about 10 ms); tutorials that build one per post
or call ``stem()`` on whole posts spend most of their time there and in re-stemming the same words. Here the
stemmer is built once (:func:`sastrawi_stemmer`), each distinct word is stemmed once (:func:`stem_word`
memo), and the result is exactly Sastrawi's except for protected words (names, places, political labels:
``bali`` stays ``bali``, not ``bal``) and the listed over-stemming exceptions (``pemilu`` stays ``pemilu``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from pantau.text import resources

_MEMO_LIMIT = 1_000_000
_STEMS: dict[str, str] = {}

# Sastrawi's own text normalisation (Stemmer.Filter.TextNormalizer), so our tokens line up with its words
_NON_WORD = re.compile(r"[^a-z0-9 -]")


@functools.cache
def sastrawi_stemmer() -> Any:
    """The process-wide Sastrawi stemmer (``CachedStemmer`` over the default dictionary)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@functools.cache
def _overrides() -> dict[str, str]:
    """Words whose stem is ours, not Sastrawi's: protected words map to themselves, then the exceptions."""
    out = {w: w for w in resources.protected_words()}
    out.update(resources.stem_exceptions())
    return out


def sastrawi_tokens(text: str) -> list[str]:
    """Split text into words exactly as Sastrawi's ``stem()`` does (lowercase; only a-z, 0-9, ``-`` kept)."""
    return _NON_WORD.sub(" ", text.lower()).split()


def stem_word(word: str) -> str:
    """Stem one lowercase word: protected words and exceptions first, else Sastrawi (memoised)."""
    hit = _STEMS.get(word)
    if hit is None:
        hit = _overrides().get(word)
        if hit is None:
            hit = _stem_plain(word)
        if len(_STEMS) >= _MEMO_LIMIT:
            _STEMS.clear()
        _STEMS[word] = hit
    return hit


_DIGIT = re.compile(r"[0-9]")
# Every Sastrawi prefix rule is anchored at one of these word starts (di/ke/se, me-, pe-, be-, te-, ku-,
# kau-, and the CS infix rules C+el/em/er/in+V); every suffix rule at one of these endings.
_SASTRAWI_PREFIX = re.compile(
    r"(?:me|pe|be|te|ku|kau|di|ke|se)|[bcdfghjklmnpqrstvwxyz](?:el|em|er|in)[aiueo]"
)
_SASTRAWI_SUFFIX = re.compile(r"(?:lah|kah|tah|pun|ku|mu|nya|is|isme|isasi|i|kan|an)$")


def _stem_plain(word: str) -> str:
    """Exactly Sastrawi's ``stem(word)``, skipping its work where its answer is known in advance.

    Sastrawi (1.2.1) returns either the word itself or a dictionary root, and for an unhyphenated word
    only rewrites its edges through rules anchored at the starts/ends above. So it returns the word
    unchanged when the word is a root, contains a digit (no root does, and digits are never removed), or
    neither starts nor ends like any affix rule — the last case is most unknown slang, names and typos,
    where Sastrawi spends most of its time trying every rule. A word that ends like a suffix but starts
    like no prefix rule gets Sastrawi's suffix steps replayed (:func:`_stem_suffixes_only`); hyphenated
    words go through Sastrawi's plural procedure (:func:`_stem_plural`) with these shortcuts per half.
    All of it is checked against Sastrawi on real vocabulary in tests/text/test_stem.py and on every word
    of benchmarks/preprocess.py.
    """
    if "-" not in word:
        return _stem_singular(word)
    if _is_plural(word):
        return _stem_plural(word) or word
    return sastrawi_stemmer().stem(word) or word


def _stem_singular(word: str) -> str:
    """Sastrawi's ``stem_singular_word`` with the shortcuts above for unhyphenated words."""
    if "-" not in word:
        if word in _roots() or _DIGIT.search(word):
            return word
        if not _SASTRAWI_PREFIX.match(word):
            return _stem_suffixes_only(word) if _SASTRAWI_SUFFIX.search(word) else word
    return sastrawi_stemmer().delegatedStemmer.stem_singular_word(word)


_PARTICLE = re.compile(r"-*(lah|kah|tah|pun)$")
_POSSESSIVE = re.compile(r"-*(ku|mu|nya)$")
_DERIVATIONAL = re.compile(r"(is|isme|isasi|i|kan|an)$")


def _stem_suffixes_only(word: str) -> str:
    """Sastrawi 1.2.1's ``Context`` for a word no prefix rule can touch (it does not start like one).

    What Sastrawi then does, in its order: remove the particle, the possessive, the derivational suffix
    (each with its own regex), returning the first result that is a root (only the particle step for words
    of three letters or fewer, which ``DontStemShortWord`` stops); every prefix step is a no-op; its
    "loop pengembalian akhiran" can only add ``<stem>k`` where ``-kan`` was removed. Otherwise the word.
    """
    roots = _roots()
    current = word
    removed: list[tuple[str, str]] = []  # (subject, result)
    for suffix in (_PARTICLE, _POSSESSIVE, _DERIVATIONAL):
        result = suffix.sub("", current, count=1)
        if result != current:
            removed.append((current, result))
            current = result
        if current in roots:
            return current
        if len(word) <= 3:
            break
    for subject, result in reversed(removed):
        if subject[len(result) :] == "kan" and result + "k" in roots:
            return result + "k"
    return word


_PLURAL_PARTICLE = re.compile(r"^(.*)-(ku|mu|nya|lah|kah|tah|pun)$")
_LAST_HYPHEN = re.compile(r"^(.*)-(.*)$")
_PLURAL_SUFFIXES = frozenset(("ku", "mu", "nya", "lah", "kah", "tah", "pun"))


def _is_plural(word: str) -> bool:
    """Sastrawi 1.2.1 ``Stemmer.is_plural``."""
    m = _PLURAL_PARTICLE.match(word)
    if m:
        return "-" in m.group(1)
    return "-" in word


def _stem_plural(plural: str) -> str:
    """Sastrawi 1.2.1 ``Stemmer.stem_plural_word`` (Asian 2007), with the singular shortcuts for each half.

    Line for line the same decisions: split at the last hyphen (moving a particle such as ``-nya`` to the
    second half), stem both halves, retry the second as ``me`` + half, and return the common root or the
    word unchanged. Checked against Sastrawi on every hyphenated word of benchmarks/preprocess.py.
    """
    m = _LAST_HYPHEN.match(plural)
    if not m:
        return plural
    first, second = m.group(1), m.group(2)
    inner = _LAST_HYPHEN.match(first)
    if second in _PLURAL_SUFFIXES and inner:
        first, second = inner.group(1), inner.group(2) + "-" + second
    root1 = _stem_singular(first)
    root2 = _stem_singular(second)
    if second not in _roots() and root2 == second:
        root2 = _stem_singular("me" + second)
    return root1 if root1 == root2 else plural


@functools.cache
def _roots() -> frozenset[str]:
    return resources.sastrawi_roots()


def is_override(word: str) -> str | None:
    """Why our stem of ``word`` may differ from Sastrawi's: ``"protected"``, ``"exception"`` or None."""
    if word in resources.protected_words():
        return "protected"
    if word in resources.stem_exceptions():
        return "exception"
    return None


def stem_tokens(normalised: str, *, stopwords: bool = True) -> list[str]:
    """Stems of a normalised post for the classic pipeline, stopwords (our list) removed when asked.

    Tokens made only of hyphens are dropped; everything else maps one-to-one onto Sastrawi's words.
    """
    get = _STEMS.get
    tokens = _NON_WORD.sub(" ", normalised.lower()).split()
    if stopwords:
        stop = resources.stopwords()
        return [get(t) or stem_word(t) for t in tokens if t not in stop and t.strip("-")]
    return [get(t) or stem_word(t) for t in tokens if t.strip("-")]


def stem_cache() -> dict[str, str]:
    """A copy of the word -> stem memo (e.g. to ship with a baseline model so scoring starts warm)."""
    return dict(_STEMS)


def warm_stem_cache(stems: Mapping[str, str]) -> int:
    """Preload word -> stem pairs produced by :func:`stem_cache` (overrides still win). Returns the count."""
    overrides = _overrides()
    n = 0
    for word, stem in stems.items():
        if not isinstance(word, str) or not isinstance(stem, str) or not stem:
            raise ValueError(f"stem cache entries must be non-empty strings, got {word!r}: {stem!r}")
        _STEMS[word] = overrides.get(word, stem)
        n += 1
    return n
