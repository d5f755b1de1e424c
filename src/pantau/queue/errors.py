"""What queue operations raise; the web app maps each class to one HTTP status."""

from __future__ import annotations

from pydantic import ValidationError


class QueueError(Exception):
    """An operation is not allowed in the item's current state (message says why)."""


class NotFound(QueueError):
    """The item or user does not exist."""


class Forbidden(QueueError):
    """The user's role does not allow this operation."""


class ClaimLost(QueueError):
    """The item is no longer held by the person deciding it (the lease ran out, or it was released)."""


class Invalid(QueueError, ValueError):
    """The request itself is wrong: a bad filter, decision, user name or argument.

    A ``ValueError`` too, so callers that validated input with ``except ValueError`` keep working.
    """


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
