"""Server-side sessions of the reviewer app: started at sign-in, looked up on every request, revocable.

The session cookie carries a random token; the ``sessions`` table stores only its SHA-256, so
reading the database does not hand out live cookies. A session is valid while its row is there,
unrevoked and unexpired and its account is active. Signing out revokes the one session; a password,
role or account change revokes all of the account's sessions (:func:`pantau.queue.users.revoke_sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from pantau.queue.models import User, WebSession, utcnow
from pantau.queue.users import UserView, _view, revoke_sessions

__all__ = ["end_session", "open_session_counts", "revoke_all", "session_user", "start_session"]

# Expired and revoked rows are kept this long (for the admin's view), then swept at the next sign-in.
KEEP_ENDED = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    engine: Engine, user_id: int, *, hours: float, client: str | None = None, now: datetime | None = None
) -> str:
    """Open a session for ``user_id`` lasting ``hours``; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(WebSession).where(WebSession.expires_at < now - KEEP_ENDED))
        conn.execute(
            insert(WebSession).values(
                id=_digest(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
                client=(client or "")[:64] or None,
            )
        )
    return token


def session_user(engine: Engine, token: object, *, now: datetime | None = None) -> UserView | None:
    """The active account whose open session ``token`` is, else None (one indexed query)."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(User)
            .join(WebSession, WebSession.user_id == User.id)
            .where(
                WebSession.id == _digest(token),
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > now,
                User.active.is_(True),
            )
        ).first()
    return None if row is None else _view(row)  # type: ignore[arg-type]


def end_session(engine: Engine, token: object, *, why: str = "logout") -> int | None:
    """Revoke the session ``token`` belongs to; the id of its account, or None if it was not open."""
    if not isinstance(token, str) or not token:
        return None
    with engine.begin() as conn:
        user_id = conn.execute(
            update(WebSession)
            .where(WebSession.id == _digest(token), WebSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_why=why[:16])
            .returning(WebSession.user_id)
        ).scalar()
    return user_id


def revoke_all(engine: Engine, user_id: int, *, why: str = "admin") -> int:
    """End every open session of one account (its password, role and state unchanged)."""
    with engine.begin() as conn:
        return revoke_sessions(conn, user_id, why)


def open_session_counts(engine: Engine, *, now: datetime | None = None) -> dict[int, int]:
    """Open (unrevoked, unexpired) sessions per user id, for the admin page."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            select(WebSession.user_id, func.count())
            .where(WebSession.revoked_at.is_(None), WebSession.expires_at > now)
            .group_by(WebSession.user_id)
        )
        return {uid: n for uid, n in rows}
