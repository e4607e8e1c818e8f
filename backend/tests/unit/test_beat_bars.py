"""Counting the bars of decoded beats again with the drum hits (`app.pipeline.beats.bars`), and fitting
its weights (`app.training.beats.bar_weights`), on constructed beats, activations and strokes."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluation.beats import BeatAnnotation
from app.pipeline.beats.bars import EVIDENCE, beat_evidence, phase_scores, recount_bars
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.beats.recipe import FPS
from app.pipeline.hits import Hit
from app.training.beats.bar_weights import BarExample, fit_bar_weights, true_phase

BEAT_S = 0.5
START_S = 0.5
LEAD = 1
"""The drums come in on the second tracked beat, so the right answer is never the first phase (an
argmax over equal scores)."""


def beat_times(count: int) -> np.ndarray:
    return START_S + np.arange(count) * BEAT_S


def unsure_network(times: np.ndarray, downbeat_every: int = 0, phase: int = 0) -> np.ndarray:
    """(frames, 3) activations with a beat at every time: as sure of "downbeat" as of "beat" everywhere,
    or, with `downbeat_every`, clearly a downbeat on beats phase, phase + downbeat_every, ..."""
    frames = int((times[-1] + 1.0) * FPS)
    p = np.zeros((frames, 3))
    p[:, 0] = 1.0
    for i, t in enumerate(times):
        k = round(t * FPS)
        down = downbeat_every and (i - phase) % downbeat_every == 0
        p[k] = [0.1, 0.1, 0.8] if down else ([0.1, 0.8, 0.1] if downbeat_every else [0.1, 0.45, 0.45])
    return p


def track(times: np.ndarray, metre: str, beats_per_bar: int, first_position: int) -> BeatTrack:
    """A decoded track in `metre` whose first beat is counted `first_position`."""
    positions = (np.arange(len(times)) + first_position - 1) % beats_per_bar + 1
    return BeatTrack(times, positions.astype(np.int64), (metre,) * len(times))


def rock(bars: int) -> list[Hit]:
    """4/4 rock from beat 0: 8th-note hi-hat, kick on 1 and 3, snare on 2 and 4, a crash on the first 1
    and a snare fill over the last beat of every fourth bar."""
    hits: list[Hit] = []
    for bar in range(bars):
        t0 = START_S + (LEAD + bar * 4) * BEAT_S
        filled = bar % 4 == 3
        for eighth in range(8):
            if not (filled and eighth >= 6):
                hits.append(Hit(t0 + eighth * BEAT_S / 2, "hihat_closed", 70, 1.0))
        hits += [Hit(t0, "kick", 110, 1.0), Hit(t0 + 2 * BEAT_S, "kick", 105, 1.0)]
        hits += [Hit(t0 + BEAT_S, "snare", 110, 1.0)]
        if filled:
            hits += [Hit(t0 + 3 * BEAT_S + k * BEAT_S / 4, "tom_mid", 100, 1.0) for k in range(4)]
        else:
            hits.append(Hit(t0 + 3 * BEAT_S, "snare", 110, 1.0))
    hits.append(Hit(START_S + LEAD * BEAT_S, "crash", 115, 1.0))
    hits.append(Hit(START_S + (LEAD + 16) * BEAT_S, "crash", 115, 1.0))
    return sorted(hits, key=lambda h: h.time)


def waltz(bars: int) -> list[Hit]:
    """3/4: kick on 1, snare on 2 and 3, hi-hat 8ths."""
    hits = []
    for bar in range(bars):
        t0 = START_S + (LEAD + bar * 3) * BEAT_S
        hits += [Hit(t0 + e * BEAT_S / 2, "hihat_closed", 70, 1.0) for e in range(6)]
        hits += [Hit(t0, "kick", 110, 1.0), Hit(t0 + BEAT_S, "snare", 95, 1.0), Hit(t0 + 2 * BEAT_S, "snare", 95, 1.0)]
    return hits


def six_eight(bars: int) -> list[Hit]:
    """6/8 counted in two dotted quarters: hi-hat on every 8th, kick on 1, snare on 2."""
    hits = []
    for bar in range(bars):
        t0 = START_S + (LEAD + bar * 2) * BEAT_S
        hits += [Hit(t0 + e * BEAT_S / 3, "hihat_closed", 70, 1.0) for e in range(6)]
        hits += [Hit(t0, "kick", 110, 1.0), Hit(t0 + BEAT_S, "snare", 110, 1.0)]
    return hits


@pytest.mark.parametrize("first_position", [1, 2, 3], ids=["one beat off", "half a bar off", "three beats off"])
def test_a_rock_bar_starts_on_the_kick_and_crash_whatever_the_decoder_counted(first_position: int) -> None:
    times = beat_times(32)
    recounted = recount_bars(track(times, "4/4", 4, first_position), unsure_network(times), rock(8))
    assert recounted.positions.tolist() == [(i - LEAD) % 4 + 1 for i in range(32)]
    assert recounted.times is not None and np.array_equal(recounted.times, times)
    assert recounted.metres == ("4/4",) * 32


def test_a_waltz_bar_starts_on_its_kick() -> None:
    times = beat_times(24)
    recounted = recount_bars(track(times, "3/4", 3, 1), unsure_network(times), waltz(7))
    assert recounted.positions.tolist() == [(i - LEAD) % 3 + 1 for i in range(24)]


def test_a_six_eight_bar_starts_on_its_kick() -> None:
    times = beat_times(16)
    recounted = recount_bars(track(times, "6/8", 2, 1), unsure_network(times), six_eight(7))
    assert recounted.positions.tolist() == [(i - LEAD) % 2 + 1 for i in range(16)]


def test_a_sure_network_keeps_its_bar_lines_where_the_drums_say_nothing() -> None:
    times = beat_times(32)
    ride = [Hit(t, "ride", 80, 1.0) for t in START_S + np.arange(64) * BEAT_S / 2]
    decoded = track(times, "4/4", 4, 4)  # beat 1 is the second beat
    recounted = recount_bars(decoded, unsure_network(times, downbeat_every=4, phase=1), ride)
    assert recounted.positions.tolist() == decoded.positions.tolist()


def test_tracks_without_hits_or_with_a_change_of_metre_are_left_as_decoded() -> None:
    times = beat_times(32)
    decoded = track(times, "4/4", 4, 3)
    assert recount_bars(decoded, unsure_network(times), []) is decoded
    mixed = BeatTrack(times, decoded.positions, ("4/4",) * 16 + ("3/4",) * 16)
    assert recount_bars(mixed, unsure_network(times), rock(8)) is mixed


def test_the_evidence_marks_kick_crash_snare_and_the_beat_after_a_fill() -> None:
    times = beat_times(32)
    evidence = beat_evidence(times, unsure_network(times), rock(8), 4)
    assert evidence.shape == (32, len(EVIDENCE))
    column = {name: evidence[:, EVIDENCE.index(name)] for name in EVIDENCE}
    assert np.allclose(column["network"], 0.0)
    assert np.flatnonzero(column["kick"]).tolist() == [i for i in range(32) if i % 2 == LEAD % 2]
    assert np.flatnonzero(column["crash"]).tolist() == [LEAD, LEAD + 16]
    assert column["snare"][LEAD + 1] == pytest.approx(110 / 127)
    assert column["snare"][LEAD + 15] == 0.0, "the fill's first stroke is a tom"
    assert int(np.argmax(column["change_before"])) == LEAD + 16, "the beat after the fill of bar 4"
    assert column["change_before"][LEAD + 16] > 0.5
    assert column["change_before"][LEAD + 10] == pytest.approx(0.0, abs=1e-9), "a groove beat like those a bar away"


def test_phase_scores_add_the_evidence_of_the_beats_each_phase_counts_one() -> None:
    evidence = np.zeros((8, len(EVIDENCE)))
    evidence[[1, 5], EVIDENCE.index("kick")] = 1.0
    weights = np.eye(len(EVIDENCE))[EVIDENCE.index("kick")]
    assert phase_scores(evidence, 4, weights).tolist() == [0.0, 2.0, 0.0, 0.0]


def test_true_phase_reads_the_annotation_and_refuses_a_wrong_tempo() -> None:
    times = beat_times(16)
    annotation = BeatAnnotation(times, np.arange(16) % 4 + 1)
    assert true_phase(track(times[2:], "4/4", 4, 1), annotation) == 2
    halved = track(times[::2], "4/4", 4, 1)  # half the tempo: every other beat is not a beat of the song
    assert true_phase(halved, BeatAnnotation(times, np.arange(16) % 4 + 1)) is None


def test_fitting_finds_the_evidence_that_tells_the_phase() -> None:
    rng = np.random.default_rng(0)
    examples = []
    for song in range(40):
        phase = song % 4
        evidence = rng.normal(0.0, 1.0, (32, len(EVIDENCE)))
        evidence[:, EVIDENCE.index("kick")] = 0.0
        evidence[phase::4, EVIDENCE.index("kick")] = 1.0
        examples.append(BarExample(evidence, 4, phase))
    weights, right = fit_bar_weights(examples)
    assert right == 1.0
    assert weights["kick"] > 1.0
    assert all(abs(w) < weights["kick"] / 2 for name, w in weights.items() if name != "kick")
