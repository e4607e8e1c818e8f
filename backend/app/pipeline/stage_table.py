"""The pipeline's stages and the files a job hands back, declared once.

Every driver reads this table rather than naming the stages itself: the command line
(`pipeline.runner`), the Celery worker (its tasks, their queues and the chain), a job's execution
(`jobs.execution`: the files fetched, the job's status, what is recorded on it), the reaper, the
metrics, the terminal progress display, the API (content types) and, through GET /api/v1/pipeline, the
web UI. A new stage is one `StageSpec` in STAGES (and its function in `stages.py`); a new result file
is one `ArtifactSpec` in ARTIFACTS. A revision of the sheet (an editor's) runs the last stage again, and
has its own copy of the files that stage writes (REVISION_ARTIFACTS).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar

from app.core.config import Settings
from app.core.job_status import JobStatus
from app.pipeline import constants as c
from app.pipeline import stages
from app.pipeline.hits import HitsDocument
from app.pipeline.ingest import IngestResult

if TYPE_CHECKING:
    from app.pipeline.separation import SeparationResult

FailureLabel = Literal["ingest", "separation", "prediction", "transcription"]
"""The manual's failure labels, one per stage: job.failed_stage, DrumScribeError.stage, the metrics' `stage`."""

Queue = Literal["default", "heavy-compute"]
DEFAULT_QUEUE: Queue = "default"
HEAVY_QUEUE: Queue = "heavy-compute"
"""The Celery queues (the manual's): light stages and housekeeping, and the separation and the model."""


def upload_name(filename: str) -> str:
    """The storage name of an uploaded file: 'upload' plus its (sanitised) extension."""
    suffix = PurePath(filename).suffix.lower()
    return "upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")


@dataclass(frozen=True)
class Song:
    """What the first stage decodes: a link, a local file (the command line), or a job's upload."""

    location: str | Path
    """A link or a path; for an upload, the file's name in the job's folder."""
    uploaded: bool = False
    fallback_title: str | None = None
    """The title when the file's tags give none (an upload's original name)."""

    @classmethod
    def of_job(cls, source_kind: str, source: str) -> Song:
        """A job's song: its link, or its upload (stored under upload_name(), its name as fallback title)."""
        if source_kind == "url":
            return cls(source)
        return cls(upload_name(source), uploaded=True, fallback_title=PurePath(source).stem)

    def files(self) -> tuple[str, ...]:
        """The job files that hold the song: the upload, or none for a link."""
        return (str(self.location),) if self.uploaded else ()

    def path_in(self, work_dir: Path) -> str | Path:
        """What ingest opens: the upload inside `work_dir`, else the link or path itself."""
        return work_dir / self.location if self.uploaded else self.location


@dataclass(frozen=True)
class StageRun:
    """What a stage function is handed: its work folder, the song, the settings and a progress callback."""

    work_dir: Path
    song: Song
    settings: Settings
    progress: stages.ProgressFn


class JobFacts(TypedDict, total=False):
    """What a finished stage found out, recorded on its job (columns of the jobs table)."""

    title: str
    duration_s: float
    separator: str
    separator_reason: str
    model: str
    hit_count: int
    tempo_bpm: float | None
    time_signature: str | None


Outcome = TypeVar("Outcome")


@dataclass(frozen=True)
class StageSpec(Generic[Outcome]):
    """One stage: what it is called everywhere, where it runs, what it reads and writes, what it records."""

    name: str
    """The manual's stage name: Celery task app.worker.<name>, the key of job.timings, the logs' `stage`."""
    queue: Queue
    job_status: JobStatus
    """The job's status while the stage runs."""
    label: str
    """The stage in a few words (progress bars, the UI's steps and badges)."""
    detail: str
    """What the stage does, in a sentence (the UI)."""
    failure_label: FailureLabel
    reads: tuple[str, ...]
    """Job files the stage reads, besides the song (see `reads_song`)."""
    writes: tuple[str, ...]
    run: Callable[[StageRun], Outcome]
    record: Callable[[Outcome], JobFacts]
    """What the stage's outcome tells about the song, for the job's row."""
    reads_song: bool = False

    def inputs(self, song: Song) -> tuple[str, ...]:
        """The job files the stage reads (what a remote storage must fetch into the workspace)."""
        return (*song.files(), *self.reads) if self.reads_song else self.reads


def _ingest(run: StageRun) -> IngestResult:
    return stages.ingest_audio(
        run.song.path_in(run.work_dir),
        run.work_dir,
        settings=run.settings,
        progress=run.progress,
        fallback_title=run.song.fallback_title,
    )


def _separate(run: StageRun) -> SeparationResult:
    return stages.separate_drums(run.work_dir, settings=run.settings, progress=run.progress)


def _predict(run: StageRun) -> HitsDocument:
    return stages.predict_hits(run.work_dir, settings=run.settings, progress=run.progress)


def _transcribe(run: StageRun) -> HitsDocument:
    return stages.transcribe_and_export(run.work_dir, settings=run.settings, progress=run.progress)


