"""`drumscribe evaluate`: run the pipeline's first three stages on annotated recordings and score them."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import IngestError
from app.evaluation.annotations import read_midi_onsets
from app.evaluation.metrics import CLASSES, INSTRUMENT_CLASS, Counts, score_track, total
from app.pipeline import stages
from app.pipeline.hits import Hit


@dataclass
class EvaluationReport:
    """Micro-averaged counts per class, plus each track's overall F-measure."""

    separator: str
    model: str
    per_class: dict[str, Counts]
    per_track: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        overall = total(self.per_class)
        return {
            "separator": self.separator,
            "model": self.model,
            "tracks": self.per_track,
            "classes": {
                cls: {
                    "precision": c.precision,
                    "recall": c.recall,
                    "f_measure": c.f_measure,
                    "tp": c.tp,
                    "fp": c.fp,
                    "fn": c.fn,
                }
                for cls, c in self.per_class.items()
            },
            "overall_f_measure": overall.f_measure,
        }


def hits_by_class(hits: list[Hit]) -> dict[str, list[float]]:
    """Fold DrumScribe's instruments into the five standard classes."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for hit in hits:
        grouped[INSTRUMENT_CLASS[hit.instrument]].append(hit.time)
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


def evaluate_directory(directory: Path, *, settings: Settings) -> EvaluationReport:
    """Transcribe every annotated track of `directory` and score it against its MIDI."""
    per_class = {cls: Counts() for cls in CLASSES}
    per_track: dict[str, float] = {}
    separator = model = ""
    for wav, mid in find_tracks(Path(directory)):
        with tempfile.TemporaryDirectory(prefix="drumscribe-eval-") as tmp:
            work = Path(tmp)
            stages.ingest_audio(wav, work, settings=settings)
            separator = stages.separate_drums(work, settings=settings).separator
            document = stages.predict_hits(work, settings=settings)
            model = document.model
        counts = score_track(read_midi_onsets(mid), hits_by_class(document.hits))
        for cls, value in counts.items():
            per_class[cls].add(value)
        per_track[wav.stem] = total(counts).f_measure
    return EvaluationReport(separator=separator, model=model, per_class=per_class, per_track=per_track)


def format_report(report: EvaluationReport) -> str:
    """A table a person can read."""
    lines = [
        f"separator: {report.separator}   model: {report.model}",
        f"{'class':<8}{'P':>7}{'R':>7}{'F':>7}{'TP':>7}{'FP':>7}{'FN':>7}",
    ]
    rows = [*report.per_class.items(), ("all", total(report.per_class))]
    for cls, c in rows:
        lines.append(f"{cls:<8}{c.precision:>7.3f}{c.recall:>7.3f}{c.f_measure:>7.3f}{c.tp:>7}{c.fp:>7}{c.fn:>7}")
    lines.append("per track F: " + ", ".join(f"{name} {f:.3f}" for name, f in report.per_track.items()))
    return "\n".join(lines)
