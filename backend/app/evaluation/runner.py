"""`drumscribe evaluate`: run the pipeline on annotated recordings and score it.

The first three stages are scored by onset F-measure against DIR/midi/NAME.mid, in the five standard
classes and, beside them, in four finer ones inside hi-hat and cymbals (open and closed hi-hat, ride,
crash). Where DIR also has
human beats (DIR/beats/NAME.beats) the notation stage runs too and its sheet is scored: beats, bars,
tempo reading (app/evaluation/beats.py) and the written notes in bars (app/evaluation/sheet.py). The sheet
is written on BEAT_TRACKER's beats, or on beats given in another folder (`--beats-from`: another
tracker's, such as madmom's from scripts/madmom_beats.py), so sheets can be compared on the same hits.
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import AnnotationError, IngestError, TranscriptionError
from app.evaluation.annotations import GM_FINE_CLASS, read_midi_onsets
from app.evaluation.beats import (
    AS_PLAYED,
    BEAT_WINDOW_S,
    BeatAnnotation,
    BeatScores,
    read_beat_track,
    read_beats,
    score_beats,
)
from app.evaluation.metrics import (
    CLASSES,
    FINE_CLASSES,
    FINE_INSTRUMENT_CLASS,
    INSTRUMENT_CLASS,
    Counts,
    score_track,
    total,
)
from app.evaluation.sheet import POSITION_TOLERANCE_BEATS, HumanBarGrid, SheetScore, read_sheet_notes, score_sheet
from app.pipeline import constants, stages
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import Hit, HitsDocument


@dataclass(frozen=True)
class SheetTrack:
    """How one song's sheet reads against its human beats and its annotated strokes."""

    beats: BeatScores
    sheet: SheetScore
    tempo_bpm: float
    time_signature: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        pooled = total(self.sheet.counts)
        return {
            "beat_f": self.beats.beat_f,
            "cmlt": self.beats.cmlt,
            "amlt": self.beats.amlt,
            "downbeat_f": self.beats.downbeat_f,
            "tempo_reading": self.beats.tempo_reading,
            "sheet_f": pooled.f_measure,
            "sheet_precision": pooled.precision,
            "sheet_recall": pooled.recall,
            "bar_shift": self.sheet.bar_shift,
            "tempo_bpm": self.tempo_bpm,
            "time_signature": self.time_signature,
        }


FINE_LEGEND = "CHH closed and pedal hi-hat, OHH open hi-hat, RD ride, CRC crash"


@dataclass
class EvaluationReport:
    """Micro-averaged counts per class, plus each track's overall F-measure."""

    separator: str
    model: str
    per_class: dict[str, Counts]
    per_track: dict[str, float] = field(default_factory=dict)
    sheet: dict[str, SheetTrack] = field(default_factory=dict)
    """The songs with human beats, by name."""
    finer: dict[str, Counts] = field(default_factory=dict)
    """Micro-averaged counts of the finer classes (metrics.FINE_CLASSES); not part of the overall figure,
    which they would count twice."""
    beats: str = ""
    """What the sheets' beats came from: the tracker's name, or "given in DIR"."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form; "sheet" is null when no song has human beats."""
        overall = total(self.per_class)
        return {
            "separator": self.separator,
            "model": self.model,
            "beats": self.beats,
            "tracks": self.per_track,
            "classes": _class_table(self.per_class),
            "overall_f_measure": overall.f_measure,
            "finer_classes": _class_table(self.finer),
            "sheet": sheet_summary(self.sheet) if self.sheet else None,
        }


def _class_table(counts: Mapping[str, Counts]) -> dict[str, dict[str, float]]:
    return {
        cls: {
            "precision": c.precision,
            "recall": c.recall,
            "f_measure": c.f_measure,
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
        }
        for cls, c in counts.items()
    }


