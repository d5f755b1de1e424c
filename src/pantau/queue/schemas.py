"""The queue's data formats, each defined once: scored posts in, decisions in, items and decisions out.

Validators raise ``ValueError`` (pydantic type ``value_error``) for a value that breaks a rule of the
queue; a value of the wrong kind gets pydantic's own error type, so the JSON API can answer 400 for
the first and 422 for the second, as it always has.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, NotRequired

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import func
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from pantau.labels import HS_CATEGORIES, HS_STRENGTHS, HS_TARGETS, LABEL_KEYS, PASAL_280_BY_KEY
from pantau.queue.errors import Invalid
from pantau.queue.models import Action, Decision, DecisionKind, Item, Status, aged_priority

MAX_NOTE_CHARS = 5000


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a 'Z', or None."""
    return None if value is None else value.isoformat() + "Z"


def parse_datetime(value: Any) -> datetime | None:
    """None, a datetime/date, a pandas Timestamp or an ISO-8601 string → naive UTC datetime."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT has isnull semantics)
        if str(value) == "NaT":
            return None
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            dt = datetime.fromisoformat(text)  # 3.11 reads a trailing "Z"
        except ValueError:
            # Our sentence, not the parser's exception text; the value cut short (it is echoed back).
            raise Invalid(f"bukan tanggal/waktu ISO-8601 (not an ISO-8601 date/time): {text[:40]!r}") from None
    else:
        raise Invalid(f"not a date/time: {value!r}")
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC instant there is
            raise Invalid(f"tanggal/waktu di luar jangkauan (date/time out of range): {value!s:.40}") from None
    return dt


# Timestamps are naive UTC inside; JSON shows them as ISO-8601 with a 'Z'.
UtcDatetime = Annotated[datetime, PlainSerializer(iso, return_type=str, when_used="json")]


class Span(TypedDict):
    """A lexicon match in the post text: ``text[start:end]`` is ``term``; ``use`` (optional) is the
    model's probability that the term is *used* on people rather than mentioned (a baseline's
    span-context model, at scoring time)."""

    start: int
    end: int
    term: str
    category: str
    use: NotRequired[float]


# ------------------------------------------------------------------------------------------ scored posts


def _opt_str(limit: int | None) -> Any:
    def check(value: Any, info: ValidationInfo) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if not isinstance(value, str):
            value = str(value)
        if limit is not None and len(value) > limit:
            raise ValueError(f"{info.field_name} longer than {limit} characters")
        return value or None

    return BeforeValidator(check)


def _unit(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= out <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return out


OptStr = Annotated[str | None, _opt_str(255)]


class ScoredPost(BaseModel):
    """One scored post as the scoring job writes it and :func:`~pantau.queue.enqueue.enqueue` accepts it.

    Validate with ``ScoredPost.model_validate(row, context={"model_version": v})`` so a row scored by
    another model version is refused.
    """

    model_config = ConfigDict(frozen=True)

    id: Annotated[str | None, _opt_str(255)] = Field(default=None, validate_default=True)
    text: str | None = Field(default=None, validate_default=True)
    source: OptStr = None
    author: OptStr = None
    url: Annotated[str | None, _opt_str(4000)] = None
    created_at: datetime | None = None
    model_name: OptStr = None
    model_version: OptStr = None
    probabilities: dict[str, float] | None = Field(default=None, validate_default=True)
    flags: dict[str, bool] | None = Field(default=None, validate_default=True)
    thresholds: dict[str, float] | None = None
    spans: list[Span] = Field(default_factory=list)
    risk: float | None = Field(default=None, validate_default=True)

    @field_validator("id", mode="after")
    @classmethod
    def _id(cls, value: str | None) -> str:
        if not value:
            raise ValueError("missing id")
        return value

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("missing or empty text")
        return value

    @field_validator("created_at", mode="before")
    @classmethod
    def _created_at(cls, value: Any) -> datetime | None:
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise ValueError(f"created_at: {exc}") from None

    @field_validator("probabilities", mode="before")
    @classmethod
    def _probabilities(cls, value: Any) -> dict[str, float]:
        if not isinstance(value, Mapping):
            raise ValueError("probabilities must be a mapping label -> probability")  # noqa: TRY004
        missing = [k for k in LABEL_KEYS if k not in value]
        if missing:
            raise ValueError(f"probabilities lack label(s) {', '.join(missing)}")
        return {k: _unit(value[k], f"probabilities[{k}]") for k in LABEL_KEYS}

    @field_validator("flags", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> dict[str, bool]:
        if not isinstance(value, Mapping) or any(k not in value for k in LABEL_KEYS):
            raise ValueError(f"flags must map every label ({', '.join(LABEL_KEYS)}) to true/false")
        return {k: bool(value[k]) for k in LABEL_KEYS}

    @field_validator("thresholds", mode="before")
    @classmethod
    def _thresholds(cls, value: Any) -> dict[str, float] | None:
        if not isinstance(value, Mapping):
            return None  # thresholds are informative: a row without them is still a row
        return {k: _unit(value[k], f"thresholds[{k}]") for k in LABEL_KEYS if k in value}

    @field_validator("risk", mode="before")
    @classmethod
    def _risk(cls, value: Any) -> float:
        return _unit(value, "risk")

    @field_validator("spans", mode="before")
    @classmethod
    def _spans(cls, value: Any) -> list[dict[str, Any]]:
        spans = []
        for span in value or []:
            if not isinstance(span, Mapping):
                raise ValueError("each span must be a mapping with start, end, term, category")  # noqa: TRY004
            start, end = span.get("start"), span.get("end")
            if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
                raise ValueError(f"span start/end must be integers, got {start!r}, {end!r}")  # noqa: TRY004
            # term defaults to the covered text, once the text is known (see _check_spans)
            term, category = str(span.get("term") or ""), str(span.get("category") or "")
            kept: dict[str, Any] = {"start": start, "end": end, "term": term, "category": category}
            use = span.get("use")
            # informative, like thresholds: a reading that is not a probability is dropped, not refused
            if isinstance(use, int | float) and not isinstance(use, bool) and 0.0 <= use <= 1.0:
                kept["use"] = float(use)
            spans.append(kept)
        return spans

    @model_validator(mode="after")
    def _check_spans_and_version(self, info: ValidationInfo) -> ScoredPost:
        text = self.text or ""
        for span in self.spans:
            start, end = span["start"], span["end"]
            if not (0 <= start < end <= len(text)):
                raise ValueError(f"span {start}:{end} outside the text (length {len(text)})")
            if not span["term"]:
                span["term"] = text[start:end]
        expected = (info.context or {}).get("model_version")
        if self.model_version is not None and expected is not None and self.model_version != expected:
            raise ValueError(f"row model_version {self.model_version!r} differs from {expected!r}")
        return self


# --------------------------------------------------------------------------------------------- decisions


def _action(value: Any) -> Action:
    try:
        return Action(value)
    except ValueError:
        # type "enum": the API has always answered 422 for an action outside the list
        raise PydanticCustomError(
            "enum",
            "action must be one of {expected}, got {got}",
            {"expected": ", ".join(Action), "got": repr(value)},
        ) from None


def _labels(value: Any) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        raise PydanticCustomError("dict_type", "labels must map each label to true/false")
    unknown = set(value) - set(LABEL_KEYS)
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(sorted(unknown))}; valid: {', '.join(LABEL_KEYS)}")
    missing = [k for k in LABEL_KEYS if k not in value]
    if missing:
        raise ValueError(f"labels missing: {', '.join(missing)} (confirm or correct all four)")
    for k in LABEL_KEYS:
        if not isinstance(value[k], bool):
            raise PydanticCustomError("bool_type", "labels[{key}] must be true or false", {"key": k})
    return {k: value[k] for k in LABEL_KEYS}


def _note(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise PydanticCustomError("string_type", "note must be text")
    note = (value or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise PydanticCustomError("string_too_long", f"note longer than {MAX_NOTE_CHARS} characters")
    return note


class DecisionIn(BaseModel):
    """A decision: all four labels as the person set them, an action that agrees with them, optionally
    clauses and a note. ``no_violation`` carries no label and no clause; ``warn`` and ``takedown`` need
    at least one of either; ``escalate`` may carry anything. A takedown needs ``confirmed`` or a note."""

    model_config = ConfigDict(frozen=True)

    labels: Annotated[dict[str, bool], BeforeValidator(_labels)] = Field(
        description=f"all of: {', '.join(LABEL_KEYS)}"
    )
    action: Annotated[Action, BeforeValidator(_action)]
    pasal_280: tuple[str, ...] = Field(default=(), description="clause keys, e.g. 280_1_c")
    hs_target: str | None = None
    hs_category: str | None = None
    hs_strength: str | None = None
    note: Annotated[str | None, BeforeValidator(_note)] = Field(default=None, max_length=MAX_NOTE_CHARS)
    confirmed: bool = Field(default=False, description="the person confirmed a takedown or an override")

    @field_validator("pasal_280", mode="after")
    @classmethod
    def _clauses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        clauses = tuple(dict.fromkeys(value))
        bad = [c for c in clauses if c not in PASAL_280_BY_KEY]
        if bad:
            raise ValueError(f"unknown Pasal 280 clause(s) {', '.join(map(str, bad))}")
        return clauses

    @field_validator("hs_target", "hs_category", "hs_strength", mode="after")
    @classmethod
    def _detail(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = {"hs_target": HS_TARGETS, "hs_category": HS_CATEGORIES, "hs_strength": HS_STRENGTHS}
        value = value or None
        if value is not None and value not in allowed[info.field_name]:
            choices = ", ".join(allowed[info.field_name])
            raise ValueError(f"{info.field_name} must be one of {choices}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _detail_needs_hate_speech(self) -> DecisionIn:
        for name in ("hs_target", "hs_category", "hs_strength"):
            if getattr(self, name) is not None and not self.labels["hate_speech"]:
                raise ValueError(f"{name} only applies when hate_speech is true")
        return self

    @model_validator(mode="after")
    def _action_agrees_with_labels(self) -> DecisionIn:
        problem = action_problem(self.action, self.labels, self.pasal_280)
        if problem:
            raise ValueError(problem)
        if self.action == Action.TAKEDOWN and not (self.confirmed or self.note):
            raise ValueError(
                "rekomendasi turunkan perlu konfirmasi atau catatan "
                "(a takedown needs a confirmation or a note: confirmed=true)"
            )
        return self


def action_problem(action: str, labels: Mapping[str, bool], clauses: Sequence[str]) -> str | None:
    """Why ``action`` does not agree with the ticked labels and clauses, or None when it does."""
    ticked = any(labels.get(k) for k in LABEL_KEYS) or bool(clauses)
    if action == Action.NO_VIOLATION and ticked:
        return (
            "'tidak melanggar' tidak boleh disertai label atau pasal "
            "(no violation cannot carry labels or Pasal 280 clauses: untick them or choose another action)"
        )
    if action in (Action.WARN, Action.TAKEDOWN) and not ticked:
        return (
            "peringatan/turunkan perlu minimal satu label atau pasal "
            f"({action} needs at least one label or Pasal 280 clause ticked)"
        )
    return None


class DecideResult(BaseModel):
    """The outcome of a decision: the item's status after it, and why it was escalated."""

    item_id: int
    decision_id: int
    status: Status
    escalation_reason: str | None = None


