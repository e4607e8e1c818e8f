"""The errors DrumScribe reports to people.

Each error belongs to a pipeline stage (its failure label, `app.pipeline.stage_table.FailureLabel`) and
says what went wrong twice:

- `str(error)`, the detail: names the input, the limit and the fix in an operator's terms (paths, settings,
  commands). The command line prints it, the logs record it, and a job keeps it in `error_detail`, which
  the API never returns.
- `error.musician_message`: what a musician reads in the web UI (a job's `error_message`, the API's 4xx
  details): what happened and what to do, with no server path, setting name or command in it. Each class
  has one; a raise site may give a more precise one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    # Only a type: the stage table imports the stage functions, which raise these errors.
    from app.pipeline.stage_table import FailureLabel

ASK_THE_OPERATOR = "If it keeps happening, tell whoever runs this DrumScribe server; the details are in its logs."


class DrumScribeError(Exception):
    """Base of every error a user can act on; `str(error)` is the one-line reason for operators."""

    stage: ClassVar[FailureLabel]
    musician_message: str = f"Something went wrong with this song. Please try again. {ASK_THE_OPERATOR}"

    def __init__(self, detail: str, *, musician_message: str | None = None) -> None:
        super().__init__(detail)
        if musician_message is not None:
            self.musician_message = musician_message


# ingest
class IngestError(DrumScribeError):
    """The input could not be turned into audio."""

    stage = "ingest"
    musician_message = "We couldn't read this song. Try uploading the file again, or another copy of it."


class NotAudioError(IngestError):
    """The file holds no audio stream that ffmpeg can read."""

    musician_message = (
        "This file isn't audio or video we can read. Upload an mp3, wav, flac, ogg, m4a or opus file, "
        "or a video with sound."
    )


class CorruptAudioError(IngestError):
    """The file claims to be audio but cannot be decoded."""

    musician_message = (
        "This file looks like audio but can't be decoded: it may be damaged or incomplete. "
        "Export or download it again and upload the new copy."
    )


class EmptyAudioError(IngestError):
    """The audio is empty or silent."""

    musician_message = "This recording is empty or silent. Choose a recording with drums in it."


class TooLongError(IngestError):
    """The audio is longer than MAX_DURATION_SECONDS."""

    def __init__(self, detail: str, *, duration_s: float | None = None, limit_s: float | None = None) -> None:
        super().__init__(detail, musician_message=too_long_for_musicians(duration_s, limit_s))
        self.duration_s = duration_s
        self.limit_s = limit_s


class UnreachableURLError(IngestError):
    """A link could not be fetched."""

    musician_message = "We couldn't reach that link. Check it opens in your browser, or upload the file instead."


class RefusedLinkError(UnreachableURLError):
    """A link DrumScribe will not fetch: not http(s), with credentials, or to a private or local address."""

    musician_message = (
        "This server doesn't fetch that kind of link. Paste the link of a public web page, or upload the file instead."
    )


class UnsupportedSiteError(IngestError):
    """A link points to a site that yt-dlp does not support."""

    musician_message = (
        "We can't take the audio from that page. Paste a link to a single song (a YouTube video, say), "
        "or upload the file instead."
    )


class AnnotationError(IngestError):
    """An annotation file given to `drumscribe evaluate` (beats/NAME.beats) cannot be read."""


# separation
class SeparationError(DrumScribeError):
    """Drum separation failed."""

    stage = "separation"
    musician_message = f"Separating the drums from the rest of the song failed. Please try again. {ASK_THE_OPERATOR}"


class SeparatorUnavailableError(SeparationError):
    """The chosen separator cannot run here (for example Demucs weights are missing)."""

    musician_message = (
        "This server can't separate drums right now: its drum separator isn't set up. "
        "Tell whoever runs it; the details are in its logs."
    )


# prediction
class PredictionError(DrumScribeError):
    """Drum-hit prediction failed."""

    stage = "prediction"
    musician_message = f"Detecting the drum hits failed. Please try again. {ASK_THE_OPERATOR}"


class ModelUnavailableError(PredictionError):
    """The drum-hit model could not be fetched or loaded."""

    musician_message = (
        "This server can't detect drum hits right now: its drum-hit model isn't available. "
        "Tell whoever runs it; the details are in its logs."
    )


# transcription
class TranscriptionError(DrumScribeError):
    """Notation or export failed."""

    stage = "transcription"
    musician_message = f"Writing the sheet music failed. Please try again. {ASK_THE_OPERATOR}"


class NoHitsError(TranscriptionError):
    """No drum hit was found, so there is nothing to write."""

    musician_message = (
        "We found no drum hits in this recording, so there is no drum part to write. "
        "Check that the song has drums in it."
    )


def too_long_for_musicians(duration_s: float | None, limit_s: float | None) -> str:
    """What a musician reads about a song over the length limit: its length and the limit, when known."""
    if duration_s is not None and limit_s is not None:
        return (
            f"This song is {mmss(duration_s)} long; this server accepts songs up to {mmss(limit_s)}. "
            "Trim it or upload a part."
        )
    if limit_s is not None:
        return f"This song is longer than this server accepts (up to {mmss(limit_s)}). Trim it or upload a part."
    return "This song is longer than this server accepts. Trim it or upload a part."


def upload_too_large(limit_mb: int) -> str:
    """What a musician reads about an upload over the size limit (MAX_UPLOAD_MB)."""
    return (
        f"This file is larger than {limit_mb} MB, the most this server accepts. "
        "Upload a compressed file (mp3, ogg or m4a) or a shorter excerpt."
    )


def mmss(seconds: float) -> str:
    """A length as minutes:seconds, as players show it (905 → '15:05')."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def for_musicians(error: BaseException, label: FailureLabel) -> str:
    """The musician's words for `error` raised in stage `label`: its own for a DrumScribeError, else the
    stage's generic message (an unexpected exception's text is for the logs only)."""
    if isinstance(error, DrumScribeError):
        return error.musician_message
    return GENERIC_BY_STAGE[label]


GENERIC_BY_STAGE: dict[str, str] = {
    "ingest": f"Reading this song failed. Please try again. {ASK_THE_OPERATOR}",
    "separation": SeparationError.musician_message,
    "prediction": PredictionError.musician_message,
    "transcription": TranscriptionError.musician_message,
}
"""Per failure label: what a musician reads when a stage fails in a way nobody foresaw."""
