"""Tempo, beat grid, metre and quantization of drum hits (app.pipeline.notation.rhythm)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from app.core.errors import TranscriptionError
from app.pipeline.hits import Hit
from app.pipeline.notation import transcribe
from app.synth.grooves import (
    CRASH_AND_RIDE,
    FUNK_SIXTEENTHS,
    ROCK_BEAT,
    TOM_FILL,
    GrooveEvent,
    Pattern,
    groove_from_pattern,
)

SHUFFLE: Pattern = {
    "kick": [(0.0, 110), (2.0, 110)],
    "snare": [(1.0, 105), (3.0, 105)],
    "hihat_closed": [(b + t, 90) for b in range(4) for t in (0.0, 2 / 3)],
}
"""Swung eighths: the second stroke of each beat on its last 8th-note triplet."""

WALTZ: Pattern = {
    "kick": [(0.0, 110)],
    "snare": [(1.0, 90), (2.0, 90)],
    "hihat_closed": [(b + t, 80) for b in range(3) for t in (0.0, 0.5)],
}

SEXTUPLET_FILL: Pattern = {"kick": [(0.0, 110)], "snare": [(i / 6, 100) for i in range(24)]}


def hits_of(events: list[GrooveEvent], jitter_s: float = 0.0, seed: int = 0) -> list[Hit]:
    """The events as hits, each moved by up to ±`jitter_s` (a seeded, human-sized timing error)."""
    rng = np.random.default_rng(seed)
    return [Hit(max(0.0, e.time + rng.uniform(-jitter_s, jitter_s)), e.instrument, e.velocity, 0.9) for e in events]


@pytest.mark.parametrize(
    "pattern", [ROCK_BEAT, FUNK_SIXTEENTHS, CRASH_AND_RIDE, SHUFFLE], ids=["rock", "funk", "crash", "shuffle"]
)
@pytest.mark.parametrize("bpm", [90, 95, 120, 150])
def test_steady_grooves_give_the_exact_tempo_and_bars(pattern: Pattern, bpm: int) -> None:
    groove = groove_from_pattern(pattern, bpm=bpm, bars=4, start_s=0.37)
    result = transcribe(hits_of(groove.events, jitter_s=0.01, seed=bpm), duration_s=groove.duration_s + 1.0)
    assert result.tempo_bpm == float(bpm)
    assert result.time_signature == "4/4"
    assert len(result.bars) == 4
    assert result.bars[0].start_s == pytest.approx(0.37, abs=0.012), "bar 1 starts on the first downbeat"


@pytest.mark.parametrize("pattern", [ROCK_BEAT, CRASH_AND_RIDE, SHUFFLE], ids=["rock", "crash", "shuffle"])
@pytest.mark.parametrize("bpm", [65, 70, 190, 195])
def test_ballads_and_fast_grooves_keep_their_tempo(pattern: Pattern, bpm: int) -> None:
    # The snare on 2 and 4 tells a 65-bpm ballad from a 130-bpm half-time groove, and a 190-bpm
    # groove from a 95-bpm one with a snare on every beat; the tempo prior alone would pick 130 and 95.
    groove = groove_from_pattern(pattern, bpm=bpm, bars=8, start_s=0.3)
    result = transcribe(hits_of(groove.events, jitter_s=0.01, seed=bpm), duration_s=groove.duration_s + 1.0)
    assert (result.tempo_bpm, len(result.bars)) == (float(bpm), 8)


def test_exact_timing_gives_an_exactly_even_grid() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5)
    result = transcribe(hits_of(groove.events), duration_s=groove.duration_s + 0.5)
    assert result.tempo_bpm == 120.0
    assert np.allclose(result.beat_times, 0.5 + 0.5 * np.arange(16), atol=1e-9)
    assert result.downbeat_times == result.beat_times[::4], "bars start on every fourth beat"


def test_a_tempo_between_whole_numbers_is_kept() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=97.5, bars=8)
    assert transcribe(hits_of(groove.events), duration_s=groove.duration_s).tempo_bpm == 97.5


def test_a_groove_that_speeds_up_stays_on_the_grid() -> None:
    events: list[GrooveEvent] = []
    start = 0.0
    for bar in range(24):  # 100 → 112 bpm, a bar at a time
        bpm = 100 + 12 * bar / 23
        events += groove_from_pattern(ROCK_BEAT, bpm=bpm, bars=1, start_s=start).events
        start += 4 * 60 / bpm
    result = transcribe(hits_of(events), duration_s=start)
    assert len(result.bars) == 24
    assert 100 < result.tempo_bpm < 112
    assert {hit.offset.denominator for bar in result.bars for hit in bar.hits} <= {1, 2}, "all on 8ths"


def test_three_four_is_detected() -> None:
    groove = groove_from_pattern(WALTZ, bpm=150, bars=8, beats_per_bar=3, start_s=0.2)
    result = transcribe(hits_of(groove.events, jitter_s=0.008), duration_s=groove.duration_s + 0.5)
    assert (result.time_signature, result.tempo_bpm, len(result.bars)) == ("3/4", 150.0, 8)
    assert all(len(bar.subdivisions) == 3 for bar in result.bars)


def test_straight_sixteenths_stay_straight() -> None:
    groove = groove_from_pattern(FUNK_SIXTEENTHS, bpm=96, bars=4)
    result = transcribe(hits_of(groove.events, jitter_s=0.01, seed=3), duration_s=groove.duration_s)
    assert {s for bar in result.bars for s in bar.subdivisions} == {4}
    hats = {h.offset for h in result.bars[1].hits if h.instrument == "hihat_closed"}
    assert hats == {Fraction(i, 4) for i in range(16)} - {Fraction(14, 4)}
    assert {h.offset for h in result.bars[1].hits if h.instrument == "hihat_open"} == {Fraction(7, 2)}


def test_a_shuffle_comes_out_as_swung_eighths() -> None:
    groove = groove_from_pattern(SHUFFLE, bpm=110, bars=4)
    result = transcribe(hits_of(groove.events, jitter_s=0.01, seed=5), duration_s=groove.duration_s)
    assert {s for bar in result.bars for s in bar.subdivisions} == {2}
    assert all(bar.swing for bar in result.bars)
    assert {h.offset % 1 for bar in result.bars for h in bar.hits if h.instrument == "hihat_closed"} == {
        0,
        Fraction(1, 2),
    }


def test_sixteenth_triplets_inside_a_straight_groove() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=90, bars=3)
    fill = groove_from_pattern(SEXTUPLET_FILL, bpm=90, bars=1, start_s=groove.duration_s)
    result = transcribe(hits_of(groove.events + fill.events), duration_s=groove.duration_s + fill.duration_s)
    assert [bar.subdivisions for bar in result.bars] == [(2, 2, 2, 2)] * 3 + [(6, 6, 6, 6)]
    assert [h.offset for h in result.bars[3].hits if h.instrument == "snare"] == [Fraction(i, 6) for i in range(24)]


def test_a_stroke_played_early_belongs_to_the_next_downbeat() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=2)
    late_crash = Hit(groove.duration_s - 0.012, "crash", 120, 0.9)
    result = transcribe([*hits_of(groove.events), late_crash], duration_s=groove.duration_s + 1.0)
    assert len(result.bars) == 3
    assert [(h.offset, h.instrument) for h in result.bars[2].hits] == [(Fraction(0), "crash")]


def test_bar_phase_follows_the_kick_and_crash_not_the_first_hit() -> None:
    # A pickup: the snare fill's last beat comes before the groove's first downbeat.
    groove = groove_from_pattern(CRASH_AND_RIDE, bpm=120, bars=4, start_s=2.0)
    pickup = [Hit(1.5 + 0.125 * i, "snare", 100, 0.9) for i in range(4)]
    result = transcribe(pickup + hits_of(groove.events), duration_s=groove.duration_s + 2.0)
    assert result.bars[1].start_s == pytest.approx(2.0)
    assert [h.offset for h in result.bars[0].hits] == [3, Fraction(13, 4), Fraction(7, 2), Fraction(15, 4)]


def test_one_stroke_per_drum_per_grid_point_and_open_beats_closed() -> None:
    hits = hits_of(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2).events)
    hits += [Hit(0.004, "hihat_open", 90, 0.9), Hit(0.502, "snare", 40, 0.9), Hit(0.498, "snare", 90, 0.9)]
    result = transcribe(hits, duration_s=4.0)
    first = [(h.offset, h.instrument, h.velocity) for h in result.bars[0].hits if h.offset in (0, 1)]
    assert (Fraction(0), "hihat_open", 90) in first
    assert all(i != "hihat_closed" for o, i, _ in first if o == 0)
    assert [v for o, i, v in first if (o, i) == (1, "snare")] == [105], "the loudest of three snare strokes"


def test_tom_fill_bars_start_on_the_first_hit() -> None:
    groove = groove_from_pattern(TOM_FILL, bpm=110, bars=4, start_s=0.6)
    result = transcribe(hits_of(groove.events), duration_s=groove.duration_s + 0.6)
    assert (result.tempo_bpm, len(result.bars)) == (110.0, 4)
    assert [h.instrument for h in result.bars[0].hits[:2]] == ["snare", "snare"]


def test_drums_audio_is_accepted_as_extra_evidence() -> None:
    groove = groove_from_pattern(ROCK_BEAT, bpm=120, bars=4)
    sr = 8000
    audio = np.zeros(int((groove.duration_s + 1) * sr), dtype=np.float32)
    for event in groove.events:  # clicks at the strokes
        start = int(event.time * sr)
        audio[start : start + 40] += np.hanning(40).astype(np.float32) * event.velocity / 127
    result = transcribe(hits_of(groove.events), duration_s=groove.duration_s + 1, audio=audio, sr=sr)
    assert result.tempo_bpm == 120.0


def test_the_audio_onset_envelope_is_computed_in_blocks_like_the_whole_song() -> None:
    import librosa

    from app.pipeline.notation.rhythm import onset_envelope

    sr = 8000
    groove = groove_from_pattern(FUNK_SIXTEENTHS, bpm=97, bars=40)  # about 100 s: several blocks
    audio = np.random.default_rng(1).standard_normal(int((groove.duration_s + 1) * sr)).astype(np.float32) * 0.01
    for event in groove.events:
        start = int(event.time * sr)
        audio[start : start + 80] += np.hanning(80).astype(np.float32) * event.velocity / 127
    whole = librosa.onset.onset_strength(y=audio, sr=sr, hop_length=256, n_fft=2048)
    blocks = onset_envelope(audio, sr)
    assert len(blocks) == len(whole)
    assert np.corrcoef(blocks, whole)[0, 1] > 0.99
    assert np.argmax(blocks) == np.argmax(whole)


def test_few_hits_still_give_a_bar() -> None:
    result = transcribe([Hit(1.0, "snare", 100, 0.9)], duration_s=3.0)
    assert len(result.bars) == 1 and result.bars[0].hits[0].offset == 0


@pytest.mark.parametrize(
    ("hits", "duration_s", "kwargs", "message"),
    [
        ([], 10.0, {}, "No drum hits"),
        ([Hit(0.0, "kick", 100, 1.0)], 0.0, {}, "duration"),
        ([Hit(0.0, "kick", 100, 1.0)], 5.0, {"audio": np.zeros(10)}, "sample rate"),
        ([Hit(float("nan"), "kick", 100, 1.0)], 5.0, {}, "finite"),
    ],
)
def test_bad_input_is_a_clear_transcription_error(
    hits: list[Hit], duration_s: float, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TranscriptionError, match=message):
        transcribe(hits, duration_s=duration_s, **kwargs)  # type: ignore[arg-type]
