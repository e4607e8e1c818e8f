"""Time the notation stage (transcribe_and_export) on a 3-minute song, whole and step by step.

The song is a rock groove at 123 bpm with a tom fill every fourth bar, played on the sampled kit over
a bass line. Its hits come from the bundled model (`--separator none`), once; then the stage runs
--repeat times on a fresh copy of the job, after one warm-up run, in this one process (imports and
model loading are not counted). CPU time counts this process and its children (the PDF printer).
Each step is also timed alone, best of --repeat: the learned beat tracker, the rhythm (quantizing),
the music21 score, the MusicXML file, the PDF and the MIDI file.

    .venv/bin/python scripts/bench_notation.py [--seconds 180] [--repeat 5]
    # another checkout's code on the same song (written once by this checkout):
    .venv/bin/python scripts/bench_notation.py --render /tmp/song180.wav
    PYTHONPATH=OTHER/backend .venv/bin/python scripts/bench_notation.py --song /tmp/song180.wav
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from app.core.config import Settings
from app.pipeline import constants, stages
from app.pipeline.beats.tracker import track_beats
from app.pipeline.hits import HitsDocument
from app.pipeline.notation import build_score, transcribe, write_midi, write_musicxml, write_pdf
from app.synth.grooves import ROCK_BEAT, TOM_FILL, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove

BPM = 123.0


def _cpu_s() -> float:
    """CPU seconds (user and system) of this process and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), _cpu_s()
    result = step()
    return result, time.perf_counter() - wall, _cpu_s() - cpu


def render_song(seconds: float, path: Path) -> None:
    """Write the benchmark's song: rock with a tom fill every fourth bar, over a bass line, stereo."""
    bar_s = 4 * 60 / BPM
    rock = groove_from_pattern(ROCK_BEAT, bpm=BPM, bars=int(seconds / bar_s) + 1, start_s=0.5, fill=TOM_FILL)
    drums = render_groove(rock, default_sample_kit())[: int(seconds * constants.SAMPLE_RATE)]
    t = np.arange(drums.size) / constants.SAMPLE_RATE
    bass = 0.25 * np.sin(2 * np.pi * 55 * t * (1 + 0.5 * (np.floor(t / bar_s) % 2)))
    sf.write(path, np.stack([drums + bass, drums + bass], axis=1).astype(np.float32), constants.SAMPLE_RATE)


def main() -> int:
    """Print the notation stage's time on the benchmark song, whole (medians) and per step (best)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--render", type=Path, metavar="SONG", help="only write the benchmark's song (WAV)")
    parser.add_argument("--song", type=Path, help="time the stage on this song instead of rendering one")
    args = parser.parse_args()
    if args.render:
        render_song(args.seconds, args.render)
        return 0

    settings = Settings().model_copy(update={"SEPARATOR": "none"})
    work = Path(tempfile.mkdtemp(prefix="drumscribe-bench-notation-"))
    try:
        song, job = args.song or work / "song.wav", work / "job"
        if args.song is None:
            render_song(args.seconds, song)
        job.mkdir()
        stages.ingest_audio(song, job, settings=settings)
        stages.separate_drums(job, settings=settings)
        stages.predict_hits(job, settings=settings)

        runs = []
        for run in range(args.repeat + 1):
            copy = work / f"run{run}"
            shutil.copytree(job, copy)
            document, wall, cpu = _timed(partial(stages.transcribe_and_export, copy, settings=settings))
            if run:  # the first run warms caches
                runs.append((wall, cpu))
        print(
            f"{args.seconds:.0f} s song, {len(document.hits)} hits, BEAT_TRACKER={settings.BEAT_TRACKER}: "
            f"{document.tempo_bpm} bpm (played {BPM:.0f}), {document.time_signature}"
        )
        print(
            f"transcribe_and_export, median of {args.repeat}: {statistics.median(w for w, _ in runs):.2f} s wall, "
            f"{statistics.median(c for _, c in runs):.2f} s CPU (fastest {min(w for w, _ in runs):.2f} s wall)"
        )

        source = HitsDocument.load(job / constants.HITS_JSON)
        audio, sr = stages.read_mono(job / constants.DRUMS_AUDIO)
        out = work / "steps"
        out.mkdir()
        steps: dict[str, tuple[float, float]] = {}

        def best(name: str, step: Callable[[], Any]) -> Any:
            results = [_timed(step) for _ in range(args.repeat)]
            steps[name] = (min(r[1] for r in results), min(r[2] for r in results))
            return results[-1][0]

        beats = best("learned beat tracker", lambda: track_beats(audio, sr, source.hits))
        transcription = best(
            "rhythm (quantizing)",
            lambda: transcribe(source.hits, duration_s=source.duration_s, audio=audio, sr=sr, beats=beats),
        )
        score = best("music21 score", lambda: build_score(transcription, "Bench"))
        best("MusicXML file", lambda: write_musicxml(score, out / constants.MUSICXML))
        pages = best("PDF", lambda: write_pdf(out / constants.MUSICXML, out / constants.PDF))
        best("MIDI file", lambda: write_midi(source.hits, transcription.quarter_bpm, out / constants.MIDI))
        print(f"\n{len(transcription.bars)} bars, {pages} pages; each step alone, best of {args.repeat}:\n")
        print("| step | wall | CPU |\n|---|---|---|")
        for name, (wall, cpu) in steps.items():
            print(f"| {name} | {wall:.2f} s | {cpu:.2f} s |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
