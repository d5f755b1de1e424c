"""Alembic environment: runs on the connection handed over by ``pantau.queue.db.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pantau.queue.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from a shell
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("pass the database with -x url=... (or use `pantau queue migrate`)")
    with create_engine(url).begin() as conn:
        _run(conn)
