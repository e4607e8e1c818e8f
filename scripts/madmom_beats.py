"""Beats and downbeats by madmom, written as .beats files: the reference the sheet's beats are compared with.

Runs in the benchmark-only venv that scripts/madmom-env.sh builds, never in the product's: madmom's
trained models are licensed for non-commercial use only, so madmom is a reference to measure against,
not a dependency. It imports nothing from `app`.

For each audio file, madmom's RNN downbeat activation (RNNDownBeatProcessor, 100 frames a second) is
decoded by its dynamic Bayesian network downbeat tracker (DBNDownBeatTrackingProcessor, bars of 3 or 4
beats, its defaults otherwise), and OUT/NAME.beats gets one beat a line: the time in seconds, a tab,
and the beat's number in its bar (1 = downbeat), the format of the human annotations in
../shared/data/mdb-dev/beats. `drumscribe evaluate DIR --beats-from OUT` then writes the sheet on them.

    ~/.cache/drumscribe-bench/madmom-venv/bin/python scripts/madmom_beats.py DIR_OR_FILE... --out OUT

A folder stands for every .wav in its audio/ subfolder (an evaluate folder), or in itself when it has none.
"""

from __future__ import annotations

import argparse
import sys
import time
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from madmom.audio.signal import Signal
from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor
from scipy.signal import resample_poly

FPS = 100
"""Frames a second of the activation and the tracker (madmom's downbeat models are trained at 100)."""
BEATS_PER_BAR = (3, 4)
SAMPLE_RATE = 44_100
"""The rate madmom's downbeat networks take; other rates are resampled to it."""


def audio_files(inputs: list[Path]) -> list[Path]:
    """The .wav files the inputs name: files as given, folders by their audio/ subfolder (or themselves)."""
    found: list[Path] = []
    for item in inputs:
        if item.is_file():
            found.append(item)
        elif item.is_dir():
            folder = item / "audio" if (item / "audio").is_dir() else item
            wavs = sorted(folder.glob("*.wav"))
            if not wavs:
                raise SystemExit(f"madmom_beats: {folder} holds no .wav file")
            found += wavs
        else:
            raise SystemExit(f"madmom_beats: {item} is neither an audio file nor a folder")
    names = [path.stem for path in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"madmom_beats: two inputs would both write {duplicates[0]}.beats; give one folder at a time")
    return found


def read_mono(path: Path) -> np.ndarray:
    """The file's samples as mono float32 at SAMPLE_RATE (channels averaged, as madmom mixes them)."""
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        common = gcd(rate, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // common, rate // common).astype(np.float32)
    return mono


def track(path: Path, activation: RNNDownBeatProcessor, tracker: DBNDownBeatTrackingProcessor) -> np.ndarray:
    """(beats, 2): each beat's time in seconds and its number in the bar."""
    signal = Signal(read_mono(path), sample_rate=SAMPLE_RATE)
    return np.asarray(tracker(activation(signal)))


def format_beats(beats: np.ndarray) -> str:
    """The .beats text: `time<TAB>number` a line, times to the millisecond."""
    return "".join(f"{t:.3f}\t{round(n)}\n" for t, n in beats.tolist())


def main() -> int:
    """Track every input and write OUT/NAME.beats."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, help="audio files, or folders (their audio/*.wav)")
    parser.add_argument("--out", required=True, type=Path, help="folder for NAME.beats (created)")
    args = parser.parse_args()
    files = audio_files(args.inputs)
    args.out.mkdir(parents=True, exist_ok=True)
    activation = RNNDownBeatProcessor(fps=FPS)
    tracker = DBNDownBeatTrackingProcessor(beats_per_bar=list(BEATS_PER_BAR), fps=FPS)
    for path in files:
        start = time.perf_counter()
        beats = track(path, activation, tracker)
        (args.out / f"{path.stem}.beats").write_text(format_beats(beats))
        bar = int(beats[:, 1].max()) if len(beats) else 0
        print(f"{path.stem}: {len(beats)} beats, {bar} a bar, {time.perf_counter() - start:.1f} s", flush=True)
        if len(beats) < 2:
            print(f"madmom_beats: {path} gave fewer than two beats; its .beats file cannot be used", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
