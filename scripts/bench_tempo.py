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
ratio of the tempo read to the tempo played; with `--trackers learned` the strokes are rendered on the
held-out kits and read by the beat network and its decoder (each of `--beat-models`), not by the
notation stage's classic tracker:

    .venv/bin/python scripts/bench_tempo.py --styles --trackers learned --bpm 70 85 100 130 170 \
        [--beat-models A.onnx B.onnx] [--activations]

`--activations` adds, per style and tempo, what the network says (means over the 4 seeds): P(beat or
downbeat) on the beats and on the 8th-note "ands", and P(downbeat) on beats 1 and 3; a network that
fires on the ands as on the beats leaves the tempo octave to the decoder.

`--sheet` also scores each song's sheet against the grid the generator wrote it on, as `drumscribe
evaluate` scores songs with human beats (app/evaluation): beat and downbeat F-measure, CMLt/AMLt, the
tempo reading (as played, 2x, 1/2x, 2/3x, 3/2x, off the beat, other) and the sheet F-measure of the
notes in bars, per tempo band. It writes every sheet's MusicXML, so it takes about a second a song.

`--trackers classic learned` instead compares beat trackers on held-out songs of the beat model's
generator (`app.training.beats.songs`: 4/4, 3/4, 6/8 and 12/8, drift, rubato, pickups, count-ins,
breaks, half- and double-time feels), rendered on the held-out kits and augmented as the beat model's
validation songs are (background music from the held-out clips for half of them). Their seeds,
`[--seed, 2, index, 2]`, are disjoint from the training and validation songs' (`[1234, 0 or 1, index,
2]`). Every tracker gets the same audio and the same hits: the labelled strokes, or with `--hits model`
the bundled drum model's hits on the audio (as the pipeline has them); "learned-network" is the learned tracker
with the decoder's own bar lines (no hit evidence). Printed per tracker: beat F, CMLt, AMLt, downbeat
F, tempo as played (beats only where drums are heard, ±70 ms) and metre right, per tempo band (counted
beats per minute, dotted quarters in 6/8 and 12/8) and per metre; `--sheet` adds the sheet F.
`--fit-bars` fits the learned tracker's bar-phase weights (`app/pipeline/beats/bars.py`) on the songs.
`--generator 1` (the default) draws the songs of the first song generator, which the bundled beat model
was trained on and every quoted figure was measured on (a fresh groove every bar); `--generator 2`
those of version 2's looped grooves with fewer bar-line markers, `--generator 3` version 1's songs with
half and double time only as stretches inside songs (`app.training.beats.songs`). Songs are also
grouped by their 4/4 bars' feels (normal, half, double, normal+half, ...).
`--beat-models A.onnx B.onnx` compares beat networks on the same audio and hits (the learned
trackers' rows are then named learned#1, learned#2, ... in that order; the bar-phase weights are the
bundled ones for all).

    .venv/bin/python scripts/bench_tempo.py --trackers classic learned-network learned --songs 150 --seed 1
    .venv/bin/python scripts/bench_tempo.py --trackers learned --songs 300 --seed 0 --fit-bars

`--write-set DIR` instead writes those held-out songs (the same `--songs`, `--seconds`, `--seed` and
`--generator`) as a folder `drumscribe evaluate DIR` reads: DIR/audio/NAME.wav (the rendered audio),
DIR/midi/NAME.mid (the labelled strokes as General MIDI drum notes), DIR/beats/NAME.beats (the beats where
drums are heard, as the trackers are scored above) and DIR/songs.tsv (each song's metre and tempo), so the
pipeline, other trackers (`--beats-from`) and the learned one can be compared on the same songs.

    .venv/bin/python scripts/bench_tempo.py --write-set /tmp/genset --songs 60 --seconds 20 --seed 1
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mido
import numpy as np
import soundfile as sf

from app.core.errors import TranscriptionError
from app.evaluation.beats import AS_PLAYED, BeatAnnotation, BeatScores, score_beats
from app.evaluation.metrics import Counts, total
from app.evaluation.runner import SheetTrack, hits_by_class, score_written_sheet, sheet_summary
from app.pipeline.beats.bars import recount_bars
from app.pipeline.beats.features import peak_scale
from app.pipeline.beats.recipe import FPS
from app.pipeline.hits import Hit, HitsDocument
from app.pipeline.notation import Transcription, build_score, transcribe, write_musicxml
from app.pipeline.notation.kit import KIT
from app.pipeline.prediction.frame import MODEL_SR
from app.training.augment import augment
from app.training.band import render_backgrounds
from app.training.beats.__main__ import DEFAULT_DATA_DIR
from app.training.beats.dataset import BACKGROUND_SHARE, BEAT_STREAM, MASK_MARGIN_S
from app.training.beats.songs import GENERATOR_VERSIONS, BeatSong, beat_song, playable_keeper
from app.training.dataset import BACKGROUND_CLIPS, BACKGROUND_SECONDS, split_banks
from app.training.grooves import STYLES, Event, Song, Stroke, random_song_on_grid
from app.training.render import render_drums
from app.training.samples import SampleBank, load_all_banks

if TYPE_CHECKING:
    from app.pipeline.beats.tracker import BeatNetwork

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
    parser.add_argument(
        "--trackers", nargs="+", choices=TRACKERS, help="compare these beat trackers on held-out beat songs"
    )
    parser.add_argument("--fit-bars", action="store_true", help="with --trackers: fit the bar-phase weights")
    parser.add_argument(
        "--generator",
        type=int,
        choices=GENERATOR_VERSIONS,
        default=1,
        help="with --trackers: the beat song generator's version",
    )
    parser.add_argument(
        "--beat-models",
        type=Path,
        nargs="+",
        help="with --trackers: beat networks (.onnx or .h5) to compare; the bundled one when not given",
    )
    parser.add_argument(
        "--write-set",
        type=Path,
        metavar="DIR",
        help="write the held-out beat songs as an evaluate folder (audio/, midi/, beats/) in DIR and stop",
    )
    parser.add_argument(
        "--activations",
        action="store_true",
        help="with --styles --trackers learned: also print the network's outputs on the beats, ands and bar lines",
    )
    parser.add_argument(
        "--hits",
        choices=("labels", "model"),
        default="labels",
        help="with --trackers: the trackers get the labelled strokes, or the bundled drum model's hits on the audio",
    )
    args = parser.parse_args()
    if args.styles:
        return _styles_on_audio(args) if args.trackers else _by_style(args.bpm)
    if args.write_set:
        return _write_set(args)
    if args.trackers:
        return _compare_trackers(args)

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
    return _score_sheet_on(BeatAnnotation(times, np.arange(len(times)) % 4 + 1), hits, transcription, seconds)


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


TRACKERS = ("classic", "learned", "learned-network")
BENCH_SPLIT = 2
"""The second word of the bench songs' seeds: training uses 0 and validation 1."""
BANDS = (60, 100, 140, 180)
"""Tempo bands of the comparison, counted beats per minute: 60-99, 100-139, 140-179, 180 and up."""


@dataclass
class _Scored:
    """One song through one tracker."""

    bpm: float
    metre: str
    beats: BeatScores | None
    """None when the tracker could not transcribe the song."""
    metre_right: bool
    sheet: SheetTrack | None = None
    feel: str = "normal"
    """The feels of the song's 4/4 bars (`BeatSong.feel`)."""


def _bench_song(
    index: int, seed: int, seconds: float, banks: list[SampleBank], backgrounds: list[np.ndarray], generator: int
) -> tuple[BeatSong, np.ndarray]:
    """Held-out beat song `index` of song generator version `generator`: its labels and its rendered,
    augmented audio (as validation renders it)."""
    rng = np.random.default_rng([seed, BENCH_SPLIT, index, BEAT_STREAM])
    song = beat_song(rng, seconds, version=generator)
    bank = banks[int(rng.integers(len(banks)))]
    audio, played = render_drums(song.events, bank, banks, rng, seconds)
    audio = augment(audio, rng, backgrounds if rng.random() < BACKGROUND_SHARE else None)
    return BeatSong(played, song.beats, song.metre, song.bpm, song.feel), peak_scale(audio)


def _heard(song: BeatSong) -> BeatAnnotation | None:
    """The song's beats where drums play or ring out, as the beat model is scored; None with no bar line."""
    first, last = song.events[0].time - MASK_MARGIN_S, song.events[-1].time + MASK_MARGIN_S
    kept = [b for b in song.beats if first <= b.time <= last]
    if len(kept) < 2 or not any(b.position == 1 for b in kept):
        return None
    return BeatAnnotation(np.array([b.time for b in kept]), np.array([b.position for b in kept]))


def _held_out_material() -> tuple[list[SampleBank], list[np.ndarray]]:
    """The held-out kits and background clips the bench songs are rendered with (as validation's)."""
    banks = split_banks(load_all_banks(), "val")
    clips = render_backgrounds(BACKGROUND_CLIPS, BACKGROUND_SECONDS, 1234, DEFAULT_DATA_DIR / "backgrounds")
    return banks, clips[BACKGROUND_CLIPS // 2 :]


MIDI_TICKS_PER_SECOND = 960
"""The set's MIDI files run at 120 bpm with 480 ticks a quarter: a tick is about a millisecond."""


def _write_set(args: argparse.Namespace) -> int:
    """Write the held-out beat songs as an evaluate folder in `args.write_set` (see the module's doc)."""
    folder: Path = args.write_set
    for sub in ("audio", "midi", "beats"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    banks, backgrounds = _held_out_material()
    table = ["name\tmetre\tbpm"]
    for index in range(args.songs):
        song, audio = _bench_song(index, args.seed, args.seconds, banks, backgrounds, args.generator)
        annotation = _heard(song)
        if annotation is None or not song.events:
            continue  # as the tracker comparison skips them: no bar line to score against
        name = f"gen{args.generator}-seed{args.seed}-{index:03d}"
        sf.write(folder / "audio" / f"{name}.wav", audio, MODEL_SR, subtype="PCM_16")
        _write_strokes_midi(song, folder / "midi" / f"{name}.mid")
        lines = [f"{t:.4f}\t{n}\n" for t, n in zip(annotation.times.tolist(), annotation.numbers.tolist(), strict=True)]
        (folder / "beats" / f"{name}.beats").write_text("".join(lines))
        table.append(f"{name}\t{song.metre}\t{song.bpm:.1f}")
    (folder / "songs.tsv").write_text("\n".join(table) + "\n")
    metres = Counter(line.split("\t")[1] for line in table[1:])
    print(
        f"{len(table) - 1} songs of {args.seconds:g} s in {folder} ({', '.join(f'{m} {n}' for m, n in metres.items())})"
    )
    return 0


def _write_strokes_midi(song: BeatSong, path: Path) -> None:
    """The song's labelled strokes as General MIDI drum notes (channel 10), each at its exact time."""
    midi = mido.MidiFile(ticks_per_beat=MIDI_TICKS_PER_SECOND // 2)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120))])
    midi.tracks.append(track)
    now = 0
    for event in sorted(song.events, key=lambda e: e.time):
        tick = round(event.time * MIDI_TICKS_PER_SECOND)
        note = KIT[event.instrument].gm_note
        track.append(mido.Message("note_on", channel=9, note=note, velocity=event.velocity, time=tick - now))
        track.append(mido.Message("note_off", channel=9, note=note, velocity=0, time=0))
        now = tick
    midi.save(path)


def _beat_networks(args: argparse.Namespace, always_list: bool) -> list[BeatNetwork]:
    """The beat networks of `args.beat_models` (the bundled one when none is given), loaded; with
    `always_list`, each printed as "#k: path" (the rows' numbers)."""
    from app.pipeline.beats.tracker import BUNDLED_BEAT_MODEL, load_beat_model

    paths = args.beat_models or [BUNDLED_BEAT_MODEL]
    if always_list:
        for k, path in enumerate(paths, 1):
            print(f"#{k}: {path}")
    return [load_beat_model(path) for path in paths]


def _compare_trackers(args: argparse.Namespace) -> int:
    """Score each of `args.trackers` on the held-out beat songs and print the table (and fit the bar weights)."""
    from app.core.config import Settings
    from app.pipeline.beats.bars import EVIDENCE, WEIGHTS, beat_evidence
    from app.pipeline.beats.decode import decode
    from app.pipeline.beats.tracker import beat_activations
    from app.pipeline.prediction.factory import load_predictor
    from app.training.beats.bar_weights import BarExample, fit_bar_weights, phase_accuracy, true_phase

    banks, backgrounds = _held_out_material()
    networks = _beat_networks(args, always_list=len(args.beat_models or []) > 1)
    runs = [
        (name if name == "classic" or len(networks) == 1 else f"{name}#{k}", name, k - 1)
        for name in args.trackers
        for k in (range(1, 2) if name == "classic" else range(1, len(networks) + 1))
    ]
    predictor = load_predictor(Settings()) if args.hits == "model" else None
    results: dict[str, list[_Scored]] = {label: [] for label, _, _ in runs}
    examples: list[BarExample] = []
    for index in range(args.songs):
        song, audio = _bench_song(index, args.seed, args.seconds, banks, backgrounds, args.generator)
        annotation = _heard(song)
        if annotation is None or not song.events:
            continue
        hits = [Hit(e.time, e.instrument, e.velocity, 1.0) for e in song.events]
        strokes = hits_by_class(hits)  # the sheet is scored against the labelled strokes either way
        if predictor is not None:
            hits = sorted(predictor.predict(audio, MODEL_SR), key=lambda h: h.time)
            if not hits:
                continue
        learned = set(args.trackers) - {"classic"}
        every = [beat_activations(network, audio, MODEL_SR) for network in networks] if learned else []
        activations = every[0] if every else None
        for label, name, which in runs:
            try:
                if name == "classic":
                    transcription = transcribe(hits, duration_s=args.seconds, audio=audio, sr=MODEL_SR)
                else:
                    track = decode(*every[which])
                    if name == "learned":
                        track = recount_bars(track, every[which].beats, hits)
                    transcription = transcribe(hits, duration_s=args.seconds, beats=track)
            except TranscriptionError:
                results[label].append(_Scored(song.bpm, song.metre, None, False, feel=song.feel))
                continue
            scores = score_beats(
                annotation, np.asarray(transcription.beat_times), np.asarray(transcription.downbeat_times)
            )
            sheet = None
            if args.sheet:
                sheet = _score_sheet_on(annotation, hits, transcription, args.seconds, strokes)
            results[label].append(
                _Scored(song.bpm, song.metre, scores, transcription.time_signature == song.metre, sheet, song.feel)
            )
        if args.fit_bars and activations is not None:
            track = decode(*activations)
            phase = true_phase(track, annotation)
            if phase is not None:
                beats_per_bar = int(np.max(track.positions))
                evidence = beat_evidence(track.times, activations.beats, hits, beats_per_bar)
                examples.append(BarExample(evidence, beats_per_bar, phase))
        if (index + 1) % 25 == 0:
            print(f"{index + 1} songs", flush=True)
    _print_comparison(results, args)
    if args.fit_bars:
        weights, right = fit_bar_weights(examples)
        network_only = phase_accuracy(examples, np.eye(len(EVIDENCE))[EVIDENCE.index("network")])
        print(f"\nbar-phase weights fitted on the {len(examples)} songs decoded at their tempo, in one metre:")
        print("    " + ", ".join(f"{name!r}: {w:.3f}" for name, w in weights.items()))
        bundled = phase_accuracy(examples, np.array([WEIGHTS[name] for name in EVIDENCE]))
        print(
            f"right bar phase with them: {right:.1%}; with the bundled weights: {bundled:.1%}; "
            f"with the network's evidence alone: {network_only:.1%}"
        )
    return 0


def _score_sheet_on(
    annotation: BeatAnnotation,
    hits: list[Hit],
    transcription: Transcription,
    seconds: float,
    strokes: dict[str, list[float]] | None = None,
) -> SheetTrack:
    """The sheet scored as `drumscribe evaluate` scores it, against `annotation`'s grid."""
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
        return score_written_sheet(document, musicxml, annotation, strokes or hits_by_class(hits))


def _band(bpm: float) -> int:
    """The band of `bpm`: the highest of BANDS at or below it (below 60, the first)."""
    return max(b for b in BANDS if b <= max(bpm, BANDS[0]))


def _band_label(band: int) -> str:
    following = [b for b in BANDS if b > band]
    return f"{band}-{following[0] - 1} bpm" if following else f"{band}+ bpm"


def _print_comparison(results: dict[str, list[_Scored]], args: argparse.Namespace) -> None:
    """One table: per tracker, every song, then per tempo band, per metre and per feel other than normal."""
    songs = len(next(iter(results.values())))
    print(
        f"\n{songs} held-out beat songs of {args.seconds:g} s (seed {args.seed}, generator {args.generator}); "
        "beats where drums are heard, ±70 ms"
    )
    header = (
        f"{'tracker':<19}{'songs':<22}{'n':>4}{'beat F':>8}{'CMLt':>7}{'AMLt':>7}{'down F':>8}{'played':>8}{'metre':>7}"
    )
    print(header + (f"{'sheet F':>9}" if args.sheet else ""))
    for name, scored in results.items():
        groups: list[tuple[str, list[_Scored]]] = [("all", scored)]
        groups += [(_band_label(band), [s for s in scored if _band(s.bpm) == band]) for band in BANDS]
        groups += [(metre, [s for s in scored if s.metre == metre]) for metre in ("4/4", "3/4", "6/8", "12/8")]
        feels = sorted({s.feel for s in scored if s.feel != "normal"})
        groups += [(f"4/4 {feel}", [s for s in scored if s.feel == feel]) for feel in feels]
        for label, group in groups:
            if not group:
                continue
            n = len(group)
            b = [s.beats for s in group]
            mean = {
                key: sum(getattr(x, key) for x in b if x is not None) / n
                for key in ("beat_f", "cmlt", "amlt", "downbeat_f")
            }
            played = sum(1 for x in b if x is not None and x.tempo_reading == AS_PLAYED) / n
            metre = sum(s.metre_right for s in group) / n
            row = (
                f"{name:<19}{label:<22}{n:>4}{mean['beat_f']:>8.3f}{mean['cmlt']:>7.3f}{mean['amlt']:>7.3f}"
                f"{mean['downbeat_f']:>8.3f}{played:>8.0%}{metre:>7.0%}"
            )
            if args.sheet:
                pooled = Counts()
                for s in group:
                    if s.sheet is not None:
                        pooled.add(total(s.sheet.sheet.counts))
                row += f"{pooled.f_measure:>9.3f}"
            print(row)


def _styles_on_audio(args: argparse.Namespace) -> int:
    """Each style alone at each of `args.bpm`, rendered on the held-out kits, through the learned
    tracker's network and decoder (each of `args.beat_models`): the tempo read over the tempo played."""
    from app.pipeline.beats.decode import decode
    from app.pipeline.beats.tracker import beat_activations

    banks, _ = _held_out_material()
    print("tempo read / tempo played by the beat network and decoder, 8 bars of each style rendered on held-out kits")
    networks = _beat_networks(args, always_list=True)
    played = [0] * len(networks)
    for name, style in STYLES.items():
        for k, network in enumerate(networks, 1):
            cells = []
            profiles: list[tuple[float, float, float, float]] = []
            for bpm in args.bpm:
                ratios = []
                for seed in range(4):
                    rng = np.random.default_rng([seed, round(bpm)])
                    events = _style_strokes(style, bpm, rng)
                    audio, _ = render_drums(events, banks[seed % len(banks)], banks, rng, _style_seconds(bpm))
                    activations = beat_activations(network, peak_scale(audio), MODEL_SR)
                    track = decode(*activations)
                    read = 60.0 / float(np.median(np.diff(track.times))) if len(track.times) > 1 else 0.0
                    ratios.append(f"{read / bpm:.2f}")
                    played[k - 1] += abs(read / bpm - 1.0) < 0.04
                    profiles.append(_activation_profile(activations.beats, bpm))
                cells.append(f"{bpm:g}: {' '.join(ratios)}")
            print(f"{name:>9} #{k}  " + "   ".join(cells), flush=True)
            if args.activations:
                means = np.mean(np.reshape(profiles, (len(args.bpm), 4, 4)), axis=1)
                said = [f"{bpm:g}: {' '.join(f'{x:.2f}' for x in m)}" for bpm, m in zip(args.bpm, means, strict=True)]
                print(f"{'':>13}beat+downbeat on the beats / on the ands, downbeat on 1 / on 3:  " + "   ".join(said))
    for k, count in enumerate(played, 1):
        print(f"#{k}: {count} of {4 * len(args.bpm) * len(STYLES)} read as played (within 4 %)")
    return 0


_STYLE_LEAD_IN_S = 0.3
"""Where `_style_strokes`' first bar starts."""


def _activation_profile(probs: np.ndarray, bpm: float) -> tuple[float, float, float, float]:
    """What the beat network says of a `_style_strokes` song, each read at its highest within a frame:
    P(beat or downbeat) on the beats and on the 8th-note "ands" between them, and P(downbeat) on
    beats 1 and 3 of the bars (the first and last bar left out, where the song starts and rings out)."""
    beat_s = 60.0 / bpm

    def peak(beat: float, column: slice) -> float:
        frame = round((_STYLE_LEAD_IN_S + beat * beat_s) * FPS)
        return float(probs[max(0, frame - 1) : frame + 2, column].sum(axis=1).max())

    onset, downbeat = slice(1, 3), slice(2, 3)
    beats = range(4, 28)
    return (
        float(np.mean([peak(b, onset) for b in beats])),
        float(np.mean([peak(b + 0.5, onset) for b in beats])),
        float(np.mean([peak(b, downbeat) for b in beats if b % 4 == 0])),
        float(np.mean([peak(b, downbeat) for b in beats if b % 4 == 2])),
    )


def _style_strokes(
    style: Callable[[np.random.Generator, bool], list[Stroke]], bpm: float, rng: np.random.Generator
) -> list[Event]:
    """8 bars of one 4/4 `style` at `bpm` from _STYLE_LEAD_IN_S, each bar drawn anew and played as a
    drummer can at that tempo (`playable_keeper`: no 16th-note hi-hat above 130 bpm), each stroke 6 ms off its grid
    by chance; sorted by time."""
    beat_s = 60.0 / bpm
    events = [
        Event(_STYLE_LEAD_IN_S + (bar * 4 + pos) * beat_s + float(rng.normal(0.0, 0.006)), cls, velocity)
        for bar in range(8)
        for pos, cls, velocity in playable_keeper(style(rng, False), bpm)
    ]
    return sorted(events, key=lambda e: e.time)


def _style_seconds(bpm: float) -> float:
    """How long `_style_strokes`' songs last: the lead-in, 32 beats and a second to ring out."""
    return _STYLE_LEAD_IN_S + 32 * 60.0 / bpm + 1.0


def _by_style(tempi: list[float]) -> int:
    print("tempo read / tempo played, 8 bars of each style, seeds 0-3")
    for name, style in STYLES.items():
        cells = []
        for bpm in tempi:
            ratios = []
            for seed in range(4):
                rng = np.random.default_rng(seed)
                hits = [Hit(e.time, e.instrument, e.velocity, 1.0) for e in _style_strokes(style, bpm, rng)]
                read = transcribe(hits, duration_s=_style_seconds(bpm)).tempo_bpm
                ratios.append(f"{read / bpm:.2f}")
            cells.append(f"{bpm:g} bpm: {' '.join(ratios)}")
        print(f"{name:>9}  " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
