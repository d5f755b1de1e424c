"""The posts a campaign index takes: id, text, account and posting time, coerced from loose input."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CampaignPost:
    """One scored post as the index sees it; ``account`` and ``posted_at`` (epoch seconds) may be unknown."""

    post_id: str
    text: str
    account: str | None = None
    posted_at: float | None = None


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas NaT / NA without importing pandas: the only values not equal to themselves
    try:
        return bool(value != value)  # noqa: PLR0124
    except (TypeError, ValueError):
        return False


def to_epoch(value: Any) -> float | None:
    """Epoch seconds from a datetime, pandas Timestamp, ISO-8601 text or number; ``None`` when missing.

    Naive datetimes are read as UTC. Raises ValueError for text that is not a time, TypeError for a bool.
    """
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    if isinstance(value, dt.datetime):  # includes pandas.Timestamp
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    raise TypeError(f"not a time: {value!r}")


def clean_account(value: Any) -> str | None:
    """The account as text, ``None`` when missing or blank (so "" and NaN both mean "unknown")."""
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def as_post(value: CampaignPost | Mapping[str, Any] | tuple[Any, ...]) -> CampaignPost:
    """A :class:`CampaignPost` from itself, a mapping (``id``/``post_id``, ``text``, ``account``/``author``,
    ``posted_at``) or a tuple ``(id, text[, account[, posted_at]])``."""
    if isinstance(value, CampaignPost):
        post_id, text, account, posted_at = value.post_id, value.text, value.account, value.posted_at
    elif isinstance(value, Mapping):
        post_id = value.get("post_id", value.get("id"))
        text = value.get("text")
        account = value.get("account", value.get("author"))
        posted_at = value.get("posted_at")
    elif isinstance(value, tuple) and 2 <= len(value) <= 4:
        post_id, text, account, posted_at = (*value, None, None)[:4]
    else:
        raise TypeError(f"expected a CampaignPost, mapping or (id, text, account, posted_at), got {value!r}")
    if _missing(post_id) or str(post_id) == "":
        raise ValueError("a post needs an id")
    if not isinstance(text, str):
        raise TypeError(f"post {post_id}: text must be str, got {type(text).__name__}")
    return CampaignPost(str(post_id), text, clean_account(account), to_epoch(posted_at))
