"""Drum hits and the hits.json document that carries them between stages."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from app.pipeline.atomic import write_text_atomic

Instrument = Literal[
    "kick",
    "snare",
    "hihat_closed",
    "hihat_open",
    "ride",
    "crash",
    "tom_high",
    "tom_mid",
    "tom_low",
]
INSTRUMENTS: tuple[str, ...] = get_args(Instrument)
"""The one instrument vocabulary of DrumScribe; a model may use a subset."""

TimeSignature = Literal["2/4", "3/4", "4/4", "5/4", "6/4", "7/4", "2/2", "6/8", "12/8"]
TIME_SIGNATURES: tuple[str, ...] = get_args(TimeSignature)
"""The metres a sheet may be written in (a transcription finds 3/4, 4/4, 6/8 or 12/8; an editor may set
any): the beats are quarter notes in x/4, half notes in 2/2 (cut time: the notes of 4/4, counted in two),
dotted quarters (three 8ths) in 6/8 and 12/8, as the sheet counts them."""

MIN_BPM, MAX_BPM = 40.0, 240.0
"""The tempi a sheet is written at (a transcription finds, or an editor may set)."""


@dataclass(frozen=True)
class Hit:
    """One drum stroke: onset time in seconds, instrument, MIDI velocity 1–127, confidence 0–1, and how the
    sheet marks it (an accent, or a ghost note in parentheses)."""

    time: float
    instrument: str
    velocity: int
    confidence: float
    accent: bool = False
    ghost: bool = False

    def __post_init__(self) -> None:
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"unknown instrument {self.instrument!r}; expected one of {INSTRUMENTS}")
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity {self.velocity} is outside 1–127")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside 0–1")


@dataclass
class HitsDocument:
    """The content of hits.json; title, artist, tempo and time signature are filled in by the notation stage."""

    duration_s: float
    separator: str
    model: str
    hits: list[Hit] = field(default_factory=list)
    separator_reason: str | None = None
    """Why `separator` ran (app.pipeline.separation.auto.SeparatorReason); None in files from before it was kept."""
    tempo_bpm: float | None = None
    time_signature: str | None = None
    beat_times: list[float] | None = None
    """Audio time of every counted beat of the sheet, bar 1 beat 1 first: beat k (a quarter note, or a dotted
    quarter in 6/8 and 12/8) is heard at beat_times[k], so a player can follow a drummer who speeds up or
    slows down."""
    downbeat_times: list[float] | None = None
    """Audio time of the first beat of every bar of the sheet, bar 1 first."""
    title: str | None = None
    """The song's title as the sheet shows it (the file's title tag or the video's title)."""
    artist: str | None = None
    """The performer as the sheet shows it under the title; None when the source names none."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keys in the order the product documents them."""
        return {
            "title": self.title,
            "artist": self.artist,
            "tempo_bpm": self.tempo_bpm,
            "time_signature": self.time_signature,
            "duration_s": round(self.duration_s, 3),
            "separator": self.separator,
            "separator_reason": self.separator_reason,
            "model": self.model,
            "hits": [_hit_dict(h) for h in self.hits],
            "beat_times": None if self.beat_times is None else [round(t, 4) for t in self.beat_times],
            "downbeat_times": None if self.downbeat_times is None else [round(t, 4) for t in self.downbeat_times],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HitsDocument:
        """Parse the JSON form."""
        return cls(
            duration_s=float(data["duration_s"]),
            separator=str(data["separator"]),
            separator_reason=data.get("separator_reason"),
            model=str(data["model"]),
            hits=[Hit(**h) for h in data["hits"]],
            tempo_bpm=data.get("tempo_bpm"),
            time_signature=data.get("time_signature"),
            beat_times=None if data.get("beat_times") is None else [float(t) for t in data["beat_times"]],
            downbeat_times=(None if data.get("downbeat_times") is None else [float(t) for t in data["downbeat_times"]]),
            title=data.get("title"),
            artist=data.get("artist"),
        )

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> HitsDocument:
        """Read a hits.json file."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def _hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit's JSON form; the marks only where the sheet has them, so that unmarked hits stay as they were."""
    data = {**asdict(hit), "time": round(hit.time, 4), "confidence": round(hit.confidence, 4)}
    for mark in ("accent", "ghost"):
        if not data[mark]:
            del data[mark]
    return data
