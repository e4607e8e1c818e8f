"""Words for musicians: what a job's error_message and the API's 4xx details say holds no operator detail.

Every message a musician can read is found here: each DrumScribeError class's own, every message a raise
site hands in (`musician_message=`, found by reading the source), the length message, and the stages'
and the reaper's generic ones. None may name a path, a setting (`NAME=value`, an environment variable) or
a command; the operator's detail goes to `error_detail` and the logs instead.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import app
from app.core import db
from app.core.config import Settings
from app.core.errors import (
    GENERIC_BY_STAGE,
    DrumScribeError,
    SeparationError,
    TooLongError,
    for_musicians,
    too_long_for_musicians,
    upload_too_large,
)
from app.jobs import maintenance
from app.jobs.execution import run_stage
from app.models import Job
from app.pipeline.ingest import too_long
from app.storage import LocalStorage
from tests.conftest import write_wav

APP = Path(app.__file__).parent

ENVIRONMENT_NAMES = {
    *Settings.model_fields,
    "HF_HUB_OFFLINE",
    "XDG_DATA_HOME",
    "FORWARDED_ALLOW_IPS",
    "AWS_ENDPOINT_URL",
    "TF_CPP_MIN_LOG_LEVEL",
}
OPERATOR_WORDS = [
    (re.compile(r"/"), "a path or link"),
    (re.compile(r"="), "a NAME=value setting"),
    (re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"), "an environment variable"),
    (re.compile(r"\b(scripts|python|pip|celery|alembic|sudo|docker|drumscribe)\b|\.sh\b|\.py\b"), "a command"),
    (re.compile(r"\b[A-Z][a-z]+(Error|Exception)\b|Traceback"), "an exception"),
]


def operator_words(message: str) -> list[str]:
    """What in `message` is for operators, not musicians (empty when the message is clean)."""
    found = [what for pattern, what in OPERATOR_WORDS if pattern.search(message)]
    found += [f"the variable {name}" for name in ENVIRONMENT_NAMES if name in message]
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(APP.parent).with_suffix("").parts)


def subclasses(cls: type[DrumScribeError]) -> list[type[DrumScribeError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in subclasses(direct))]


def error_classes() -> list[type[DrumScribeError]]:
    """Every DrumScribeError class of the package: the modules that subclass one are imported (only those:
    importing every module would load TensorFlow and PyTorch)."""
    known = {cls.__name__ for cls in subclasses(DrumScribeError)}
    for path in sorted(APP.rglob("*.py")):
        classes = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]
        if any(ast.unparse(base).rsplit(".", 1)[-1] in known for node in classes for base in node.bases):
            importlib.import_module(module_name(path))
    return subclasses(DrumScribeError)


def test_the_rule_catches_what_the_operators_messages_hold() -> None:
    for operator_text in (
        "Demucs weights for htdemucs are not in /data/models/demucs; run scripts/download_models.sh",
        "the limit is 15:00 (MAX_DURATION_SECONDS=900)",
        "set SEPARATOR to hpss",
        "could not fetch http://127.0.0.1:9/song.mp3",
        "internal error while predicting: LibsndfileError: Error opening 'drums.wav'",
    ):
        assert operator_words(operator_text), operator_text


@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_class_has_a_musicians_message(cls: type[DrumScribeError]) -> None:
    detail = "/srv/drumscribe/input.wav: see MAX_DURATION_SECONDS=900 and run scripts/download_models.sh"
    error = cls(detail)
    assert str(error) == detail, "the detail stays the operator's"
    assert error.musician_message and error.musician_message.endswith("."), cls
    assert operator_words(error.musician_message) == [], (cls, error.musician_message)


def musician_messages_handed_in() -> list[tuple[str, ast.expr]]:
    """Every `musician_message=` argument in the source, with the module it is in."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        module = module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                found += [(module, k.value) for k in node.keywords if k.arg == "musician_message"]
    return found


def test_every_message_a_raise_site_hands_in_is_a_fixed_musicians_text() -> None:
    handed_in = musician_messages_handed_in()
    assert len(handed_in) >= 8, "link_safety's refusals and TooLongError"
    for module, value in handed_in:
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "too_long_for_musicians":
            continue  # built from two numbers: tested below
        # A name of a constant in its module: never text assembled from an input, a path or an exception.
        assert isinstance(value, ast.Name), f"{module}: musician_message={ast.unparse(value)}"
        text = getattr(importlib.import_module(module), value.id)
        assert isinstance(text, str) and operator_words(text) == [], (module, value.id, text)


def test_a_song_over_the_limit_says_its_length_and_the_limit() -> None:
    error = too_long("/tmp/drumscribe-upload-x/upload.mp3", 965, 900)
    assert isinstance(error, TooLongError)
    assert error.musician_message == (
        "This song is 16:05 long; this server accepts songs up to 15:00. Trim it or upload a part."
    )
    assert "MAX_DURATION_SECONDS=900" in str(error)
    for duration, limit in ((965, 900), (None, 900), (None, None), (3600.4, 59.6)):
        assert operator_words(too_long_for_musicians(duration, limit)) == []


def test_the_other_messages_a_musician_may_read_are_clean() -> None:
    messages = [
        *GENERIC_BY_STAGE.values(),
        for_musicians(RuntimeError("/srv/x: FileNotFoundError"), "prediction"),
        upload_too_large(100),
        maintenance.WORKER_LOST,
        maintenance.NEVER_STARTED,
    ]
    for message in messages:
        assert operator_words(message) == [], message
    assert for_musicians(SeparationError("/x", musician_message="Try again."), "separation") == "Try again."


@pytest.fixture
def database(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(DATABASE_URL=sqlite_url, ARTIFACTS_DIR=tmp_path / "artifacts", MAX_DURATION_SECONDS=1)


def failed_job(settings: Settings, stage: str, files: dict[str, np.ndarray]) -> Job:
    """Run `stage` of a new job whose folder holds `files` (audio); the job as it is afterwards."""
    storage = LocalStorage(settings.ARTIFACTS_DIR)
    with db.session_scope() as session:
        job = Job(owner="o", source_kind="upload", source="Long Take.wav", timings={})
        session.add(job)
        session.flush()
        job_id = job.id
    folder = storage.job_dir(job_id)
    folder.mkdir(parents=True)
    for name, audio in files.items():
        write_wav(folder / name, audio)
    assert not run_stage(stage, job_id, settings=settings, storage=storage, worker="test")
    with db.session_scope() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def test_a_failed_stage_keeps_the_operators_detail_apart_from_the_musicians_message(database: Settings) -> None:
    three_seconds = 0.1 * np.sin(np.arange(3 * 44_100) / 10).astype(np.float32)
    job = failed_job(database, "ingest_audio", {"upload.wav": three_seconds})
    assert (job.status, job.failed_stage) == ("failed", "ingest")
    assert job.error_message == too_long_for_musicians(3, 1)
    assert "MAX_DURATION_SECONDS=1" in str(job.error_detail)


def test_an_unforeseen_failure_tells_the_musician_only_which_step_failed(database: Settings) -> None:
    job = failed_job(database, "transcribe_and_export", {})  # no hits.json to read
    assert (job.status, job.failed_stage) == ("failed", "transcription")
    assert job.error_message == GENERIC_BY_STAGE["transcription"]
    assert "internal error while transcribing: FileNotFoundError" in str(job.error_detail)
    assert "hits.json" in str(job.error_detail)