# ------------------------------------------------------------------------------------------ read views


class ItemOut(BaseModel):
    """An item as pages and the API show it, built from an :class:`Item` row."""

    id: int
    post_id: str
    text: str
    source: str | None
    author: str | None
    url: str | None
    created_at: UtcDatetime | None
    model_name: str | None
    model_version: str
    probabilities: dict[str, float]
    flags: dict[str, bool]
    thresholds: dict[str, float] | None
    spans: list[Span]
    risk: float
    priority: float
    status: Status
    required_reviews: int
    review_count: int
    escalation_reason: str | None
    claimed_by: int | None
    lease_expires_at: UtcDatetime | None
    enqueued_at: UtcDatetime
    decided_at: UtcDatetime | None
    final_decision_id: int | None
    campaign_id: int | None = None  # the coordinated-posting campaign it was found in (issue 18 §2)

    @classmethod
    def from_row(cls, item: Item, *, aging_per_hour: float, now: datetime) -> ItemOut:
        """The view of one row, its priority aged to ``now``."""
        columns = {name: getattr(item, name) for name in cls.model_fields if name != "priority"}
        priority = aged_priority(item.priority_key, aging_per_hour, now)  # the sort key, aged (complaints too)
        return cls.model_validate({**columns, "priority": priority})


class DecisionOut(BaseModel):
    """A recorded decision with its reviewer's name, built from a :class:`Decision` row."""

    id: int
    item_id: int
    reviewer_id: int
    reviewer: str
    kind: DecisionKind
    labels: dict[str, bool]
    hs_target: str | None
    hs_category: str | None
    hs_strength: str | None
    action: Action
    pasal_280: list[str]
    note: str | None
    model_version: str
    created_at: UtcDatetime
    labels_entered: bool | None = None  # None: recorded while the form pre-ticked the model's labels
    undone: bool = False

    @classmethod
    def from_row(cls, decision: Decision, *, reviewer: str, undone: bool = False) -> DecisionOut:
        """The view of one decision row."""
        skip = ("reviewer", "labels", "undone")
        columns = {name: getattr(decision, name) for name in cls.model_fields if name not in skip}
        labels = {k: bool(getattr(decision, k)) for k in LABEL_KEYS}
        return cls.model_validate({**columns, "reviewer": reviewer, "labels": labels, "undone": undone})


