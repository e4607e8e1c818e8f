"""Alembic environment: migrates the database named by DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.core.config import get_settings
from app.core.db import make_engine
from app.models import Base

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a connection (`alembic upgrade head --sql`)."""
    context.configure(url=get_settings().DATABASE_URL, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a live connection; an engine handed in by the caller (tests, serve) wins."""
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _migrate(connectable)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or get_settings().DATABASE_URL)
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
