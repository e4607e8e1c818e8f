"""The bar-pointer decoder on constructed activations: what a good beat network would say, and the traps
that make today's hand-tuned tracker write the wrong tempo or phase."""

from __future__ import annotations

import numpy as np
import pytest

from app.pipeline.beats.decode import BeatTrack, decode
from app.pipeline.beats.recipe import FPS, TEMPO_BINS, tempo_bin

_PEAK = ((-1, 0.4), (0, 1.0), (1, 0.4))
"""A network's peak is about three frames wide."""


def activations(
    beats: np.ndarray,
    positions: np.ndarray,
    seconds: float,
    *,
    others: tuple[tuple[np.ndarray, float], ...] = (),
    level: float = 0.8,
    compound: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 3) [none, beat, downbeat] probabilities with a peak at each beat (a downbeat peak where
    the position is 1), plus "beat" peaks of the given heights at `others` (strokes between the beats
    that a weaker network would half-believe), and a constant compound probability."""
    frames = int(seconds * FPS) + 1
    p = np.zeros((frames, 3))

    def put(times: np.ndarray, column: int, height: float) -> None:
        for t in times:
            k = round(float(t) * FPS)
            for d, w in _PEAK:
                if 0 <= k + d < frames:
                    p[k + d, column] = max(p[k + d, column], height * w)

    put(beats[positions != 1], 1, level)
    put(beats[positions == 1], 2, level)
    for times, height in others:
        put(times, 1, height)
    p[:, 1:] += 0.01
    p[:, 0] = np.clip(1.0 - p[:, 1] - p[:, 2], 1e-3, 1.0)
    p /= p.sum(axis=1, keepdims=True)
    return p, np.full(frames, compound)


def grid(bpm: float, seconds: float, start: float = 0.4) -> np.ndarray:
    return np.arange(start, seconds - 0.3, 60.0 / bpm)


def assert_beats(track: BeatTrack, beats: np.ndarray, tolerance: float = 0.015) -> None:
    assert len(track.times) == len(beats), (len(track.times), len(beats))
    assert np.max(np.abs(track.times - beats)) < tolerance


def test_a_steady_4_4_groove_with_a_pickup_gives_every_beat_and_bar() -> None:
    beats = grid(123.0, 30.0)
    positions = (np.arange(len(beats)) + 2) % 4 + 1  # the song starts on beat 3
    track = decode(*activations(beats, positions, 30.0))
    assert_beats(track, beats)
    assert track.positions.tolist() == positions.tolist()
    assert track.metre == "4/4"
    assert track.tempo_bpm == pytest.approx(123.0, abs=0.6)


def test_offbeat_strokes_do_not_pull_the_grid_off_the_beat() -> None:
    # Loud 8th-note off-beats (open hi-hats, the disco or ska "and") that the network half-believes are
    # beats: 8ths at 200 bpm would still be in range, and the off-beat phase at 100 bpm is one step away.
    beats = grid(100.0, 30.0)
    positions = np.arange(len(beats)) % 4 + 1
    ands = beats + 0.3
    track = decode(*activations(beats, positions, 30.0, others=((ands, 0.15),), level=0.6))
    assert_beats(track, beats)
    assert track.tempo_bpm == pytest.approx(100.0, abs=0.6)


def test_straight_eighths_at_150_are_not_read_at_two_thirds_speed() -> None:
    # The Punk trap: straight 8ths at 150 bpm once written as 100 bpm in triplets.
    beats = grid(150.0, 30.0)
    positions = np.arange(len(beats)) % 4 + 1
    ands = beats + 0.2
    track = decode(*activations(beats, positions, 30.0, others=((ands, 0.45),), level=0.6))
    assert track.tempo_bpm == pytest.approx(150.0, abs=1.0)
    assert_beats(track, beats)


@pytest.mark.parametrize(("compound", "metre"), [(0.1, "4/4"), (0.9, "12/8")])
def test_a_triplet_feel_keeps_its_beat_and_its_metre_follows_the_compound_output(compound: float, metre: str) -> None:
    beats = grid(90.0, 30.0)
    positions = np.arange(len(beats)) % 4 + 1
    triplets = np.concatenate([beats + 60.0 / 90.0 / 3, beats + 2 * 60.0 / 90.0 / 3])
    track = decode(*activations(beats, positions, 30.0, others=((triplets, 0.3),), compound=compound))
    assert_beats(track, beats)
    assert track.metre == metre
    assert track.tempo_bpm == pytest.approx(90.0, abs=0.6)


def test_6_8_counts_two_dotted_quarters_a_bar() -> None:
    beats = grid(60.0, 40.0)  # dotted quarters; the eighths between them are weak peaks
    positions = np.arange(len(beats)) % 2 + 1
    eighths = np.concatenate([beats + 1 / 3, beats + 2 / 3])
    track = decode(*activations(beats, positions, 40.0, others=((eighths, 0.25),), compound=0.9))
    assert_beats(track, beats)
    assert track.metre == "6/8"
    assert track.positions.tolist() == positions.tolist()
    assert track.tempo_bpm == pytest.approx(60.0, abs=0.6)


def test_3_4_bars_come_from_the_downbeats() -> None:
    beats = grid(140.0, 30.0)
    positions = np.arange(len(beats)) % 3 + 1
    track = decode(*activations(beats, positions, 30.0))
    assert_beats(track, beats)
    assert track.metre == "3/4"
    assert np.allclose(track.downbeats, beats[positions == 1], atol=0.015)


def test_a_drifting_tempo_is_followed_beat_by_beat() -> None:
    # 90 bpm speeding up smoothly to 130 over a minute: no single grid fits.
    bpm = np.linspace(90.0, 130.0, 120)
    beats = 0.4 + np.concatenate([[0.0], np.cumsum(60.0 / bpm)])
    beats = beats[beats < 59.5]
    positions = np.arange(len(beats)) % 4 + 1
    track = decode(*activations(beats, positions, 60.0))
    assert_beats(track, beats, tolerance=0.02)
    assert track.positions.tolist() == positions.tolist()


def test_beats_go_on_through_a_break_and_silence_around_the_drums_is_not_decoded() -> None:
    beats = grid(120.0, 40.0, start=5.0)
    positions = np.arange(len(beats)) % 4 + 1
    playing = (beats < 20.0) | (beats >= 24.0)  # two bars without drums, then the groove again
    probs, compound = activations(beats[playing], positions[playing], 45.0)
    track = decode(probs, compound)
    assert track.times[0] == pytest.approx(5.0, abs=0.015)
    assert track.times[-1] < 40.0
    assert_beats(track, beats)
    assert track.positions.tolist() == positions.tolist()


def test_a_change_of_metre_is_followed_at_the_bar_line() -> None:
    first = grid(120.0, 32.3)  # 16 bars of 4/4 (64 beats), then 16 bars of 3/4
    beats = 0.4 + np.arange(64 + 48) * 0.5
    positions = np.concatenate([np.arange(64) % 4 + 1, np.arange(48) % 3 + 1])
    assert len(first) >= 64
    track = decode(*activations(beats, positions, float(beats[-1]) + 0.6))
    assert_beats(track, beats)
    assert track.metres[:64] == ("4/4",) * 64
    assert track.metres[68:] == ("3/4",) * 44
    assert track.positions.tolist() == positions.tolist()


def tempo_output(frames: int, bpm: float, confidence: float) -> np.ndarray:
    """(frames, TEMPO_BINS): `confidence` on `bpm`'s bin, the rest spread evenly."""
    tempo = np.full((frames, TEMPO_BINS), (1.0 - confidence) / (TEMPO_BINS - 1))
    tempo[:, tempo_bin(bpm)] = confidence
    return tempo


