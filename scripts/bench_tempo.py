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

`--sheet` also scores each song's sheet against the grid the generator wrote it on, as `drumscribe
evaluate` scores songs with human beats (app/evaluation): beat and downbeat F-measure, CMLt/AMLt, the
tempo reading (as played, 2x, 1/2x, 2/3x, 3/2x, off the beat, other) and the sheet F-measure of the
notes in bars, per tempo band. It writes every sheet's MusicXML, so it takes about a second a song.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from app.core.errors import TranscriptionError
from app.evaluation.beats import BeatAnnotation
from app.evaluation.runner import SheetTrack, hits_by_class, score_written_sheet, sheet_summary
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.notation import Transcription, build_score, transcribe, write_musicxml
from app.training.grooves import STYLES, Song, random_song_on_grid

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
    parser.add_argument("--sheet", action="store_true", help="also score each sheet against the song's grid")
    args = parser.parse_args()
    if args.styles:
        return _by_style(args.bpm)

    readings: Counter[str] = Counter()
    by_band: dict[int, Counter[str]] = {}
    sheets: dict[int, dict[str, SheetTrack]] = {}
    for index in range(args.songs):
        song = random_song_on_grid(np.random.default_rng(args.seed + index), args.seconds)
        bpm = song.bpm
        if bpm == 0.0:
            continue
        hits = [Hit(e.time, e.instrument, e.velocity, 1.0) for e in song.events]
        try:
            transcription = transcribe(hits, duration_s=args.seconds)
        except TranscriptionError:
            reading = "other"
        else:
            ratio = transcription.tempo_bpm / bpm
            reading = next((name for name, r in _READINGS.items() if abs(ratio / r - 1) < 0.03), "other")
            if args.sheet:
                scored = _score_sheet(song, hits, transcription, args.seconds)
                sheets.setdefault(int(bpm // 20) * 20, {})[str(index)] = scored
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
    if args.sheet:
        _print_sheets(sheets)
    return 0


def _score_sheet(song: Song, hits: list[Hit], transcription: Transcription, seconds: float) -> SheetTrack:
    """The sheet of one song scored as `drumscribe evaluate` scores it, on the generator's own grid."""
    beat_s = 60.0 / song.bpm
    times = np.arange(song.first_downbeat_s, seconds, beat_s)
    grid = BeatAnnotation(times, np.arange(len(times)) % 4 + 1)
    document = HitsDocument(
        duration_s=seconds,
        separator="none",
        model="labels",
        hits=hits,
        tempo_bpm=transcription.tempo_bpm,
        time_signature=transcription.time_signature,
        beat_times=list(transcription.beat_times),
        downbeat_times=list(transcription.downbeat_times),
    )
    with tempfile.TemporaryDirectory(prefix="bench-tempo-") as folder:
        musicxml = Path(folder) / "sheet_music.musicxml"
        write_musicxml(build_score(transcription, "bench"), musicxml)
        return score_written_sheet(document, musicxml, grid, hits_by_class(hits))


def _print_sheets(sheets: dict[int, dict[str, SheetTrack]]) -> None:
    """Per tempo band: means of the beat figures, the share read as played, the pooled sheet F."""
    print("\nsheets against the generator's grid (songs the stage could transcribe):")
    print(f"{'bpm':>9} {'songs':>6} {'beat F':>7} {'CMLt':>6} {'AMLt':>6} {'down F':>7} {'played':>7} {'sheet F':>8}")
    everything = {f"{band}/{name}": t for band, tracks in sheets.items() for name, t in tracks.items()}
    for band, tracks in [*sorted(sheets.items()), (-1, everything)]:
        label = "all" if band < 0 else f"{band}-{band + 19}"
        o = sheet_summary(tracks)["overall"]
        print(
            f"{label:>9} {o['songs']:6d} {o['beat_f']:7.3f} {o['cmlt']:6.3f} {o['amlt']:6.3f} {o['downbeat_f']:7.3f} "
            f"{o['as_played'] / o['songs']:7.0%} {o['sheet_f']:8.3f}"
        )
    readings = Counter(t.beats.tempo_reading for t in everything.values())
    print("tempo readings: " + ", ".join(f"{name} {count}" for name, count in readings.most_common()))


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