def sheet_summary(tracks: Mapping[str, SheetTrack]) -> dict[str, Any]:
    """Per song and overall: beat-level figures are means over songs (as beat trackers are compared),
    the sheet F-measure pools every song's notes (as the onset F-measure does)."""
    pooled = Counts()
    for track in tracks.values():
        pooled.add(total(track.sheet.counts))
    readings = Counter(track.beats.tempo_reading for track in tracks.values())
    return {
        "beat_window_s": BEAT_WINDOW_S,
        "position_tolerance_beats": POSITION_TOLERANCE_BEATS,
        "tracks": {name: track.to_dict() for name, track in tracks.items()},
        "overall": {
            "songs": len(tracks),
            "beat_f": _mean(t.beats.beat_f for t in tracks.values()),
            "cmlt": _mean(t.beats.cmlt for t in tracks.values()),
            "amlt": _mean(t.beats.amlt for t in tracks.values()),
            "downbeat_f": _mean(t.beats.downbeat_f for t in tracks.values()),
            "as_played": readings[AS_PLAYED],
            "tempo_readings": dict(readings),
            "sheet_f": pooled.f_measure,
            "sheet_precision": pooled.precision,
            "sheet_recall": pooled.recall,
        },
    }


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def hits_by_class(hits: list[Hit], classes: Mapping[str, str] = INSTRUMENT_CLASS) -> dict[str, list[float]]:
    """Fold DrumScribe's instruments into classes (instrument → class; by default the five standard ones).
    Instruments without a class in `classes` are left out."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for hit in hits:
        if hit.instrument in classes:
            grouped[classes[hit.instrument]].append(hit.time)
    return dict(grouped)


def find_tracks(directory: Path) -> list[tuple[Path, Path]]:
    """(audio, annotation) pairs: DIR/audio/NAME.wav with DIR/midi/NAME.mid."""
    audio_dir, midi_dir = directory / "audio", directory / "midi"
    if not audio_dir.is_dir() or not midi_dir.is_dir():
        raise IngestError(f"{directory} must hold audio/NAME.wav and midi/NAME.mid; one of the folders is missing")
    pairs = [(wav, midi_dir / f"{wav.stem}.mid") for wav in sorted(audio_dir.glob("*.wav"))]
    pairs = [(wav, mid) for wav, mid in pairs if mid.is_file()]
    if not pairs:
        raise IngestError(f"{directory} has no audio/NAME.wav with a matching midi/NAME.mid")
    return pairs


def evaluate_directory(directory: Path, *, settings: Settings, beats_from: Path | None = None) -> EvaluationReport:
    """Transcribe every annotated track of `directory` and score it against its MIDI; where the track
    has human beats (beats/NAME.beats), write its sheet too and score that. With `beats_from`, each
    sheet is written on the beats in beats_from/NAME.beats (`read_beat_track`) instead of a tracker's."""
    per_class = {cls: Counts() for cls in CLASSES}
    finer = {cls: Counts() for cls in FINE_CLASSES}
    per_track: dict[str, float] = {}
    sheets: dict[str, SheetTrack] = {}
    separator = model = ""
    tracks = find_tracks(Path(directory))
    given = _given_beats(Path(directory), [wav.stem for wav, _ in tracks], beats_from) if beats_from else {}
    for wav, mid in tracks:
        beats_file = Path(directory) / "beats" / f"{wav.stem}.beats"
        annotation = read_beats(beats_file) if beats_file.is_file() else None
        reference = read_midi_onsets(mid)
        with tempfile.TemporaryDirectory(prefix="drumscribe-eval-") as tmp:
            work = Path(tmp)
            stages.ingest_audio(wav, work, settings=settings)
            separator = stages.separate_drums(work, settings=settings).separator
            document = stages.predict_hits(work, settings=settings)
            model = document.model
            if annotation is not None:
                written = stages.transcribe_and_export(work, settings=settings, beats=given.get(wav.stem))
                sheets[wav.stem] = score_written_sheet(written, work / constants.MUSICXML, annotation, reference)
        counts = score_track(reference, hits_by_class(document.hits))
        for cls, value in counts.items():
            per_class[cls].add(value)
        fine_reference = read_midi_onsets(mid, GM_FINE_CLASS)
        fine_estimate = hits_by_class(document.hits, FINE_INSTRUMENT_CLASS)
        for cls, value in score_track(fine_reference, fine_estimate, FINE_CLASSES).items():
            finer[cls].add(value)
        per_track[wav.stem] = total(counts).f_measure
    return EvaluationReport(
        separator=separator,
        model=model,
        per_class=per_class,
        per_track=per_track,
        sheet=sheets,
        finer=finer,
        beats=f"given in {beats_from}" if beats_from else settings.BEAT_TRACKER,
    )


