"""A database outage while a stage's task runs: the task is retried, and the job is not failed for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from app.core import config, db
from app.jobs.execution import DATABASE_UNAVAILABLE, run_stage
from app.pipeline.stage_table import STAGES
from app.storage import LocalStorage
from app.worker import STAGE_TASKS
from tests.integration.stack import free_port


@pytest.fixture
def database_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[config.Settings]:
    # Nothing listens on this loopback port: every connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/drumscribe")
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield config.Settings(ARTIFACTS_DIR=tmp_path / "artifacts")
    db.get_engine.cache_clear()
    config.get_settings.cache_clear()


def test_a_stage_without_its_database_raises_for_a_retry(database_down: config.Settings) -> None:
    storage = LocalStorage(database_down.ARTIFACTS_DIR)
    with pytest.raises(OperationalError):
        run_stage("separate_drums", "a-job", settings=database_down, storage=storage, worker="heavy@test")


def test_every_stage_task_retries_while_the_database_is_away() -> None:
    for stage in STAGES:
        task = STAGE_TASKS[stage.name]
        assert set(task.autoretry_for) == set(DATABASE_UNAVAILABLE)
        assert task.max_retries is None and task.retry_backoff_max == 60