@pytest.mark.parametrize(("said", "read"), [(80.0, 80.0), (160.0, 160.0)])
def test_the_tempo_output_settles_the_octave_the_beat_activations_leave_open(said: float, read: float) -> None:
    # A 16th-note groove at 80 bpm: the network half-believes every 8th-note "and" is a beat as well,
    # which alone the decoder reads at 160. The tempo output decides.
    beats = grid(80.0, 30.0)
    positions = np.arange(len(beats)) % 4 + 1
    ands = beats + 60.0 / 80.0 / 2
    probs, compound = activations(beats, positions, 30.0, others=((ands, 0.55),), level=0.75)
    assert decode(probs, compound).tempo_bpm == pytest.approx(160.0, abs=1.5)
    track = decode(probs, compound, tempo_output(len(probs), said, 0.5))
    assert track.tempo_bpm == pytest.approx(read, abs=1.0)
    if read == 80.0:
        assert_beats(track, beats)


def test_an_undecided_tempo_output_changes_nothing() -> None:
    beats = grid(123.0, 30.0)
    positions = (np.arange(len(beats)) + 2) % 4 + 1
    probs, compound = activations(beats, positions, 30.0)
    flat = np.full((len(probs), TEMPO_BINS), 1.0 / TEMPO_BINS)
    with_flat, without = decode(probs, compound, flat), decode(probs, compound)
    assert np.allclose(with_flat.times, without.times)
    assert with_flat.positions.tolist() == without.positions.tolist()


def test_nothing_to_decode_and_bad_shapes() -> None:
    silent = np.tile([1.0, 0.0, 0.0], (500, 1))
    assert len(decode(silent).times) == 0
    with pytest.raises(ValueError, match="frames, 3"):
        decode(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="compound"):
        decode(silent, np.zeros(3))
    with pytest.raises(ValueError, match="tempo must be"):
        decode(silent, None, np.zeros((500, 3)))
