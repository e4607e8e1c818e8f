"""Alembic against a real PostgreSQL: an empty database upgrades to head and downgrades back."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from app.db_migrate import downgrade, upgrade
from app.models import Base
from tests.integration.stack import fresh_database

pytestmark = pytest.mark.integration


def test_upgrade_and_downgrade_an_empty_database() -> None:
    with fresh_database() as url:
        upgrade(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"jobs", "job_shares", "job_revisions", "metric_counters", "alembic_version"} <= tables
        for table in ("jobs", "job_shares", "job_revisions"):
            columns = {c["name"] for c in inspect(engine).get_columns(table)}
            assert columns == set(Base.metadata.tables[table].columns.keys()), table
        for table in ("job_shares", "job_revisions"):
            (key,) = inspect(engine).get_foreign_keys(table)
            assert key["referred_table"] == "jobs" and key["options"].get("ondelete") == "CASCADE", table
        downgrade(url)
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        engine.dispose()
