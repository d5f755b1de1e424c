"""The label taxonomy: the one place labels, display names and Pasal 280 hints are defined.

Everything else (corpus loaders, training, scoring, the review queue, the web app) imports from here,
so the label order of a model, a predictions file and a queue item can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """One multi-label output of the classifier."""

    key: str
    name_id: str
    name_en: str
    definition: str
    pasal_280: tuple[str, ...]


@dataclass(frozen=True)
class Pasal280Clause:
    """A clause of UU 7/2017 Pasal 280 ayat (1) a reviewer may consider (a suggestion, never a verdict)."""

    key: str
    huruf: str
    text_id: str
    text_en: str


PASAL_280: tuple[Pasal280Clause, ...] = (
    Pasal280Clause(
        "280_1_c",
        "c",
        "menghina seseorang, agama, suku, ras, golongan, calon, dan/atau peserta Pemilu yang lain",
        "insulting a person, religion, ethnicity, race, group, candidate and/or other election participant",
    ),
    Pasal280Clause(
        "280_1_d",
        "d",
        "menghasut dan mengadu domba perseorangan ataupun masyarakat",
        "inciting and pitting individuals or the public against each other",
    ),
    Pasal280Clause(
        "280_1_e",
        "e",
        "mengganggu ketertiban umum",
        "disturbing public order",
    ),
    Pasal280Clause(
        "280_1_f",
        "f",
        "mengancam untuk melakukan kekerasan atau menganjurkan penggunaan kekerasan kepada seseorang, "
        "sekelompok anggota masyarakat, dan/atau peserta Pemilu yang lain",
        "threatening violence or advocating the use of violence against a person, a group of the public "
        "and/or other election participants",
    ),
)

PASAL_280_BY_KEY: dict[str, Pasal280Clause] = {c.key: c for c in PASAL_280}

LABELS: tuple[Label, ...] = (
    Label(
        "hate_speech",
        "Ujaran kebencian",
        "Hate speech",
        "Attacks or demeans people for who they are: religion, ethnicity/race, gender, body, group "
        "(including political group).",
        ("280_1_c",),
    ),
    Label(
        "abusive",
        "Kata kasar",
        "Abusive language",
        "Profanity and insults, whether or not aimed at a group.",
        ("280_1_c",),
    ),
    Label(
        "divisive_label",
        "Label memecah belah",
        "Divisive political label",
        "Uses a derogatory political-camp label (cebong, kampret, kadrun, buzzerRp, antek asing, 'PKI' or "
        "'kafir' as smears ...) to demean people; merely mentioning a label is not a use.",
        ("280_1_c", "280_1_d"),
    ),
    Label(
        "incitement",
        "Hasutan / adu domba",
        "Incitement",
        "Calls to act against people (expel, attack, besiege, persecute) or to pit groups against each other.",
        ("280_1_d", "280_1_e", "280_1_f"),
    ),
)

#: Label keys in model output order. Models store their own order; this is the default for new models.
LABEL_KEYS: tuple[str, ...] = tuple(label.key for label in LABELS)
LABELS_BY_KEY: dict[str, Label] = {label.key: label for label in LABELS}

# Hate-speech detail (Ibrohim & Budi 2019). Stored as strings in corpora; empty when not hate speech.
HS_TARGETS: tuple[str, ...] = ("individual", "group")
HS_CATEGORIES: tuple[str, ...] = ("religion", "race", "physical", "gender", "other")
HS_STRENGTHS: tuple[str, ...] = ("weak", "moderate", "strong")
HS_DETAIL_COLUMNS: tuple[str, ...] = ("hs_target", "hs_category", "hs_strength")

HS_DISPLAY_ID: dict[str, str] = {
    "individual": "individu",
    "group": "kelompok",
    "religion": "agama",
    "race": "ras/etnis",
    "physical": "fisik",
    "gender": "gender",
    "other": "lainnya",
    "weak": "lemah",
    "moderate": "sedang",
    "strong": "kuat",
}

# How a sample-corpus post relates to the divisive vocabulary; used for the mention-vs-use slices.
# How a post relates to divisive vocabulary. Our sample uses the first six; the team's annotations of real
# posts (data/annotations/GUIDELINE.md) use use / mention / literal / quote / none.
SAMPLE_KINDS: tuple[str, ...] = ("use", "mention", "literal", "exclamation", "criticism", "neutral")
POST_KINDS: tuple[str, ...] = (*SAMPLE_KINDS, "quote", "none")


def label(key: str) -> Label:
    """Return the label with this key, or raise ``KeyError`` listing the valid keys."""
    try:
        return LABELS_BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown label {key!r}; valid labels: {', '.join(LABEL_KEYS)}") from None


def pasal_280_hints(flags: dict[str, bool]) -> list[Pasal280Clause]:
    """Clauses a reviewer may consider for a post with these label flags, in clause order."""
    keys = {clause for key, on in flags.items() if on for clause in label(key).pasal_280}
    return [clause for clause in PASAL_280 if clause.key in keys]