def _ingest_facts(result: IngestResult) -> JobFacts:
    return {"title": result.title, "duration_s": result.duration_s}


def _separation_facts(result: SeparationResult) -> JobFacts:
    return {"separator": result.separator, "separator_reason": result.reason}


def _prediction_facts(document: HitsDocument) -> JobFacts:
    return {"model": document.model, "hit_count": len(document.hits)}


def _transcription_facts(document: HitsDocument) -> JobFacts:
    return {"tempo_bpm": document.tempo_bpm, "time_signature": document.time_signature}


STAGES: tuple[StageSpec[Any], ...] = (
    StageSpec(
        name="ingest_audio",
        queue=DEFAULT_QUEUE,
        job_status=JobStatus.processing,
        label="Reading audio",
        detail="Fetching and decoding the audio",
        failure_label="ingest",
        reads=(),
        reads_song=True,
        writes=(c.INPUT_AUDIO, c.SONG_AUDIO, stages.SOURCE_META),
        run=_ingest,
        record=_ingest_facts,
    ),
    StageSpec(
        name="separate_drums",
        queue=HEAVY_QUEUE,
        job_status=JobStatus.separating_drums,
        label="Separating drums",
        detail="Isolating the drum track from the mix",
        failure_label="separation",
        reads=(c.INPUT_AUDIO,),
        writes=(c.DRUMS_AUDIO, c.BAND_AUDIO, stages.SEPARATION_META),
        run=_separate,
        record=_separation_facts,
    ),
    StageSpec(
        name="predict_hits",
        queue=HEAVY_QUEUE,
        job_status=JobStatus.predicting,
        label="Detecting hits",
        detail="Finding every kick, snare, hi-hat and cymbal hit",
        failure_label="prediction",
        reads=(c.DRUMS_AUDIO, stages.SEPARATION_META),
        writes=(c.HITS_JSON,),
        run=_predict,
        record=_prediction_facts,
    ),
    StageSpec(
        name="transcribe_and_export",
        queue=DEFAULT_QUEUE,
        job_status=JobStatus.transcribing,
        label="Writing the sheet",
        detail="Tempo, bars and notation: PDF, MusicXML and MIDI",
        failure_label="transcription",
        reads=(c.HITS_JSON, c.DRUMS_AUDIO, stages.SOURCE_META),
        writes=(c.HITS_JSON, c.MUSICXML, c.PDF, c.MIDI),
        run=_transcribe,
        record=_transcription_facts,
    ),
)
"""The stages in the order a job goes through them; the last one completes the job."""

STAGE_BY_NAME: dict[str, StageSpec[Any]] = {stage.name: stage for stage in STAGES}
STAGE_BY_STATUS: dict[str, StageSpec[Any]] = {stage.job_status.value: stage for stage in STAGES}
FAILURE_LABELS: tuple[FailureLabel, ...] = tuple(stage.failure_label for stage in STAGES)


@dataclass(frozen=True)
class ArtifactSpec:
    """A file a finished job hands back."""

    name: str
    content_type: str
    label: str
    description: str
    optional: bool = False
    """Only some jobs have it (band.wav: not with SEPARATOR=none)."""


ARTIFACTS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec(c.PDF, "application/pdf", "PDF", "Sheet music to print"),
    ArtifactSpec(c.MUSICXML, "application/vnd.recordare.musicxml+xml", "MusicXML", "For MuseScore, Sibelius, Finale…"),
    ArtifactSpec(c.MIDI, "audio/midi", "MIDI", "For a DAW or drum module"),
    ArtifactSpec(c.DRUMS_AUDIO, "audio/wav", "drums.wav", "The separated drums"),
    ArtifactSpec(c.BAND_AUDIO, "audio/wav", "band.wav", "The song without the drums, to play along", optional=True),
    ArtifactSpec(c.SONG_AUDIO, "audio/wav", "song.wav", "The whole song, as DrumScribe heard it"),
    ArtifactSpec(c.HITS_JSON, "application/json", "hits.json", "Every hit, the tempo and the beats, as data"),
)
"""What a finished job hands back, in the order the UI offers them. song.wav, drums.wav and band.wav are
sample-aligned: the same rate, channels and length, and song ≈ drums + band."""

CONTENT_TYPES: dict[str, str] = {artifact.name: artifact.content_type for artifact in ARTIFACTS}

REVISION_STAGE: StageSpec[Any] = STAGES[-1]
"""The stage a revision of the sheet runs again (on its queue; Celery task app.worker.render_revision)."""
REVISION_ARTIFACTS: tuple[str, ...] = tuple(a.name for a in ARTIFACTS if a.name in REVISION_STAGE.writes)
"""The files each revision has its own of: what the notation stage writes."""


def revision_file(number: int, name: str) -> str:
    """The storage name of revision `number`'s file `name`: revision 0 (the transcription) has the job's own
    files, revision N has rev-N.NAME (storage names are flat: no folders)."""
    return name if number == 0 else f"rev-{number}.{name}"


def revision_input(number: int) -> str:
    """The storage name of the edited hits revision `number` (N ≥ 1) is rendered from."""
    return f"rev-{number}.input.json"