# -------------------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class ItemFilter:
    """Queue filters shared by the web page, the API and claims."""

    label: str | None = None  # only items the model flagged with this label
    min_risk: float | None = None
    max_risk: float | None = None
    source: str | None = None
    since: datetime | None = None  # post created_at ≥
    until: datetime | None = None  # post created_at <

    def __post_init__(self) -> None:
        if self.label is not None and self.label not in LABEL_KEYS:
            raise Invalid(f"unknown label {self.label!r}; valid labels: {', '.join(LABEL_KEYS)}")
        for name in ("min_risk", "max_risk"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise Invalid(f"{name} must be in [0, 1]")

    def clauses(self) -> list[Any]:
        """SQL conditions on :class:`Item` for these filters."""
        out: list[Any] = []
        if self.label:
            out.append(Item.flags[self.label].as_boolean().is_(True))
        if self.min_risk is not None:
            out.append(Item.risk >= self.min_risk)
        if self.max_risk is not None:
            out.append(Item.risk <= self.max_risk)
        if self.source:  # "Twitter", "twitter" and "TWITTER" are one source
            out.append(func.lower(Item.source) == self.source.strip().lower())
        if self.since is not None:
            out.append(Item.created_at >= self.since)
        if self.until is not None:
            out.append(Item.created_at < self.until)
        return out


__all__ = [
    "MAX_NOTE_CHARS",
    "DecideResult",
    "DecisionIn",
    "DecisionOut",
    "ItemFilter",
    "ItemOut",
    "ScoredPost",
    "Span",
    "action_problem",
    "iso",
    "parse_datetime",
]
