"""The errors DrumScribe reports to people.

Each error belongs to a pipeline stage (its failure label, `app.pipeline.stage_table.FailureLabel`) and
carries a message that names the input, the limit and what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    # Only a type: the stage table imports the stage functions, which raise these errors.
    from app.pipeline.stage_table import FailureLabel


class DrumScribeError(Exception):
    """Base of every error a user can act on; `str(error)` is the one-line reason."""

    stage: ClassVar[FailureLabel]


# ingest
class IngestError(DrumScribeError):
    """The input could not be turned into audio."""

    stage = "ingest"


class NotAudioError(IngestError):
    """The file holds no audio stream that ffmpeg can read."""


class CorruptAudioError(IngestError):
    """The file claims to be audio but cannot be decoded."""


class EmptyAudioError(IngestError):
    """The audio is empty or silent."""


class TooLongError(IngestError):
    """The audio is longer than MAX_DURATION_SECONDS."""


class UnreachableURLError(IngestError):
    """A link could not be fetched."""


class RefusedLinkError(UnreachableURLError):
    """A link DrumScribe will not fetch: not http(s), with credentials, or to a private or local address."""


class UnsupportedSiteError(IngestError):
    """A link points to a site that yt-dlp does not support."""


class AnnotationError(IngestError):
    """An annotation file given to `drumscribe evaluate` (beats/NAME.beats) cannot be read."""


# separation
class SeparationError(DrumScribeError):
    """Drum separation failed."""

    stage = "separation"


class SeparatorUnavailableError(SeparationError):
    """The chosen separator cannot run here (for example Demucs weights are missing)."""


# prediction
class PredictionError(DrumScribeError):
    """Drum-hit prediction failed."""

    stage = "prediction"


class ModelUnavailableError(PredictionError):
    """The drum-hit model could not be fetched or loaded."""


# transcription
class TranscriptionError(DrumScribeError):
    """Notation or export failed."""

    stage = "transcription"
