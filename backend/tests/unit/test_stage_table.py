"""The stage table is the one list of stages: its invariants, and the drivers that read it."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.routes.pipeline import router
from app.cli_progress import LABELS
from app.models import RUNNING_STATUSES, Job
from app.pipeline.stage_table import (
    ARTIFACTS,
    CONTENT_TYPES,
    FAILURE_LABELS,
    STAGE_BY_NAME,
    STAGES,
    FailureLabel,
    JobFacts,
    Song,
)
from app.worker import celery_app, pipeline_chain

MANUAL_STAGES = ["ingest_audio", "separate_drums", "predict_hits", "transcribe_and_export"]


def test_the_manuals_stages_statuses_queues_and_labels() -> None:
    assert [s.name for s in STAGES] == MANUAL_STAGES
    assert [s.job_status.value for s in STAGES] == ["processing", "separating_drums", "predicting", "transcribing"]
    assert [s.queue for s in STAGES] == ["default", "heavy-compute", "heavy-compute", "default"]
    assert FAILURE_LABELS == get_args(FailureLabel) == ("ingest", "separation", "prediction", "transcription")
    assert {s.job_status for s in STAGES} == RUNNING_STATUSES, "every running state is one stage's"
    assert LABELS == {
        "ingest_audio": "Reading audio",
        "separate_drums": "Separating drums",
        "predict_hits": "Detecting hits",
        "transcribe_and_export": "Writing the sheet",
    }


def test_each_stage_reads_only_what_an_earlier_stage_wrote() -> None:
    written: set[str] = set()
    for stage in STAGES:
        assert set(stage.reads) <= written, f"{stage.name} reads {set(stage.reads) - written}, which no stage wrote"
        written |= set(stage.writes)
    assert {a.name for a in ARTIFACTS} <= written, "every artifact is written by a stage"
    assert [s.reads_song for s in STAGES] == [True, False, False, False]


def test_a_jobs_files_follow_the_upload_name_rule() -> None:
    ingest, predict = STAGE_BY_NAME["ingest_audio"], STAGE_BY_NAME["predict_hits"]
    upload = Song.of_job("upload", "My Song.MP3")
    assert ingest.inputs(upload) == ("upload.mp3",)
    assert upload.path_in(Path("/work")) == Path("/work/upload.mp3") and upload.fallback_title == "My Song"
    link = Song.of_job("url", "https://example.org/song.mp3")
    assert ingest.inputs(link) == () and link.path_in(Path("/work")) == "https://example.org/song.mp3"
    assert predict.inputs(upload) == predict.inputs(link) == ("drums.wav", "separation.json")


def test_what_stages_record_are_columns_of_the_jobs_table() -> None:
    assert set(JobFacts.__annotations__) <= set(Job.__table__.columns.keys())


def test_the_worker_routes_and_chains_the_tables_stages() -> None:
    routes = celery_app.conf.task_routes
    for stage in STAGES:
        assert f"app.worker.{stage.name}" in celery_app.tasks
        assert routes[f"app.worker.{stage.name}"] == {"queue": stage.queue}
    assert [task.task for task in pipeline_chain("job-1").tasks] == [f"app.worker.{name}" for name in MANUAL_STAGES]
    assert all(task.args == ("job-1",) and task.immutable for task in pipeline_chain("job-1").tasks)


def test_the_api_describes_the_pipeline_for_the_ui() -> None:
    api = FastAPI()
    api.include_router(router)
    with TestClient(api) as http:
        body = http.get("/api/v1/pipeline").json()
    assert [(s["name"], s["job_status"], s["label"], s["failure_label"]) for s in body["stages"]] == [
        (s.name, s.job_status.value, s.label, s.failure_label) for s in STAGES
    ]
    assert (
        {a["name"]: a["content_type"] for a in body["artifacts"]}
        == CONTENT_TYPES
        == {
            "sheet_music.pdf": "application/pdf",
            "sheet_music.musicxml": "application/vnd.recordare.musicxml+xml",
            "drums.mid": "audio/midi",
            "drums.wav": "audio/wav",
            "band.wav": "audio/wav",
            "song.wav": "audio/wav",
            "hits.json": "application/json",
        }
    )
    assert [a["name"] for a in body["artifacts"] if a["optional"]] == ["band.wav"]
