"""A login throttle kept in the queue database: growing delays per (username, client) and per client.

Why these keys: a throttle on the username alone lets anyone lock a reviewer out by typing wrong
passwords for them, and never slows one client guessing across many usernames. Here a wrong password
only delays further tries *from the same client*, for that username (after a few free tries) and for
any username (after more); the reviewer signing in from their own machine is not affected. Delays
double with each failure up to a cap instead of locking, and a key is forgotten after a quiet spell.
Rows live in the database so every worker sees them and a restart does not wipe them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pantau.queue.db import write_transaction
from pantau.queue.models import AuditEvent, LoginThrottleRow, utcnow

__all__ = [
    "ANY_USER",
    "ThrottlePolicy",
    "ThrottleView",
    "clear_throttle",
    "list_throttles",
    "record_failure",
    "record_success",
    "wait_seconds",
]

ANY_USER = ""  # the username of the per-client row
_T = LoginThrottleRow


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free per key, and how the delay grows after that."""

    pair_free: int = 3  # wrong passwords for one username from one client before any delay
    client_free: int = 10  # wrong passwords from one client, any usernames, before any delay
    base_seconds: float = 1.0  # the first delay; each further failure doubles it
    max_seconds: float = 900.0  # never more than 15 minutes between tries
    forget_seconds: float = 3600.0  # a key with no failure for an hour starts afresh

    def delay(self, failures: int, free: int) -> float:
        """Seconds to wait after the ``failures``-th failure on a key with ``free`` free tries."""
        if failures <= free:
            return 0.0
        return min(self.max_seconds, self.base_seconds * 2.0 ** min(failures - free - 1, 30))


@dataclass(frozen=True)
class ThrottleView:
    """One throttled key as the admin sees it."""

    username: str  # '' for the per-client key
    client: str
    failures: int
    first_failure_at: datetime
    last_failure_at: datetime
    blocked_until: datetime | None
    wait_seconds: float  # 0 when it may try again now


def _key(value: str | None) -> str:
    return (value or "")[:64]


def wait_seconds(engine: Engine, username: str, client: str, *, now: datetime | None = None) -> float:
    """How long this (username, client) must wait before another try (0: it may try now)."""
    now = now or utcnow()
    with engine.connect() as conn:
        until = conn.execute(
            select(_T.blocked_until).where(
                _T.client == _key(client),
                or_(_T.username == _key(username), _T.username == ANY_USER),
                _T.blocked_until > now,
            )
        ).scalars()
        return max(((u - now).total_seconds() for u in until if u is not None), default=0.0)


def _bump(
    conn: Connection, username: str, client: str, free: int, policy: ThrottlePolicy, now: datetime
) -> float:
    """Count one failure on a key (atomic upsert on both databases); the delay it now carries."""
    stale = now - timedelta(seconds=policy.forget_seconds)
    values = {
        "username": username,
        "client": client,
        "failures": 1,
        "first_failure_at": now,
        "last_failure_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_T).values(**values)
    fresh = _T.last_failure_at < stale
    stmt = stmt.on_conflict_do_update(
        index_elements=[_T.username, _T.client],
        set_={
            "failures": case((fresh, 1), else_=_T.failures + 1),
            "first_failure_at": case((fresh, now), else_=_T.first_failure_at),
            "last_failure_at": now,
        },
    ).returning(_T.failures)
    failures = conn.execute(stmt).scalar_one()
    delay = policy.delay(failures, free)
    if delay > 0:
        until = now + timedelta(seconds=delay)
        # Never shorten a delay another worker has just set.
        conn.execute(
            update(_T)
            .where(_T.username == username, _T.client == client)
            .values(blocked_until=case((_T.blocked_until > until, _T.blocked_until), else_=until))
        )
    return delay


def record_failure(
    engine: Engine,
    username: str,
    client: str,
    *,
    policy: ThrottlePolicy | None = None,
    now: datetime | None = None,
) -> float:
    """Count a wrong password for (username, client) and for the client; the longer resulting wait."""
    policy = policy or ThrottlePolicy()
    now = now or utcnow()
    with write_transaction(engine) as conn:
        pair = _bump(conn, _key(username), _key(client), policy.pair_free, policy, now)
        per_client = _bump(conn, ANY_USER, _key(client), policy.client_free, policy, now)
    return max(pair, per_client)


def record_success(engine: Engine, username: str, client: str) -> None:
    """A right password from this client forgets its failures for this username.

    The per-client count stays (it fades after ``forget_seconds``): otherwise one valid account would
    let a client reset its own counter between guesses at other accounts."""
    with engine.begin() as conn:
        conn.execute(delete(_T).where(_T.username == _key(username), _T.client == _key(client)))


def list_throttles(engine: Engine, *, now: datetime | None = None) -> list[ThrottleView]:
    """Every key with recent failures, the ones still waiting first."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(select(_T)).all()
        views = [
            ThrottleView(
                r.username,
                r.client,
                r.failures,
                r.first_failure_at,
                r.last_failure_at,
                r.blocked_until,
                max(0.0, (r.blocked_until - now).total_seconds()) if r.blocked_until else 0.0,
            )
            for r in rows
        ]
    return sorted(views, key=lambda v: (-v.wait_seconds, v.client, v.username))


def clear_throttle(
    engine: Engine,
    *,
    username: str | None = None,
    client: str | None = None,
    actor_id: int | None = None,
) -> int:
    """Forget failures: for one username (all clients), one client (all its keys), both, or — with
    neither given — everything. Audited as ``throttle_clear``; returns how many keys were cleared."""
    stmt = delete(_T)
    if username is not None:
        stmt = stmt.where(_T.username == _key(username))
    if client is not None:
        stmt = stmt.where(_T.client == _key(client))
    with engine.begin() as conn:
        n = conn.execute(stmt).rowcount or 0
        detail = {"username": username, "client": client, "keys": n}
        conn.execute(
            insert(AuditEvent).values(
                at=utcnow(), actor_id=actor_id, item_id=None, event="throttle_clear", detail=detail
            )
        )
    return n
