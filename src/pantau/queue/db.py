"""Engines and schema migrations for the queue database (SQLite by default, PostgreSQL via URL)."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_LOCK_TIMEOUT_S = 30.0


def normalise_url(database_url: str) -> str:
    """Pick the psycopg 3 driver for bare ``postgresql://`` URLs (psycopg2 is not installed)."""
    if not database_url or not isinstance(database_url, str):
        raise ValueError("database_url must be a non-empty SQLAlchemy URL, e.g. sqlite:///var/queue.db")
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return database_url


def resolve_url(database_url: str, root: str | os.PathLike[str] = ".") -> str:
    """The URL with a relative SQLite file path made absolute against ``root`` (the params file's
    folder), so every command finds the same ``var/queue.db`` whatever the working directory."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str((Path(root) / path).resolve()))
    return url.render_as_string(hide_password=False)


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite: parent folder created, WAL, busy timeout, and ``BEGIN IMMEDIATE``
    for connections marked ``execution_options(sqlite_immediate=True)`` (claims take the write lock
    up front so two reviewers can never read the same pending item as free)."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_conn: Any, _record: Any) -> None:
            # psycopg prepares statements server-side after 5 runs; a generic plan made while the
            # queue was empty (a sequential scan) then made enqueue's IN-list lookups take seconds at
            # 100k rows. Custom plans keep the saved parse and plan with the real values each time.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET plan_cache_mode = force_custom_plan")
            dbapi_conn.commit()

        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so we can choose IMMEDIATE (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("sqlite_immediate", False):
            _begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(dbapi_conn: Any, timeout: float = SQLITE_LOCK_TIMEOUT_S) -> None:
    """BEGIN IMMEDIATE, retried every ~1 ms while another writer holds the lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, so under contention a waiter
    oversleeps a lock that is held for a millisecond or two; polling keeps claim latency tails short.
    """
    deadline = time.monotonic() + timeout
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.0005, 0.0015))
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement on SQLite (no-op elsewhere)."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Revert migrations down to ``revision`` (``base`` drops every queue table)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def scratch_schema(database_url: str, prefix: str = "pantau_scratch") -> Iterator[str]:
    """A fresh PostgreSQL schema for tests and benchmarks: yields a URL whose connections use it
    (``search_path``), and drops the schema with everything in it on exit."""
    import uuid
    from urllib.parse import quote

    from sqlalchemy import text

    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise ValueError("scratch_schema needs a PostgreSQL URL")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        sep = "&" if "?" in url.render_as_string(hide_password=False) else "?"
        yield url.render_as_string(hide_password=False) + f"{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def open_queue(database_url: str, **kwargs: Any) -> Engine:
    """An engine on ``database_url`` with the schema migrated: build it once, use it for many calls."""
    engine = make_engine(database_url, **kwargs)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
