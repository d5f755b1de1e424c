"""Normalise Indonesian social-media text for models, without losing the words that matter here.

(Longer than our ~450-line guide on purpose: the steps below are one ordered pipeline whose rules depend
on each other's output and are versioned together; split across modules, their order would be hidden.)

Steps, in order (each documented choice is part of ``PREPROCESSING_VERSION``):

1. Unicode clean-up (only for non-ASCII text): NFKC (fullwidth and mathematical letters become plain
   letters), zero-width, bidi-control and soft-hyphen characters removed (a zero-width joiner is kept only
   between two non-word characters, inside emoji sequences), Cyrillic/Greek look-alikes mapped to Latin,
   Latin accents stripped, lone surrogates replaced by U+FFFD, control characters become spaces.
2. Spaced-out letters joined when the result is a known word: ``k a d r u n``, ``k.a.d.r.u.n``, ``K-A-D``.
3. Per whitespace-separated chunk (memoised, so a repeated chunk costs one dict lookup):
   corpus masks and real handles/links become placeholders — ``@user`` (mentions; Ibrohim's ``USER``,
   IndoNLU's ``[USERNAME]``), ``httpurl`` (links; ``URL``, ``[URL]``), ``emailaddr`` (e-mail addresses);
   hashtags lose ``#`` and are split into words (``#KadrunLaknat`` → ``kadrun laknat``, ``#2019gantipresiden``
   → ``2019 ganti presiden`` by dictionary segmentation); then lowercasing.
4. Per word (memoised): protected words are left alone; ``teman2`` → ``teman-teman`` (``berkali2`` →
   ``berkali-kali``); leetspeak undone only when the result is a known word (``k4drun`` → ``kadrun``,
   ``2019`` stays); runs of three or more letters squeezed to two or one letter when that gives a known word
   (``bangeeet`` → ``banget``, ``maaaaf`` → ``maaf``, ``KADRUNNN`` → ``kadrun``), else to two letters;
   double letters are never touched (``maaf``, ``saat``, ``Allah``, ``meeting``); finally slang replaced
   from the dictionary. "Known" means a Sastrawi root (optionally with common affixes), a slang entry, a
   stopword, a protected word or a lexicon variant.

Punctuation stays attached to its word; whitespace becomes single spaces. ``normalise`` is idempotent:
normalising its output returns it unchanged (property-tested).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping

from pantau.text import resources

URL_TOKEN = "httpurl"
USER_TOKEN = "@user"
EMAIL_TOKEN = "emailaddr"
PLACEHOLDERS = (URL_TOKEN, USER_TOKEN, EMAIL_TOKEN)

_MAX_WORD = 30  # letters in the longest word a spaced-out run or a hashtag piece is tried as
_MAX_SPACED_RUN = 200  # single letters in a row beyond which no joining is attempted
_MEMO_LIMIT = 400_000  # entries per memo; cleared when full so a long scoring job cannot grow without bound

# -- 1. unicode -------------------------------------------------------------------------------------------
_DELETE = "\u200b\u200c\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f" + "".join(
    map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
)
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "г": "r",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
# both cases of every look-alike, so that lowercasing a cleaned text cannot bring one back
_CONFUSABLES.update(
    {k.upper(): v.upper() for k, v in list(_CONFUSABLES.items()) if k.upper() not in _CONFUSABLES}
)
_CONFUSABLES.update(
    {k.lower(): v.lower() for k, v in list(_CONFUSABLES.items()) if k.lower() not in _CONFUSABLES}
)
_TRANSLATE = {**dict.fromkeys(map(ord, _DELETE)), **{ord(k): v for k, v in _CONFUSABLES.items()}}
# a zero-width joiner is kept only between two symbols (emoji sequences); next to a letter, a digit, a space
# or the end of the text it is an obfuscation or noise
_ZWJ_NEAR_WORD = re.compile(r"(?<![^\w\s])\u200d|\u200d(?![^\w\s])")
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _strip_zwj(s: str) -> str:
    while "\u200d" in s:
        joined = _ZWJ_NEAR_WORD.sub("", s)
        if joined == s:
            break
        s = joined
    return s


def _lower(s: str) -> str:
    """Lowercase that stays clean: a few non-ASCII letters lowercase into characters step 1 rewrites."""
    low = s.lower()
    if low.isascii():
        return low
    for _ in range(3):
        again = unicode_clean(low).lower()
        if again == low:
            break
        low = again
    return low


def unicode_clean(text: str) -> str:
    """Step 1 alone: NFKC, invisible characters out, look-alikes and accents to plain Latin."""
    s = _SURROGATES.sub("\ufffd", text)
    for _ in range(3):  # a few characters need two rounds (a look-alike carrying an accent)
        before = s
        s = unicodedata.normalize("NFKC", s).translate(_TRANSLATE)
        s = _strip_zwj(s)
        s = unicodedata.normalize("NFD", s)
        s = _LATIN_MARKS.sub("", s)
        s = unicodedata.normalize("NFKC", s)
        if s == before:
            break
    return s


# -- 2. spaced-out letters --------------------------------------------------------------------------------
_SEP = r"(?:\s*[.\-_*/,#]\s*|\s+)"
_SPACED = re.compile(rf"(?<![^\W_])[^\W_](?:{_SEP}[^\W_](?![^\W_])){{2,}}")
# necessary for a spaced-out run: one letter with a separator on both sides (cheap to scan for)
_SPACED_HINT = re.compile(r"[\s.\-_*/,#][^\W_][\s.\-_*/,#]")
_ALNUM = re.compile(r"[^\W_]")

# -- 3. chunks --------------------------------------------------------------------------------------------
# Patterns start with a literal where they can (the lookbehind follows it): the regex engine then jumps
# to candidate positions instead of trying every character, which is most of the time spent here.
_BRACKET_MASKS = re.compile(r"\[(?:USERNAME|USER)\]|<(?:USERNAME|USER)>")
_USER_MASK = re.compile(r"USER(?<![^\W_@#]USER)(?![^\W_])")
_BRACKET_URL_MASKS = re.compile(r"\[URL\]|<URL>")
_URL_MASK = re.compile(r"URL(?<![^\W_@#/.]URL)(?![^\W_])")
_URL = re.compile(
    r"(?:https?://|www\.)\S+|"
    r"(?<![^\W_@.])(?:[a-z0-9-]+\.)+(?:com|net|org|co\.id|id|ly|me|io|gl|tv)(?:/\S*)?(?![^\W_])",
    re.IGNORECASE,
)
_DOMAIN_HINT = re.compile(r"\.(?:com|net|org|co\.id|id|ly|me|io|gl|tv)(?![^\W_])", re.IGNORECASE)
# the lookbehinds make a match start only where a run starts: no quadratic rescans of one long run
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"@(?<![^\W_]@)\w{1,50}")
_PLACEHOLDER_SPLIT = re.compile(r"(@user|httpurl|emailaddr)")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")

# -- 4. words ---------------------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+(?:[@$!|][^\W_]+)*")
_PLAIN_WORD = re.compile(r"[^\W_]+")
_DUP2 = re.compile(r"([^\W\d_]{2,})2")
# three or more of the same letter: elongation. Double letters are never touched: they are real in
# Indonesian (maaf, saat, kenyataannya, Allah) and in names and loanwords (Hassan, meeting).
_RUN = re.compile(r"([^\W\d_])\1{2,}")
_LEET: dict[str, tuple[str, ...]] = {
    "4": ("a",), "@": ("a",), "3": ("e",), "1": ("i", "l"), "!": ("i",), "|": ("l",), "0": ("o",),
    "5": ("s",), "$": ("s",), "7": ("t",), "6": ("g", "b"), "9": ("g",), "8": ("b",),
}  # fmt: skip
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("", ""), ("di", ""), ("ke", ""), ("se", ""), ("ber", ""), ("be", ""), ("ter", ""), ("te", ""),
    ("me", ""), ("mem", ""), ("mem", "p"), ("men", ""), ("men", "t"), ("meng", ""), ("meng", "k"),
    ("meny", "s"), ("pe", ""), ("pem", ""), ("pem", "p"), ("pen", ""), ("pen", "t"), ("peng", ""),
    ("peng", "k"), ("peny", "s"), ("per", ""), ("memper", ""), ("diper", ""), ("ng", ""), ("ny", "s"),
)  # fmt: skip
_SUFFIXES = ("", "nya", "lah", "kah", "pun", "ku", "mu", "kan", "an", "i", "in")


def _memo_put(memo: dict[str, str], key: str, value: str) -> str:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


class Normaliser:
    """A configured normaliser with its own memo tables. Build once, call :meth:`normalise` many times.

    ``slang_map`` replaces the core slang dictionary when given (build it with
    :func:`pantau.text.slang.build_slang_map`, e.g. core + kamusalay); protected words are never rewritten.
    """

    def __init__(
        self, *, lowercase: bool = True, slang: bool = True, slang_map: Mapping[str, str] | None = None
    ):
        from pantau.text.slang import build_slang_map

        self.lowercase = lowercase
        self.slang: dict[str, str] = {}
        if slang:
            # always through build_slang_map: no protected or one-letter keys, chains resolved
            self.slang = build_slang_map(slang_map if slang_map is not None else resources.core_slang())
        self.protected = resources.protected_words()
        self._known = _known_words()
        self._roots = resources.sastrawi_roots()
        self._chunks: dict[str, str] = {}
        self._words: dict[str, str] = {}
        self._known_memo: dict[str, bool] = {}
        self._repair_memo: dict[str, str | None] = {}
        if self.slang:
            self._stabilise_slang()

    def _stabilise_slang(self) -> None:
        """Rewrite slang values into their normalised form and drop the ones that never settle.

        A dictionary value such as ``kenyataanya`` would itself be squeezed on a second pass; storing the
        value as the normaliser would print it keeps ``normalise`` idempotent.
        """
        for _ in range(4):
            changed = False
            for key, value in list(self.slang.items()):
                fixed = " ".join(" ".join(self._word(w).split()) for w in value.split(" "))
                if fixed != value:
                    changed = True
                    if fixed == key or not fixed or any(len(w) < 2 for w in fixed.split(" ")):
                        del self.slang[key]
                    else:
                        self.slang[key] = fixed
            self._words.clear()
            self._known_memo.clear()  # "known" includes slang keys, which may have been dropped
            self._repair_memo.clear()
            if not changed:
                return
        # still moving after four rounds: keep only the entries that are stable now
        unstable = [k for k, v in self.slang.items() if " ".join(self._word(w) for w in v.split(" ")) != v]
        for key in unstable:
            del self.slang[key]
        self._words.clear()
        self._known_memo.clear()
        self._repair_memo.clear()

    # -- public -------------------------------------------------------------------------------------------
    def normalise(self, text: str) -> str:
        """Normalise one post (see the module docstring for the steps)."""
        get = self._chunks.get
        out = [get(c) or self._chunk(c) for c in self.chunks(text)]
        return " ".join(filter(None, out))

    def chunks(self, text: str) -> list[str]:
        """Steps 1-2 on the whole post, then its whitespace-separated chunks (each one goes to
        :meth:`normalise_chunk`; joining their non-empty results with spaces is :meth:`normalise`)."""
        if not isinstance(text, str):
            raise TypeError(f"normalise() expects str, got {type(text).__name__}")
        s = _CONTROL.sub(" ", text)
        if not s.isascii():
            s = unicode_clean(s)
        # placeholders before the spaced-letter repair, so "k.a.d.r.u.nhttp://..." reads the same twice
        s = _placeholders(s)
        if _SPACED_HINT.search(s) and _SPACED.search(s):
            s = _SPACED.sub(self._join_spaced, s)
        return s.split()

    def normalise_chunk(self, chunk: str) -> str:
        """Step 3-4 for one chunk from :meth:`chunks` (memoised; may return "" or several words)."""
        return self._chunks.get(chunk) or self._chunk(chunk)

    # -- known words --------------------------------------------------------------------------------------
    def is_known(self, word: str) -> bool:
        """A dictionary word (Sastrawi roots, slang, lexicon, stopwords, protected) or a root with affixes."""
        hit = self._known_memo.get(word)
        if hit is None:
            hit = len(word) >= 2 and (
                word in self._known or word in self.slang or _affixed_root(word, self._known)
            )
            if len(self._known_memo) >= _MEMO_LIMIT:
                self._known_memo.clear()
            self._known_memo[word] = hit
        return hit

    def _repair(self, word: str) -> str | None:
        hit = self._repair_memo.get(word, "")
        if hit == "":
            hit = self._repair_uncached(word)
            if len(self._repair_memo) >= _MEMO_LIMIT:
                self._repair_memo.clear()
            self._repair_memo[word] = hit
        return hit

    def _repair_uncached(self, word: str) -> str | None:
        """The known word that ``word`` spells once leetspeak and repeated letters are undone, else None.

        Dictionary words win over words that are only known as root + affixes: ``sekaliii`` is ``sekali``,
        not ``sekalii`` (which would pass as sekali + -i). Leetspeak must give a dictionary word outright
        (``4juni`` is a date, not "ajuni").
        """
        if self.is_known(word):
            return word
        candidates = list(self._candidates(word))
        for candidate in candidates:
            if candidate in self._known or candidate in self.slang:
                return candidate
        if any(ch in _LEET for ch in word):
            return None
        for candidate in candidates:
            if self.is_known(candidate):
                return candidate
        return None

    def _candidates(self, word: str) -> Iterator[str]:
        """Spellings to try, most faithful first: leetspeak undone, then each 3+ run as two letters or one."""
        bases = [word]
        if any(ch in _LEET for ch in word):
            letters = sum(ch.isalpha() for ch in word)
            if letters < 2 or len(word) - letters > letters or not word[-1].isalpha():
                return  # mostly digits, or a trailing digit: a number, a date, a model name (ber4, kom3)
            options = [_LEET.get(ch, (ch,)) for ch in word]
            bases = ["".join(c) for c in itertools.islice(itertools.product(*options), 16)]
        for base in bases:
            if base != word:
                yield base
            yield from _squeezed(base)

    # -- steps --------------------------------------------------------------------------------------------
    # -- steps --------------------------------------------------------------------------------------------
    def _join_spaced(self, match: re.Match[str]) -> str:
        letters = _ALNUM.findall(match.group())
        if len(letters) > _MAX_SPACED_RUN:
            return match.group()  # hundreds of single letters: noise or an attack, not a spelled-out word
        pieces: list[str] = []
        i, n = 0, len(letters)
        while i < n:
            for j in range(min(n, i + _MAX_WORD), i + 2, -1):  # longest known run of 3+ letters at i
                candidate = "".join(letters[i:j])
                if not candidate.isdigit() and self._repair(candidate.lower()) is not None:
                    pieces.append(candidate)
                    i = j
                    break
            else:
                pieces.append(letters[i])
                i += 1
        if len(pieces) == n:
            return match.group()  # nothing joined: keep the original separators
        return " ".join(pieces)

    def _chunk(self, chunk: str) -> str:
        if chunk.isalnum() and chunk != "USER" and chunk != "URL":
            # most chunks are one plain word: no placeholder, hashtag or punctuation can be in them
            word = _lower(chunk) if self.lowercase else chunk
            result = self._words.get(word) or _memo_put(self._words, word, self._word(word))
            if len(chunk) <= 200:
                _memo_put(self._chunks, chunk, result)
            return result
        s = _placeholders(chunk)  # again: joined letters or hashtag pieces can form a handle or a mask
        if s != chunk:
            out = []
            for piece in _PLACEHOLDER_SPLIT.split(s):
                if piece in PLACEHOLDERS:
                    out.append(piece)
                else:
                    # what is left between placeholders is shorter than the chunk: normalise it as a chunk
                    out.extend(self._chunks.get(p) or self._chunk(p) for p in piece.split())
            result = " ".join(filter(None, out))
        else:
            result = self._plain(s)
        if "\u200d" in result:
            result = _strip_zwj(result)  # a piece next to an emoji sequence may now end the chunk
        if len(chunk) <= 200:
            _memo_put(self._chunks, chunk, result)
        return result

    def _plain(self, s: str) -> str:
        """A chunk without placeholders: hashtags, lowercasing, words."""
        if "#" in s:
            s = _HASHTAG.sub(self._hashtag, s)
            if " " in s:
                # the pieces are new chunks: a camel-case piece may be a corpus mask ("#BeritaURL")
                return " ".join(filter(None, (self._chunks.get(p) or self._chunk(p) for p in s.split())))
        if self.lowercase:
            s = _lower(s)
        return _WORD.sub(self._word_match, s)

    def _hashtag(self, match: re.Match[str]) -> str:
        words: list[str] = []
        for part in match.group(1).split("_"):
            if not part:
                continue
            pieces = _CAMEL.findall(part) if part[1:] != part[1:].lower() and part != part.upper() else []
            if pieces and min(map(len, pieces)) > 1:
                words.extend(pieces)
            else:
                # lowercase, all caps, or camel case with one-letter pieces ("iPhone", "a1A"): single
                # letters in the output could later be read as spaced-out letters
                words.extend(self._segment(part))
        return " " + " ".join(words) + " "

    def _segment(self, part: str) -> list[str]:
        """Split a lowercase hashtag body into known words (fewest pieces), or keep it whole."""
        low = part.lower()
        if len(low) > 60 or self._repair(low) is not None:
            return [part]
        n = len(low)
        best: list[tuple[int, int] | None] = [None] * (n + 1)  # (pieces, start of last piece)
        best[0] = (0, 0)
        for end in range(1, n + 1):
            for start in range(max(0, end - _MAX_WORD), end):
                prev = best[start]
                if prev is None:
                    continue
                current = best[end]
                if current is not None and current[0] <= prev[0] + 1:
                    continue
                piece = low[start:end]
                if piece.isdigit() or (len(piece) >= 2 and self._segment_word(piece)):
                    best[end] = (prev[0] + 1, start)
        if best[n] is None:
            return [part]
        pieces, end = [], n
        while end > 0:
            start = best[end][1]  # type: ignore[index]
            pieces.append(part[start:end])
            end = start
        return pieces[::-1]

    def _segment_word(self, piece: str) -> bool:
        """A hashtag piece: a known word, or leetspeak for one (#asyikm3nang, #t3tapjokowi)."""
        if self.is_known(piece):
            return True
        return any(ch in _LEET for ch in piece) and self._repair(piece) is not None

    def _word_match(self, match: re.Match[str]) -> str:
        w = match.group()
        hit = self._words.get(w)
        if hit is None:
            hit = _memo_put(self._words, w, self._word(w))
        return hit

    def _word(self, w: str) -> str:
        wl = _lower(w)
        if wl in self.protected:
            return w
        r = wl
        if not self.is_known(wl):
            dup = _DUP2.fullmatch(wl)
            if dup and self._repair(dup.group(1)) is not None:  # teman2, temaaan2, jgn2, berkali2
                base = _lower(self._word(dup.group(1)))
                if _PLAIN_WORD.fullmatch(base):
                    return f"{base}-{_redup_tail(base, self._roots)}"
            fixed = self._repair(wl)
            if fixed is not None:
                r = fixed
            elif not _PLAIN_WORD.fullmatch(wl):
                # symbols that are not leetspeak for a known word: normalise the pieces around them
                return _PLAIN_WORD.sub(self._word_match, w)
            elif _RUN.search(wl) and not _ROMAN.fullmatch(wl):  # xviii stays
                r = _squeeze_default(wl)
        if self.slang:
            r = self.slang.get(r, r)
        return w if r == wl else r


def _placeholders(s: str) -> str:
    """Corpus masks, e-mail addresses, links and handles become placeholder tokens (with spaces around)."""
    if "@" in s:
        s = _EMAIL.sub(f" {EMAIL_TOKEN} ", s)
    if "." in s and ("://" in s or "www." in s or _DOMAIN_HINT.search(s)):
        s = _URL.sub(f" {URL_TOKEN} ", s)
    if "@" in s:
        s = _MENTION.sub(f" {USER_TOKEN} ", s)
    # the corpora's masks last, so the handles they become are not matched again above
    if "[" in s or "<" in s:
        s = _BRACKET_MASKS.sub(f" {USER_TOKEN} ", s)
        s = _BRACKET_URL_MASKS.sub(f" {URL_TOKEN} ", s)
    if "USER" in s:
        s = _USER_MASK.sub(f" {USER_TOKEN} ", s)
    if "URL" in s:
        s = _URL_MASK.sub(f" {URL_TOKEN} ", s)
    return s


def _squeeze_default(word: str) -> str:
    """An unknown word's runs of three or more letters become two (keeps a possible real double letter)."""
    return _RUN.sub(lambda m: m.group(1) * 2, word)


def _squeezed(word: str) -> Iterator[str]:
    """``word`` with each run of three or more letters as two letters or one (two first); at most 4 runs."""
    runs = [(m.start(), m.end()) for m in _RUN.finditer(word)]
    if not runs or len(runs) > 4:
        return
    for combo in itertools.product((2, 1), repeat=len(runs)):
        pieces, pos = [], 0
        for (start, end), keep in zip(runs, combo, strict=True):
            pieces.append(word[pos:start])
            pieces.append(word[start] * keep)
            pos = end
        pieces.append(word[pos:])
        candidate = "".join(pieces)
        if len(candidate) >= 2:
            yield candidate


_ROMAN = re.compile(r"[ivxlcdm]+")

_REDUP_PREFIXES = ("ber", "ter", "se", "di", "ke", "meng", "men", "mem", "me", "per", "pe")


def _redup_tail(word: str, roots: frozenset[str]) -> str:
    """The part an affixed word repeats: berkali2 -> berkali-kali, seolah2 -> seolah-olah, diam2 -> diam-diam."""
    if word not in roots:
        for prefix in _REDUP_PREFIXES:
            rest = word[len(prefix) :]
            if word.startswith(prefix) and len(rest) >= 3 and rest in roots:
                return rest
    return word


_PREFIXES_BY_HEAD: dict[str, tuple[tuple[str, str], ...]] = {
    head: tuple(p for p in _PREFIXES if p[0][:2] == head) for head in {p[0][:2] for p in _PREFIXES if p[0]}
}


def _affixed_root(word: str, known: frozenset[str]) -> bool:
    """Whether ``word`` is a known root with common prefixes/suffixes (a cheap check, not a stemmer)."""
    prefixes = _PREFIXES_BY_HEAD.get(word[:2], ())
    for suffix in _SUFFIXES:
        if suffix and not word.endswith(suffix):
            continue
        stem = word[: len(word) - len(suffix)] if suffix else word
        if suffix and len(stem) >= 3 and stem in known:
            return True
        for prefix, initial in prefixes:
            if stem.startswith(prefix):
                root = initial + stem[len(prefix) :]
                if len(root) >= 3 and root in known:
                    return True
    return False


@functools.cache
def _known_words() -> frozenset[str]:
    from pantau.text.slang import build_slang_map

    words = set(resources.sastrawi_roots())
    words |= resources.stopwords() | resources.protected_words()
    for key, value in build_slang_map(resources.core_slang()).items():
        words.add(key)
        words.update(value.split())
    for term in resources.lexicon_data()["terms"]:
        for variant in [term["term"], *term.get("variants", [])]:
            v = str(variant).lower()
            words.update(v.replace("-", " ").split())
            words.add(re.sub(r"[\s-]+", "", v))
    words.update(resources.extra_words())
    words.update(("httpurl", "emailaddr", "user"))
    return frozenset(w for w in words if len(w) >= 2)


@functools.cache
def default_normaliser(lowercase: bool = True, slang: bool = True) -> Normaliser:
    """The shared normaliser for one (lowercase, slang) setting, with the core slang dictionary."""
    return Normaliser(lowercase=lowercase, slang=slang)


def normalise(text: str, *, lowercase: bool = True, slang: bool = True) -> str:
    """Normalise one post with the core slang dictionary (see :class:`Normaliser` for a custom one)."""
    return default_normaliser(lowercase, slang).normalise(text)
