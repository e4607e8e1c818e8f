"""Measure how often the notation stage reads a groove at its played tempo, rather than double or half.

The grooves come from the training data's generator (`app.training.grooves.random_song`: rock, funk,
shuffle, jazz, metal, reggae, disco, half-time, ride and tom grooves from 60 to 200 bpm, humanised, with
fills and a change of style half way), and their labelled strokes go straight to
`app.pipeline.notation.transcribe`, so the figure is the rhythm stage's alone, not the drum model's.
Songs that are random scatters of strokes have no tempo and are skipped; a song the stage cannot
transcribe counts as "other".

    .venv/bin/python scripts/bench_tempo.py [--songs 300] [--seconds 16] [--seed 0]
    .venv/bin/python scripts/bench_tempo.py --styles [--bpm 65 75 170 190]

`--styles` instead plays each style alone for 8 bars (4 seeds, no fills) at each tempo and prints the
ratio of the tempo read to the tempo played.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import transcribe
from app.training.grooves import STYLES, random_song

_READINGS = {"played": 1.0, "double": 2.0, "half": 0.5}
"""Tempo ratios (read / played) that name a reading, within 3 %."""


def main() -> int:
    """Transcribe the generated songs' strokes and print the share read at, double or half their tempo."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--songs", type=int, default=300, help="songs drawn (scatter songs are skipped)")
    parser.add_argument("--seconds", type=float, default=16.0, help="length of each song")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first song; song i uses seed + i")
    parser.add_argument("--styles", action="store_true", help="each style alone, at each of --bpm")
    parser.add_argument("--bpm", type=float, nargs="+", default=[65.0, 75.0, 170.0, 190.0])
    args = parser.parse_args()
    if args.styles:
        return _by_style(args.bpm)

    readings: Counter[str] = Counter()
    by_band: dict[int, Counter[str]] = {}
    for index in range(args.songs):
        events, bpm = random_song(np.random.default_rng(args.seed + index), args.seconds)
        if bpm == 0.0:
            continue
        hits = [Hit(e.time, e.instrument, e.velocity, 1.0) for e in events]
        try:
            ratio = transcribe(hits, duration_s=args.seconds).tempo_bpm / bpm
        except TranscriptionError:
            reading = "other"
        else:
            reading = next((name for name, r in _READINGS.items() if abs(ratio / r - 1) < 0.03), "other")
        readings[reading] += 1
        by_band.setdefault(int(bpm // 20) * 20, Counter())[reading] += 1

    total = sum(readings.values())
    print(f"{total} songs of {args.seconds:g} s; tempo read as played, at double or half speed, or otherwise:")
    print(f"{'bpm':>9} {'songs':>6} " + " ".join(f"{name:>8}" for name in [*_READINGS, "other"]))
    for band, counts in [*sorted(by_band.items()), (-1, readings)]:
        label = "all" if band < 0 else f"{band}-{band + 19}"
        n = sum(counts.values())
        shares = " ".join(f"{counts[name] / n:8.0%}" for name in [*_READINGS, "other"])
        print(f"{label:>9} {n:6d} {shares}")
    return 0


def _by_style(tempi: list[float]) -> int:
    print("tempo read / tempo played, 8 bars of each style, seeds 0-3")
    for name, style in STYLES.items():
        cells = []
        for bpm in tempi:
            beat_s = 60.0 / bpm
            ratios = []
            for seed in range(4):
                rng = np.random.default_rng(seed)
                hits = [
                    Hit(0.3 + (bar * 4 + pos) * beat_s + float(rng.normal(0.0, 0.006)), cls, velocity, 1.0)
                    for bar in range(8)
                    for pos, cls, velocity in style(rng, False)
                ]
                read = transcribe(hits, duration_s=0.3 + 32 * beat_s + 1.0).tempo_bpm
                ratios.append(f"{read / bpm:.2f}")
            cells.append(f"{bpm:g} bpm: {' '.join(ratios)}")
        print(f"{name:>9}  " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
