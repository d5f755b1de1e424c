"""Reviewer accounts: argon2-hashed passwords and roles (reviewer < lead < admin).

Changing a password, a role or whether an account is active ends that account's server-side
sessions in the same transaction; the last active admin can be neither demoted nor deactivated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from pantau.queue.db import write_transaction
from pantau.queue.errors import Forbidden, Invalid, QueueError
from pantau.queue.models import AuditEvent, Role, User, WebSession, utcnow
from pantau.queue.passwords import check_password

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
LAST_ADMIN = (
    "Admin aktif terakhir tidak dapat diturunkan atau dinonaktifkan; jadikan orang lain admin dulu "
    "(the last active admin cannot be demoted or deactivated; make someone else an admin first)"
)
_hasher = PasswordHasher()
# Verifying against a real hash when the user does not exist keeps login timing the same for both cases.
_DUMMY_HASH = _hasher.hash("pantau-timing-equaliser")

ROLE_RANK = {role: rank for rank, role in enumerate(Role)}
# Prebuilt: claims and decisions check the account on every call.
_ACTIVE_USER = select(User.id, User.role, User.active).where(User.id == bindparam("uid"))


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    active: bool
    session_epoch: int
    created_at: datetime

    def at_least(self, role: str) -> bool:
        """True when this user's role is ``role`` or a higher one."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def _view(row: User) -> UserView:
    return UserView(row.id, row.username, row.role, row.active, row.session_epoch, row.created_at)


def _check_role(role: str) -> None:
    if role not in ROLE_RANK:
        raise Invalid(f"role must be one of {', '.join(Role)}, got {role!r}")


def hash_password(password: str, username: str | None = None) -> str:
    """An argon2id hash of a password that meets the rules (:mod:`pantau.queue.passwords`)."""
    check_password(password, username)
    return _hasher.hash(password)


def add_user(
    engine: Engine,
    username: str,
    password: str | None,
    role: str = "reviewer",
    *,
    actor_id: int | None = None,
    password_hash: str | None = None,
) -> UserView:
    """Create an account; raises ``ValueError`` for a bad name, role or password, or a taken name.

    ``password_hash`` (an argon2 hash from :func:`hash_password`) replaces ``password`` when
    accounts are imported or many are created with one password (tests, benchmarks).
    """
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise Invalid("username must be 2-64 characters: letters, digits, '_', '.', '-'")
    _check_role(role)
    if password_hash is None:
        password_hash = hash_password(password or "", username)
    elif not password_hash.startswith("$argon2"):
        raise Invalid("password_hash must be an argon2 hash")
    now = utcnow()
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                insert(User)
                .values(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    active=True,
                    session_epoch=0,
                    created_at=now,
                )
                .returning(User.id)
            ).scalar_one()
            conn.execute(
                insert(AuditEvent).values(
                    at=now,
                    actor_id=actor_id,
                    item_id=None,
                    event="user_add",
                    detail={"username": username, "role": role},
                )
            )
    except IntegrityError:
        raise Invalid(f"user {username!r} already exists") from None
    return get_user(engine, user_id)


def get_user(engine: Engine, user_id: int) -> UserView:
    """The account with this id, or :class:`QueueError`."""
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.id == user_id)).first()
    if row is None:
        raise QueueError(f"user {user_id} does not exist")
    return _view(row)  # type: ignore[arg-type]


def find_user(engine: Engine, username: str) -> UserView | None:
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
    return None if row is None else _view(row)  # type: ignore[arg-type]


def list_users(engine: Engine) -> list[UserView]:
    with engine.connect() as conn:
        return [_view(r) for r in conn.execute(select(User).order_by(User.username))]  # type: ignore[arg-type]


def authenticate(engine: Engine, username: str, password: str) -> UserView | None:
    """The active user with this name and password, else None (same work either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.username == username)).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or not row.active:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(update(User).where(User.id == row.id).values(password_hash=_hasher.hash(password)))
    return _view(row)  # type: ignore[arg-type]


def set_password(engine: Engine, username: str, password: str, *, actor_id: int | None = None) -> None:
    """Change a password (same rules as a new account) and end the user's sessions."""
    check_password(password, username)
    _update(engine, username, {"password_hash": _hasher.hash(password)}, "user_password", actor_id)


def set_role(engine: Engine, username: str, role: str, *, actor_id: int | None = None) -> None:
    """Change a role (open sessions end so the new rights apply at once); the last active admin keeps
    the admin role."""
    _check_role(role)
    _update(engine, username, {"role": role}, "user_role", actor_id, {"role": role})


def set_active(engine: Engine, username: str, active: bool, *, actor_id: int | None = None) -> None:
    """Deactivate (or reactivate) an account; its sessions end either way. The last active admin
    cannot be deactivated (not even by themselves)."""
    _update(engine, username, {"active": active}, "user_active", actor_id, {"active": active})


def _lock_admins(conn: Connection) -> list[int]:
    """Lock every active admin row, in id order, and return their ids.

    ``FOR UPDATE`` on PostgreSQL (SQLite's write transaction already serialises writers): taken before
    the target row, always in the same order, so two admins demoting each other at once neither both
    pass nor deadlock — the second waits, then sees the first one's change."""
    return list(
        conn.execute(
            select(User.id)
            .where(User.role == Role.ADMIN, User.active.is_(True))
            .order_by(User.id)
            .with_for_update()
        ).scalars()
    )


def _keeps_an_admin(admins: list[int], target: Any, values: dict[str, object]) -> None:
    """Refuse a change that would leave no active admin (``admins``: from :func:`_lock_admins`)."""
    role = values.get("role", target.role)
    active = values.get("active", target.active)
    if target.role != Role.ADMIN or not target.active or (role == Role.ADMIN and active):
        return
    if not any(uid != target.id for uid in admins):
        raise Invalid(LAST_ADMIN)


def revoke_sessions(conn: Connection, user_id: int, why: str, now: datetime | None = None) -> int:
    """End every open session of ``user_id`` (inside the caller's transaction); how many ended."""
    res = conn.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_why=why[:16])
    )
    return res.rowcount or 0


_WHY = {"user_password": "password", "user_role": "role", "user_active": "active"}


def _update(
    engine: Engine,
    username: str,
    values: dict[str, object],
    event: str,
    actor_id: int | None,
    detail: dict[str, object] | None = None,
) -> None:
    now = utcnow()
    with write_transaction(engine) as conn:
        admins = _lock_admins(conn) if event != "user_password" else []
        target = conn.execute(
            select(User.id, User.role, User.active).where(User.username == username).with_for_update()
        ).first()
        if target is None:
            raise Invalid(f"user {username!r} does not exist")
        if event != "user_password" and all(getattr(target, k) == v for k, v in values.items()):
            return  # nothing changes (the admin form sends role and state together): sessions stay
        _keeps_an_admin(admins, target, values)
        conn.execute(
            update(User).where(User.id == target.id).values(**values, session_epoch=User.session_epoch + 1)
        )
        ended = revoke_sessions(conn, target.id, _WHY.get(event, "admin"), now)
        conn.execute(
            insert(AuditEvent).values(
                at=now,
                actor_id=actor_id,
                item_id=None,
                event=event,
                detail={"username": username, **(detail or {}), "sessions_ended": ended},
            )
        )


def require_active(conn: Connection, user_id: int) -> Any:
    """The user's id, role and active flag, or :class:`Forbidden` for a missing or deactivated account."""
    user = conn.execute(_ACTIVE_USER, {"uid": user_id}).first()
    if user is None or not user.active:
        raise Forbidden(f"user {user_id} does not exist or is deactivated")
    return user
