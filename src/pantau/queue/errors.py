"""What queue operations raise; the web app maps each class to one HTTP status.

Each class carries a bilingual ``title`` (Indonesian, English) saying what kind of refusal it is; the
message says which item or rule, for the person and for the log.
"""

from __future__ import annotations

from pydantic import ValidationError


class QueueError(Exception):
    """An operation is not allowed in the item's current state (message says why)."""

    title: tuple[str, str] = (
        "Tindakan ini tidak bisa dilakukan pada keadaan item sekarang",
        "not possible in the item's current state",
    )


class NotFound(QueueError):
    """The item or user does not exist."""

    title = ("Tidak ditemukan", "not found")


class Forbidden(QueueError):
    """The user's role does not allow this operation."""

    title = ("Akses ditolak", "forbidden")


class ClaimLost(QueueError):
    """The item is no longer held by the person deciding it (the lease ran out, or it was released)."""

    title = (
        "Item ini sudah tidak Anda pegang (waktu klaim habis atau dilepas)",
        "you no longer hold this item: the claim ran out or was released",
    )


class Invalid(QueueError, ValueError):
    """The request itself is wrong: a bad filter, decision, user name or argument.

    A ``ValueError`` too, so callers that validated input with ``except ValueError`` keep working.
    """

    title = ("Permintaan tidak valid", "invalid request")


def describe(exc: ValidationError) -> str:
    """A pydantic error as the plain sentences our validators wrote, joined by '; '."""
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        cause = (err.get("ctx") or {}).get("error")
        if cause is not None:
            parts.append(str(cause))
        elif err["type"] == "missing":
            parts.append(f"{'.'.join(map(str, err['loc']))} is required")
        else:
            parts.append(err["msg"])
    return "; ".join(parts)


__all__ = ["ClaimLost", "Forbidden", "Invalid", "NotFound", "QueueError", "describe"]