def _given_beats(directory: Path, names: list[str], beats_from: Path) -> dict[str, BeatTrack]:
    """The given beats of every song whose sheet is written (it has human beats), read before any song is
    transcribed, so a missing or malformed file stops the run at once."""
    scored = [name for name in names if (directory / "beats" / f"{name}.beats").is_file()]
    if not scored:
        raise AnnotationError(
            f"--beats-from {beats_from}: no song of {directory} has human beats (beats/NAME.beats), so no sheet "
            "is written to put the given beats under"
        )
    given: dict[str, BeatTrack] = {}
    for name in scored:
        path = beats_from / f"{name}.beats"
        if not path.is_file():
            raise AnnotationError(
                f"--beats-from {beats_from}: {path} is missing; write it (scripts/madmom_beats.py {directory} "
                f"--out {beats_from}) or leave --beats-from out to use the beat tracker"
            )
        given[name] = read_beat_track(path)
    return given


def score_written_sheet(
    document: HitsDocument, musicxml: Path, annotation: BeatAnnotation, strokes: Mapping[str, list[float]]
) -> SheetTrack:
    """Score the notation stage's output (hits.json's beats and bars, and the MusicXML it wrote) against
    the human beats and the annotated strokes ({class: times in s})."""
    if not document.beat_times or not document.downbeat_times or document.tempo_bpm is None:
        raise TranscriptionError(
            f"{constants.HITS_JSON} has no tempo, beat_times or downbeat_times to score: the notation stage "
            "(transcribe_and_export) writes them, and must run before the sheet is scored"
        )
    grid = HumanBarGrid(annotation)
    # The sheet's bar 1 should be the human bar its first downbeat falls in; the search goes around it.
    expected_shift = round(float(grid.coordinates_of(document.downbeat_times[:1])[0]))
    return SheetTrack(
        beats=score_beats(annotation, np.asarray(document.beat_times), np.asarray(document.downbeat_times)),
        sheet=score_sheet(strokes, grid, read_sheet_notes(musicxml), expected_shift=expected_shift),
        tempo_bpm=float(document.tempo_bpm),
        time_signature=str(document.time_signature),
    )


def format_report(report: EvaluationReport) -> str:
    """A table a person can read."""
    lines = [
        f"separator: {report.separator}   model: {report.model}",
        f"{'class':<8}{'P':>7}{'R':>7}{'F':>7}{'TP':>7}{'FP':>7}{'FN':>7}",
    ]
    lines += [_table_row(cls, c) for cls, c in [*report.per_class.items(), ("all", total(report.per_class))]]
    if report.finer:
        lines.append(f"finer classes inside HH and CY ({FINE_LEGEND}):")
        lines += [_table_row(cls, c) for cls, c in report.finer.items()]
    lines.append("per track F: " + ", ".join(f"{name} {f:.3f}" for name, f in report.per_track.items()))
    if report.sheet:
        lines += ["", f"sheets written on beats: {report.beats}", *format_sheet(report.sheet)]
    return "\n".join(lines)


def _table_row(cls: str, c: Counts) -> str:
    return f"{cls:<8}{c.precision:>7.3f}{c.recall:>7.3f}{c.f_measure:>7.3f}{c.tp:>7}{c.fp:>7}{c.fn:>7}"


def format_sheet(tracks: Mapping[str, SheetTrack]) -> list[str]:
    """The sheet section of the table: one row per song, then the means (sheet F pooled)."""
    width = max(len("all"), *(len(name) for name in tracks)) + 2
    lines = [
        f"sheet: beats and bars against human beats (±{BEAT_WINDOW_S * 1000:.0f} ms), notes as (bar, position "
        f"±{POSITION_TOLERANCE_BEATS:g} beat, class)",
        f"{'track':<{width}}{'beat F':>7}{'CMLt':>7}{'AMLt':>7}{'down F':>7}  {'tempo':<18}{'sheet F':>8}"
        f"{'bpm':>8}{'metre':>7}{'shift':>6}",
    ]
    for name, t in tracks.items():
        b = t.beats
        lines.append(
            f"{name:<{width}}{b.beat_f:>7.3f}{b.cmlt:>7.3f}{b.amlt:>7.3f}{b.downbeat_f:>7.3f}  {b.tempo_reading:<18}"
            f"{t.sheet.f_measure:>8.3f}{t.tempo_bpm:>8g}{t.time_signature:>7}{t.sheet.bar_shift:>6}"
        )
    overall = sheet_summary(tracks)["overall"]
    as_played = f"{overall['as_played']} of {overall['songs']} as played"
    lines.append(
        f"{'all':<{width}}{overall['beat_f']:>7.3f}{overall['cmlt']:>7.3f}{overall['amlt']:>7.3f}"
        f"{overall['downbeat_f']:>7.3f}  {as_played:<18}{overall['sheet_f']:>8.3f}"
    )
    return lines
