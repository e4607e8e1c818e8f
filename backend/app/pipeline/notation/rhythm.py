"""Tempo, beat grid, metre and per-beat quantization of drum hits.

This module knows nothing about notation software: it turns performed hit times into bars of hits on
a musical grid (offsets in quarter notes), which `score.py` then engraves.

How it works, in order:

1. Hits closer than a flam are merged into one onset; each onset gets an accent weight (kick and
   snare count most, cymbal ostinatos least) because accents are what define the beat and the bar.
2. Candidate beat periods come from autocorrelations: the beat-range peak of the weighted onsets
   (plus the drums audio's onset envelope when it is given), and whole-number divisions of the
   period at which each drum's own pattern repeats (the bar, or two).
3. For each candidate the beat grid is followed through the song: around each beat the onsets are
   snapped to the nearest straight-16th or triplet position and a local line (beat time, period) is
   fitted, so slow drift is followed while a steady performance yields an exact, even grid.
4. The candidate and grid phase that best explain the hits win: onsets on the grid (straight 16ths
   preferred to triplets), strong strokes on beats rather than between them, and a tempo prior
   that settles double/half-speed ambiguity. The tempo is reported as a clean number when the fit
   is within a hair of one.
5. 3/4 is chosen over 4/4 when beat patterns repeat every three beats rather than every two or four;
   the bar line goes where kick and crash fall on 1 and the snare on the backbeat.
6. Each passage of `PASSAGE_BARS` bars is tested for swing: when its off-beat strokes sit clearly on
   the last third of the beat rather than its middle, the passage is written as straight 8ths with a
   swing marking, not as triplets.
7. Each beat is quantized on the simplest grid that explains its strokes within `TOLERANCE_S` (and at
   most `TOLERANCE_BEATS` of the beat): 8ths, then 16ths, then 8th triplets, then 16th triplets
   (sextuplets), then 32nds (`SIMPLE_SUBDIVISIONS`); in 6/8 and 12/8, 8ths then 16ths of the dotted
   quarter (`COMPOUND_SUBDIVISIONS`). So a tuplet is written only where a straight grid cannot explain
   what was played. A beat no grid explains gets the one of least cost (`_SUBDIVISION_COST`, plus its
   strokes' squared timing errors in tolerances).

Steps 2–5 are this module's own, hand-tuned tracker (4/4 or 3/4). A `BeatTrack` from the learned beat
model (`app.pipeline.beats`, BEAT_TRACKER=learned) replaces them: its beats, bar lines and metre per
bar (4/4, 3/4, 6/8, 12/8) are taken as they are, and only steps 6 and 7 run. A compound metre's
beat is its dotted quarter, divided in three 8ths; a change of metre is a change of time signature.
An edited sheet skips steps 1–5 too: its grid is given (`fixed_grid.FixedGrid`), and may be in 2/2
(cut time), whose counted half-note beats are written as two quarter-note beats each (`metre.py`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from app.core.errors import NoHitsError, TranscriptionError
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.hits import MAX_BPM, MIN_BPM, Hit
from app.pipeline.notation.fixed_grid import FixedGrid
from app.pipeline.notation.metre import (
    beat_quarters,
    counted_beats,
    is_compound,
    written_beat_quarters,
    written_beats,
    written_per_counted,
)

SIMPLE_SUBDIVISIONS: tuple[int, ...] = (2, 4, 3, 6, 8)
"""Grids of a quarter-note beat, simplest first (the notation prior): 8ths, 16ths, 8th triplets,
16th triplets (sextuplets), 32nds."""

COMPOUND_SUBDIVISIONS: tuple[int, ...] = (3, 6)
"""Grids of a dotted-quarter beat (6/8, 12/8), simplest first: 8ths, 16ths."""

TOLERANCE_S = 0.030
TOLERANCE_BEATS = 1 / 24
"""A grid explains a stroke within 30 ms of one of its positions, and never more than 1/24 of the beat:
half the gap between a 16th and an 8th-triplet position, so no stroke is explained by both. At 150 bpm
that is 17 ms, at 100 bpm 25 ms, from 60 bpm down 30 ms."""

_SUBDIVISION_COST = {2: 0.0, 4: 1.0, 3: 3.0, 6: 5.0, 8: 7.0}
"""For a beat no grid explains: the cost of each grid, in strokes one tolerance off (each stroke adds its
squared error in tolerances), so a more complex grid must explain clearly more to be written."""
_COMPOUND_COST = {3: 0.0, 6: 1.0}

PASSAGE_BARS = 8
"""Swing is judged once per passage of this many bars: a feel holds for a section, not a beat."""
_SWING_RATIO = (0.61, 0.73)
"""A passage swings when its off-beat 8ths sit, at the median, this far through the beat (2/3 is the
triplet swing; 0.5 is straight, 0.75 a dotted 8th and 16th)."""
_SWING_SHARE = 0.8
"""...and at least this share of its strokes between beats are such swung 8ths (not 16ths or triplets)."""
_SWING_MIN_PER_BAR = 2.0
"""...and it has at least this many of them per bar: a few strokes are no feel."""

_ACCENT_WEIGHT = {
    "kick": 1.0,
    "snare": 1.0,
    "crash": 0.8,
    "tom_high": 0.6,
    "tom_mid": 0.6,
    "tom_low": 0.6,
    "hihat_open": 0.4,
    "hihat_closed": 0.25,
    "ride": 0.25,
}

_FLAM_S = 0.03
"""Hits closer than this are one onset (flams, and a kick under a crash played a hair apart)."""

_ALLOWED = np.array([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0])
"""Positions within a beat that a hit may sit on while the grid is being fitted."""

_CREDIT = np.array([1.0, 0.8, 0.75, 1.0, 0.75, 0.8, 1.0])
"""How much an onset at each of `_ALLOWED` supports a grid: beats and 8ths fully, 16ths a little
less and triplets less again, so that the simplest reading of the same hits wins."""

_SNAP_TOL_BEATS = 1 / 24
"""Half the gap between a 16th and a triplet position: beyond it a hit is no evidence for the grid."""

_BACKBEAT_WEIGHT = 4.0
"""A grid with a snare backbeat scores up to five times one without: snare on 2 and 4 is the
strongest sign of where the beat is, strong enough to outweigh the tempo prior for ballads."""
_PRIOR_CENTER_BPM, _PRIOR_OCTAVES = 100.0, 0.5
_SNAP_BPM_MIN, _SNAP_BPM_MAX = 0.2, 0.5
"""Bounds on how close to a whole number a fitted tempo must be to be reported as that number."""

_MARKS = frozenset({"kick", "snare", "crash", "tom_high", "tom_mid", "tom_low"})
"""The strokes that mark beats (as opposed to cymbal ostinatos that subdivide them)."""

_DEFAULT_BPM = 120.0
_WINDOW_BEATS, _WINDOW_S = 4, 2.5
"""Half-width of the window used to fit the local beat line: 4 beats, and at least 2.5 s so that
fast tempi still average enough hits."""

_LAG_STEP = 0.001
_MAX_LAG = 6.0
"""Longest autocorrelation lag (s): two bars of 4/4 at 80 bpm, one at 40."""

_BAR_DIVISIONS = (1, 2, 3, 4, 6, 8, 12, 16)
"""Beats per pattern period tried: the pattern may span a half bar, a bar or two, in 4/4 or 3/4."""
_ENVELOPE_HOP, _ENVELOPE_N_FFT = 256, 2048
_ENVELOPE_BLOCK_FRAMES = 4096
"""Frames of the audio's onset envelope computed at a time: about 24 s at 44.1 kHz."""


@dataclass(frozen=True)
class QuantizedHit:
    """One hit placed on the grid of its bar."""

    offset: Fraction
    """Quarter notes from the start of the bar."""
    instrument: str
    velocity: int
    time_s: float
    """The performed time, kept for reference."""
    accent: bool = False
    ghost: bool = False


@dataclass(frozen=True)
class Bar:
    """One measure: where it starts, how each beat is subdivided, and its hits in time order."""

    number: int
    start_s: float
    subdivisions: tuple[int, ...]
    """Per written beat, the grid it is written on: parts of the beat (`SIMPLE_SUBDIVISIONS` of a quarter,
    `COMPOUND_SUBDIVISIONS` of a dotted quarter in 6/8 and 12/8)."""
    hits: tuple[QuantizedHit, ...]
    time_signature: str = "4/4"
    swing: bool = False
    """Written as straight 8ths that are played swung (a swing marking)."""

    @property
    def beats(self) -> int:
        """Written beats in the bar: the counted ones, but the two quarters of each half in 2/2."""
        return written_beats(self.time_signature)

    @property
    def beat_length(self) -> Fraction:
        """Quarter notes in one written beat."""
        return written_beat_quarters(self.time_signature)


@dataclass(frozen=True)
class Transcription:
    """The rhythm of a drum performance: tempo, metre, beat grid and quantized bars."""

    tempo_bpm: float
    time_signature: str
    beat_times: tuple[float, ...]
    """Start of every counted beat of every bar, in seconds (the first may precede 0 s when the drums
    start with a pickup right at the beginning of the audio)."""
    bars: tuple[Bar, ...]

    @property
    def beats_per_bar(self) -> int:
        """Counted beats in a bar of the main time signature (2 in 6/8)."""
        return counted_beats(self.time_signature)

    @property
    def quarter_bpm(self) -> float:
        """The tempo in quarter notes per minute (`tempo_bpm` counts dotted quarters in 6/8 and 12/8)."""
        return float(self.tempo_bpm * beat_quarters(self.time_signature))

    @property
    def downbeat_times(self) -> tuple[float, ...]:
        """Start of every bar, in seconds: the beats numbered 1."""
        return tuple(bar.start_s for bar in self.bars)


def _signature(metre: str, beats: int) -> str:
    """The time signature of a bar of `beats` counted beats in `metre` (a short bar keeps its kind of beat)."""
    if counted_beats(metre) == beats:
        return metre
    return f"{3 * beats}/8" if is_compound(metre) else f"{beats}/4"


def transcribe(
    hits: list[Hit],
    *,
    duration_s: float,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    beats: BeatTrack | None = None,
    grid: FixedGrid | None = None,
) -> Transcription:
    """Estimate tempo, metre and bar lines from `hits` and quantize them into bars.

    `audio` (mono drums, at `sr`) is optional extra evidence for the tempo. `beats`, when given with
    at least two beats, is the beat grid to use instead of finding one (the learned tracker's). With
    `grid` (an edited sheet's), nothing is estimated: the hits are quantized on its beats, bars and
    tempo. Raises TranscriptionError when there is nothing to transcribe or the inputs are inconsistent.
    """
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise TranscriptionError(f"The audio duration must be a positive number of seconds, got {duration_s}.")
    if (audio is None) != (sr is None):
        raise TranscriptionError("Drums audio and its sample rate must be given together.")
    if not hits:
        raise NoHitsError("No drum hits were detected, so there is no drum part to write out.")
    if not all(math.isfinite(h.time) for h in hits):
        raise TranscriptionError("A drum hit has a time that is not a finite number.")

    if grid is not None:
        return _on_fixed_grid(hits, grid)
    times, accents = _onsets(hits)
    if beats is not None and len(beats.times) >= 2:
        tracked, first_bar_beat, signatures = _given_grid(beats, times)
        return _bars(hits, tracked, _tempo(tracked, times), first_bar_beat, signatures, beats.metre)
    found = _beat_grid(hits, times, accents, audio, sr)
    beats_per_bar, found = _metre(hits, found)
    tempo = _tempo(found, times)
    first_bar_beat = _downbeat_index(hits, found, beats_per_bar)
    return _bars(hits, found, tempo, first_bar_beat, [], f"{beats_per_bar}/4")


def _given_grid(track: BeatTrack, times: np.ndarray) -> tuple[np.ndarray, int, list[str]]:
    """A tracked grid as `_bars` takes it: beat times covering every onset, the index of the first bar's
    downbeat (at or before the first onset), and the time signature of each bar the track marks from there.

    The grid is extended at its ends by its first and last period, so onsets before the first tracked
    beat or after the last still have beats, counted on in the metre of the nearest tracked bar. A bar
    runs from one tracked downbeat to the next, in the metre of its first beat; one of another length
    than its metre's (a bar the tracker cut short) is written as the time signature it has.
    """
    beat_times, positions = np.asarray(track.times, dtype=float), np.asarray(track.positions)
    first_bar, last_bar = (counted_beats(track.metres[i]) for i in (0, -1))
    first_period, last_period = beat_times[1] - beat_times[0], beat_times[-1] - beat_times[-2]
    before = max(0, math.ceil((beat_times[0] - times[0]) / first_period) + 1)
    after = max(0, math.ceil((times[-1] - beat_times[-1]) / last_period) + 1)
    grid = np.concatenate(
        [
            beat_times[0] - first_period * np.arange(before, 0, -1),
            beat_times,
            beat_times[-1] + last_period * np.arange(1, after + 1),
        ]
    )
    # Bar positions (from 0) and metres of the grid: the track's own, counted on into the extensions.
    place = np.concatenate(
        [
            (positions[0] - 1 - np.arange(before, 0, -1)) % first_bar,
            positions - 1,
            (positions[-1] - 1 + np.arange(1, after + 1)) % last_bar,
        ]
    )
    metres = [track.metres[0]] * before + list(track.metres) + [track.metres[-1]] * after
    first_beat = math.floor(float(np.interp(times[0], grid, np.arange(len(grid), dtype=float))) + 1 / 12)
    downbeats = np.flatnonzero(place[: first_beat + 1] == 0)
    first_bar_beat = int(downbeats[-1]) if len(downbeats) else first_beat - int(place[first_beat])
    starts = [first_bar_beat, *(int(k) for k in np.flatnonzero(place == 0) if k > first_bar_beat)]
    signatures = [_signature(metres[a], b - a) for a, b in itertools.pairwise(starts)]
    return grid, first_bar_beat, signatures


def _on_fixed_grid(hits: list[Hit], grid: FixedGrid) -> Transcription:
    """The hits quantized on a given grid: bars of grid.time_signature start on the beat nearest
    grid.downbeat_s, every grid.beats_per_bar beats, the first at or before the first hit."""
    times = [h.time for h in hits]
    counted = grid.covering(min(times), max(times))
    phase = int(np.argmin(np.abs(counted - grid.downbeat_s)))
    # In 2/2 each counted half is written as two quarter-note beats: the grid gets its midpoints.
    per = written_per_counted(grid.time_signature)
    beats = np.interp(np.arange((len(counted) - 1) * per + 1) / per, np.arange(len(counted)), counted)
    first_beat = math.floor(float(np.interp(min(times), beats, np.arange(len(beats), dtype=float))) + 1 / 12)
    first_bar_beat = first_beat - ((first_beat - phase * per) % written_beats(grid.time_signature))
    return _bars(hits, beats, grid.tempo_bpm, first_bar_beat, [], grid.time_signature)


# ---------------------------------------------------------------------------------------------------
# Onsets and candidate periods


def _onsets(hits: list[Hit]) -> tuple[np.ndarray, np.ndarray]:
    """Merge hits within a flam into onsets; return onset times and accent weights."""
    ordered = sorted(hits, key=lambda h: h.time)
    times: list[float] = []
    weights: list[float] = []
    group: list[Hit] = []
    for hit in [*ordered, None]:
        if hit is not None and group and hit.time - group[0].time < _FLAM_S:
            group.append(hit)
            continue
        if group:
            w = [_ACCENT_WEIGHT[h.instrument] * h.velocity / 127 for h in group]
            # The loudest stroke of a flam is the one the player aims at the beat.
            times.append(group[int(np.argmax(w))].time)
            weights.append(float(sum(w)))
        group = [hit] if hit is not None else []
    return np.asarray(times), np.asarray(weights)


def _prior(bpm: np.ndarray | float) -> np.ndarray:
    """A log-normal preference for tempi a drummer would count in (centred on 100 bpm)."""
    return np.exp(-0.5 * (np.log2(np.asarray(bpm, dtype=float) / _PRIOR_CENTER_BPM) / _PRIOR_OCTAVES) ** 2)


def _lags() -> np.ndarray:
    return np.arange(0.0, _MAX_LAG + _LAG_STEP / 2, _LAG_STEP)


def _acf(times: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted autocorrelation of an onset train at `_lags()`, smoothed over timing slop."""
    lags = _lags()
    if len(times) < 2:
        return np.zeros_like(lags)
    ends = np.searchsorted(times, times + _MAX_LAG)
    i = np.repeat(np.arange(len(times)), ends - np.arange(len(times)) - 1)
    j = np.concatenate([np.arange(a + 1, e, dtype=int) for a, e in enumerate(ends)])
    hist, _ = np.histogram(
        times[j] - times[i],
        bins=len(lags),
        weights=weights[i] * weights[j],
        range=(lags[0] - _LAG_STEP / 2, lags[-1] + _LAG_STEP / 2),
    )
    half = 48  # a Gaussian of 12 ms: the slop between two intervals a drummer means to be equal
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / 12.0) ** 2)
    return np.convolve(hist, kernel, mode="same")


def onset_envelope(audio: np.ndarray, sr: int) -> np.ndarray:
    """librosa's onset strength of `audio` at _ENVELOPE_HOP, computed block by block.

    The whole-song spectrogram would cost about 1.5 MB per second of audio (1.4 GB for a 15-minute
    song); blocks of _ENVELOPE_BLOCK_FRAMES with an FFT's worth of context either side keep it bounded,
    and every frame is centred where the whole-song frame is.
    """
    import librosa  # imported here: slow to import, and only this optional path needs it

    hop, context = _ENVELOPE_HOP, _ENVELOPE_N_FFT
    block = _ENVELOPE_BLOCK_FRAMES * hop
    audio = np.asarray(audio, dtype=np.float32)
    parts = []
    for start in range(0, max(len(audio), 1), block):
        low = max(0, start - context)
        piece = audio[low : start + block + context]
        env = librosa.onset.onset_strength(y=piece, sr=sr, hop_length=hop, n_fft=_ENVELOPE_N_FFT)
        first = (start - low) // hop
        parts.append(env[first : first + _ENVELOPE_BLOCK_FRAMES])
    return np.concatenate(parts)


def _audio_acf(audio: np.ndarray, sr: int) -> np.ndarray:
    """Autocorrelation of the audio's onset envelope at `_lags()`."""
    import librosa

    hop = _ENVELOPE_HOP
    env = onset_envelope(audio, sr)
    env = env - env.mean()
    acf = librosa.autocorrelate(env, max_size=int(_MAX_LAG * sr / hop) + 2)
    return np.interp(_lags(), np.arange(len(acf)) * hop / sr, np.maximum(acf, 0.0))


def _normalise(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(x))
    return x / peak if peak > 0 else x


def _peak(score: np.ndarray, k: int) -> float:
    """Lag (s) of the peak at index `k`, refined by a parabola through its neighbours."""
    if 0 < k < len(score) - 1:
        a, b, c = score[k - 1], score[k], score[k + 1]
        if a - 2 * b + c < 0:
            return (k + float(np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5))) * _LAG_STEP
    return k * _LAG_STEP


def _candidate_periods(
    hits: list[Hit], times: np.ndarray, accents: np.ndarray, audio: np.ndarray | None, sr: int | None
) -> list[float]:
    """Beat periods (s) worth following, the prior's favourite first."""
    lags = _lags()
    in_range = (lags >= 60.0 / MAX_BPM) & (lags <= 60.0 / MIN_BPM)
    periods: list[float] = []

    onset_acf = _acf(times, accents)
    if audio is not None and sr is not None and len(audio) > sr:
        onset_acf = _normalise(onset_acf) + _normalise(_audio_acf(audio, sr))
    beat_score = np.where(in_range, onset_acf * _prior(60.0 / np.maximum(lags, _LAG_STEP)), 0.0)
    if np.any(beat_score > 0):
        best = _peak(beat_score, int(np.argmax(beat_score)))
        periods += [best, best / 2, best * 2]

    # Each drum's own pattern repeats once per bar (or half bar, or two bars): whole divisions of
    # that period include the beat even when the onset train as a whole suggests a dotted value.
    pattern_acf = np.zeros_like(lags)
    for name in sorted({h.instrument for h in hits}):  # a fixed order: the same sum in every process
        t = np.sort([h.time for h in hits if h.instrument == name])
        pattern_acf += _acf(t, np.full(len(t), _ACCENT_WEIGHT[name]))
    long = lags >= 1.0
    if np.any(pattern_acf[long] > 0):
        threshold = 0.85 * float(np.max(pattern_acf[long]))
        k = int(np.argmax(long & (pattern_acf >= threshold)))
        while k + 1 < len(lags) and pattern_acf[k + 1] > pattern_acf[k]:
            k += 1
        pattern = _peak(pattern_acf, k)
        periods += [pattern / n for n in _BAR_DIVISIONS]

    periods = [p for p in periods if 60.0 / MAX_BPM <= p <= 60.0 / MIN_BPM] or [60.0 / _DEFAULT_BPM]
    periods.sort(key=lambda p: -float(_prior(60.0 / p)))
    unique: list[float] = []
    for p in periods:
        if all(abs(p - q) > 0.02 * q for q in unique):
            unique.append(p)
    return unique


def _anchor(times: np.ndarray, accents: np.ndarray, period: float) -> float:
    """A time to start the beat grid from: the strongest onset among the first bars' worth."""
    early = times <= times[0] + 8 * period
    return float(times[early][int(np.argmax(accents[early]))])


# ---------------------------------------------------------------------------------------------------
# Following the beat


def _snap(u: np.ndarray) -> np.ndarray:
    """Nearest grid position (16ths or triplets) to each beat coordinate `u`."""
    base = np.floor(u)
    frac = u - base
    nearest = _ALLOWED[np.argmin(np.abs(frac[:, None] - _ALLOWED[None, :]), axis=1)]
    return base + nearest


def _fit_line(t: np.ndarray, q: np.ndarray) -> tuple[float, float] | None:
    """Least-squares t ≈ a + b·q; None when the points do not span at least one beat."""
    if len(q) < 3 or np.ptp(q) < 1.0:
        return None
    b, a = np.polyfit(q, t, 1)
    return float(a), float(b)


def _local_period(times: np.ndarray, accents: np.ndarray, period: float, anchor: float) -> float:
    """The beat period near `anchor`, within -20 %/+25 % of the whole song's `period`.

    The song-wide period is an average; a song that speeds up starts slower than it. Following the
    grid needs the local value, or hits a few beats away land on the wrong grid position.
    """
    near = (times >= anchor - 2 * period) & (times <= anchor + 16 * period)
    acf = _acf(times[near], accents[near])
    lags = _lags()
    window = (lags >= 0.8 * period) & (lags <= 1.25 * period)
    if not np.any(acf[window] > 0):
        return period
    return _peak(acf, int(np.argmax(np.where(window, acf, 0.0))))


def _follow_beats(times: np.ndarray, accents: np.ndarray, period: float) -> np.ndarray:
    """Beat times covering every onset (with a beat of margin each side), following the hits."""
    anchor = _anchor(times, accents, period)
    if len(times) < 3:
        start = anchor - period * math.ceil((anchor - times[0]) / period + 1)
        count = math.ceil((times[-1] - start) / period) + 2
        return start + period * np.arange(count)

    def step(beat: float, p: float) -> tuple[float, float]:
        # Two passes: the first corrects most of the coarse period's error, the second snaps with it.
        for _ in range(2):
            half_width = max(_WINDOW_BEATS * p, _WINDOW_S)
            lo, hi = np.searchsorted(times, [beat - half_width, beat + half_width])
            t = times[lo:hi]
            if len(t) == 0:
                break
            u = (t - beat) / p
            q = _snap(u)
            inliers = np.abs(u - q) < _SNAP_TOL_BEATS
            fit = _fit_line(t[inliers], q[inliers])
            if fit is None or abs(fit[0] - beat) > 0.25 * p:
                break
            # The tempo may drift, but a period far from the candidate's is the fit sliding onto
            # another metrical level.
            beat, p = fit[0], float(np.clip(fit[1], 0.8 * period, 1.25 * period))
        return beat, p

    forward: list[float] = []
    beat, p = step(anchor, _local_period(times, accents, period, anchor))
    while beat <= times[-1] + 2 * p:
        forward.append(beat)
        beat, p = step(beat + p, p)
    backward: list[float] = []
    beat, p = forward[0], period
    while beat >= times[0] - 2 * p:
        beat, p = step(beat - p, p)
        backward.append(beat)
    beats = np.asarray(backward[::-1] + forward)
    return _straighten(beats, times)


def _inliers(beats: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid positions (in beats from the first) of the onsets, and which of them sit on the grid."""
    u = np.interp(times, beats, np.arange(len(beats), dtype=float))
    q = _snap(u)
    return q, np.abs(u - q) < _SNAP_TOL_BEATS


def _straighten(beats: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The global straight line through the hits when it explains them as well as the followed beats.

    A steady performance then gets an exactly even grid (and an exact tempo) instead of one that
    wobbles with the local fits' few milliseconds of noise; a drifting one keeps the followed beats.
    """
    q, inliers = _inliers(beats, times)
    fit = _fit_line(times[inliers], q[inliers])
    if fit is None:
        return beats
    line = fit[0] + fit[1] * np.arange(len(beats), dtype=float)
    return line if np.sum(_inliers(line, times)[1]) >= 0.98 * np.sum(inliers) else beats


# ---------------------------------------------------------------------------------------------------
# Choosing the beat


_SHIFTS = (0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75)
"""Phases of a followed grid tried, in beats (the anchor onset need not be on a beat)."""


@dataclass(frozen=True)
class _Evidence:
    """What a candidate beat grid is judged on."""

    times: np.ndarray
    accents: np.ndarray
    mark_times: np.ndarray
    """Kick, snare, crash and tom strokes: the ones that mark beats rather than subdivide them."""
    mark_weights: np.ndarray
    snare_times: np.ndarray
    snare_weights: np.ndarray

    @classmethod
    def of(cls, hits: list[Hit], times: np.ndarray, accents: np.ndarray) -> _Evidence:
        marks = [h for h in hits if h.instrument in _MARKS] or hits
        snares = [h for h in hits if h.instrument == "snare"]
        return cls(
            times,
            accents,
            np.asarray([h.time for h in marks]),
            np.asarray([_ACCENT_WEIGHT[h.instrument] * h.velocity / 127 for h in marks]),
            np.asarray([h.time for h in snares]),
            np.asarray([h.velocity / 127 for h in snares]),
        )


def _beat_grid(
    hits: list[Hit], times: np.ndarray, accents: np.ndarray, audio: np.ndarray | None, sr: int | None
) -> np.ndarray:
    """The beat times that best explain the hits, among every candidate period and phase."""
    evidence = _Evidence.of(hits, times, accents)
    best, best_score = np.empty(0), -1.0
    for period in _candidate_periods(hits, times, accents, audio, sr):
        followed = _follow_beats(times, accents, period)
        for shift in _SHIFTS:
            index = np.arange(shift, len(followed) - 1 + 1e-9)
            grid = np.interp(index, np.arange(len(followed)), followed)
            if len(grid) < 2 or grid[0] > times[0] or grid[-1] < times[-1]:
                continue
            score = _level_score(grid, evidence)
            # Earlier candidates (the prior's favourites, unshifted) keep their place unless clearly
            # beaten: near-ties are timing noise, not evidence.
            if score > 1.02 * best_score:
                best, best_score = grid, score
    # Every followed grid covers the onsets with a beat to spare, so one always qualifies; the
    # fallback only guards against that invariant breaking.
    return best if len(best) else _follow_beats(times, accents, 60.0 / _DEFAULT_BPM)


def _level_score(grid: np.ndarray, evidence: _Evidence) -> float:
    """How plausible `grid` is as the beat:
    prior(tempo) × (fit² × on-beat share × min(1, contrast))² × (1 + _BACKBEAT_WEIGHT × backbeat).

    Fit: accent-weighted credit of onsets on grid positions (`_CREDIT`), so the simplest reading of
    the same hits wins. On-beat share: the part of the kick/snare/crash/tom weight that falls on
    beats, low when the backbeat falls between beats (half speed, or a dotted reading of a shuffle).
    Contrast: mean accent of onsets on beats over that between them; below 1 it exposes a grid
    shifted off the beat. Backbeat (`_backbeat`): snare on alternate beats, which a double-speed
    reading (snare every fourth beat) and a half-speed one (snare on every beat) lack. The prior
    settles the rest. Exponents and weights were tuned on synthetic grooves from 55 to 200 bpm
    (rock, funk, shuffle, waltz, disco, fills, and the training generator's styles).
    """
    index = np.arange(len(grid), dtype=float)
    accents = evidence.accents
    u = np.interp(evidence.times, grid, index)
    frac = u - np.floor(u)
    nearest = np.argmin(np.abs(frac[:, None] - _ALLOWED[None, :]), axis=1)
    on_grid = np.abs(frac - _ALLOWED[nearest]) < _SNAP_TOL_BEATS
    fit = float(np.sum(accents * np.where(on_grid, _CREDIT[nearest], 0.0)) / np.sum(accents))
    on_beat = on_grid & ((nearest == 0) | (nearest == len(_ALLOWED) - 1))
    off_beat = on_grid & ~on_beat
    contrast = 1.0
    if np.any(on_beat) and np.any(off_beat):
        contrast = min(1.0, float(np.mean(accents[on_beat]) / np.mean(accents[off_beat])))
    v = np.interp(evidence.mark_times, grid, index)
    share = float(
        np.sum(evidence.mark_weights * (np.abs(v - np.round(v)) < _SNAP_TOL_BEATS)) / np.sum(evidence.mark_weights)
    )
    bpm = 60.0 / float(np.median(np.diff(grid)))
    return float(_prior(bpm)) * (fit**2 * share * contrast) ** 2 * (1.0 + _BACKBEAT_WEIGHT * _backbeat(grid, evidence))


def _backbeat(grid: np.ndarray, evidence: _Evidence) -> float:
    """The part of the snare's weight that plays a backbeat on `grid`: on a beat, with a snare as
    strong two beats away, and not as strong on both beats either side.

    Snare on every beat is not a backbeat: that is how a double-time groove looks at half speed.
    """
    if not len(evidence.snare_times):
        return 0.0
    u = np.interp(evidence.snare_times, grid, np.arange(len(grid), dtype=float))
    on = np.abs(u - np.round(u)) < _SNAP_TOL_BEATS
    loudest: dict[int, float] = {}
    total: dict[int, float] = {}
    for beat, weight in zip(np.round(u[on]).astype(int).tolist(), evidence.snare_weights[on].tolist(), strict=True):
        loudest[beat] = max(loudest.get(beat, 0.0), weight)
        total[beat] = total.get(beat, 0.0) + weight
    backbeat = 0.0
    for beat, weight in loudest.items():
        strong = 0.5 * weight
        paired = max(loudest.get(beat - 2, 0.0), loudest.get(beat + 2, 0.0)) >= strong
        crowded = min(loudest.get(beat - 1, 0.0), loudest.get(beat + 1, 0.0)) >= strong
        if paired and not crowded:
            backbeat += total[beat]
    return backbeat / float(np.sum(evidence.snare_weights))


def _tempo(beats: np.ndarray, times: np.ndarray) -> float:
    """Beats per minute from the hits' straight-line fit, as a whole number when that is within
    the fit's own uncertainty (three standard errors, at least 0.2 and at most 0.5 bpm)."""
    q, inliers = _inliers(beats, times)
    q, t = q[inliers], times[inliers]
    if len(q) < 4 or np.ptp(q) < 1.0:
        return round(60.0 / float(np.median(np.diff(beats))), 1)
    slope, intercept = np.polyfit(q, t, 1)
    residual = t - (intercept + slope * q)
    slope_se = math.sqrt(float(np.sum(residual**2)) / (len(q) - 2) / float(np.sum((q - q.mean()) ** 2)))
    bpm = 60.0 / slope
    tolerance = min(_SNAP_BPM_MAX, max(_SNAP_BPM_MIN, 3 * bpm * slope_se / slope))
    return float(round(bpm)) if abs(bpm - round(bpm)) <= tolerance else round(bpm, 1)


def _beat_features(hits: list[Hit], beats: np.ndarray) -> np.ndarray:
    """Per beat: a vector of velocity per (instrument, twelfth of the beat)."""
    names = list(_ACCENT_WEIGHT)
    features = np.zeros((len(beats), len(names) * 12))
    index = np.arange(len(beats), dtype=float)
    for hit in hits:
        u = float(np.interp(hit.time, beats, index)) + 1 / 24
        k = math.floor(u)
        if 0 <= k < len(beats):
            twelfth = min(11, int((u - k) * 12))
            features[k, names.index(hit.instrument) * 12 + twelfth] += hit.velocity
    return features


def _similarity_at_lag(features: np.ndarray, lag: int) -> float:
    """Mean cosine similarity of each beat's pattern with the pattern `lag` beats later."""
    a, b = features[:-lag], features[lag:]
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    both = (na > 0) & (nb > 0)
    if not np.any(both):
        return 0.0
    return float(np.mean(np.sum(a[both] * b[both], axis=1) / (na[both] * nb[both])))


def _metre(hits: list[Hit], beats: np.ndarray) -> tuple[int, np.ndarray]:
    """Beats per bar (3 or 4) and the beat grid, halved when a 3/4 bar was counted in eighths.

    3/4 wins when beat patterns clearly repeat every three beats rather than every two or four; a
    pattern repeating every six beats but not three or four is 3/4 counted at double speed.
    """
    if len(beats) < 13:  # under four bars of 3/4: too little evidence to leave the 4/4 default
        return 4, beats
    features = _beat_features(hits, beats)
    sim = {lag: _similarity_at_lag(features, lag) for lag in (2, 3, 4, 6)}
    if sim[3] > max(sim[2], sim[4]) + 0.1:
        return 3, beats
    if len(beats) >= 26 and sim[6] > max(sim[3], sim[4]) + 0.1:
        halves = [beats[0::2], beats[1::2]]
        marks = [h for h in hits if h.instrument in _MARKS] or hits
        on_beat = [
            sum(
                h.velocity
                for h in marks
                if abs((u := float(np.interp(h.time, g, np.arange(len(g))))) - round(u)) < _SNAP_TOL_BEATS
            )
            for g in halves
        ]
        return 3, halves[int(np.argmax(on_beat))]
    return 4, beats


def _downbeat_index(hits: list[Hit], beats: np.ndarray, beats_per_bar: int) -> int:
    """Index into `beats` of the first bar's downbeat (at or before the first hit).

    Evidence for a bar phase: kick and crash on 1, kick on 3 (4/4), and a backbeat (snare on both 2
    and 4 of a bar). Without any, the bar starts on the first hit's beat.
    """
    index = np.arange(len(beats), dtype=float)
    strokes: dict[str, dict[int, float]] = {"kick": {}, "crash": {}, "snare": {}}
    for hit in hits:
        u = float(np.interp(hit.time, beats, index))
        if hit.instrument in strokes and abs(u - round(u)) < _SNAP_TOL_BEATS:
            on = strokes[hit.instrument]
            on[round(u)] = max(on.get(round(u), 0.0), hit.velocity / 127)
    scores = np.zeros(beats_per_bar)
    for phase in range(beats_per_bar):
        for k, v in strokes["kick"].items():
            position = (k - phase) % beats_per_bar
            scores[phase] += v if position == 0 else 0.5 * v if (position == 2 and beats_per_bar == 4) else 0.0
        for k, v in strokes["crash"].items():
            scores[phase] += 1.5 * v if (k - phase) % beats_per_bar == 0 else 0.0
        if beats_per_bar == 4:
            scores[phase] += sum(1.0 for k in strokes["snare"] if (k - phase) % 4 == 1 and k + 2 in strokes["snare"])
    first_beat = math.floor(float(np.interp(min(h.time for h in hits), beats, index)) + 1 / 12)
    # Ties (no evidence at all) go to the phase that starts the first bar on the first hit's beat.
    scores[first_beat % beats_per_bar] += 1e-6
    phase = int(np.argmax(scores))
    return first_beat - ((first_beat - phase) % beats_per_bar)


# ---------------------------------------------------------------------------------------------------
# Quantization into bars


def _extend(beats: np.ndarray, first: int, last: int) -> tuple[np.ndarray, int]:
    """`beats` extended so indices `first`..`last` exist; returns the array and the shift applied."""
    period_start = beats[1] - beats[0]
    period_end = beats[-1] - beats[-2]
    before = max(0, -first)
    after = max(0, last - (len(beats) - 1))
    head = beats[0] - period_start * np.arange(before, 0, -1)
    tail = beats[-1] + period_end * np.arange(1, after + 1)
    return np.concatenate([head, beats, tail]), before


def _tolerance(beat_s: float) -> float:
    """The timing tolerance in beats, for a beat lasting `beat_s` seconds."""
    return min(TOLERANCE_S / max(beat_s, 1e-6), TOLERANCE_BEATS)


def _best_subdivision(fracs: list[float], beat_s: float, compound: bool) -> int:
    """The simplest grid that puts every stroke (`fracs`, positions in the beat) within the tolerance of
    one of its positions; when none does, the grid of least cost (its `_SUBDIVISION_COST` plus each
    stroke's squared timing error, in tolerances)."""
    choices, costs = (COMPOUND_SUBDIVISIONS, _COMPOUND_COST) if compound else (SIMPLE_SUBDIVISIONS, _SUBDIVISION_COST)
    if not fracs:
        return choices[0]
    tolerance = _tolerance(beat_s)
    f = np.asarray(fracs)
    errors = {n: np.abs(f - np.round(f * n) / n) / tolerance for n in choices}
    explained = [n for n in choices if float(np.max(errors[n])) <= 1.0]
    if explained:
        return explained[0]
    return min(choices, key=lambda n: costs[n] + float(np.sum(errors[n] ** 2)))


def _swing_ratio(fracs: list[float], bars: int) -> float | None:
    """Where a passage's off-beat 8ths fall in the beat, when they swing; None when it is straight.

    `fracs` are the positions in their beat of the passage's strokes. The passage swings when most
    strokes between beats sit near the beat's last third: a shuffle's "and" played late, which a reader
    expects as straight 8ths under a swing marking. Triplets with their middle stroke, 16ths and dotted
    rhythms do not swing, and stay as they were played.
    """
    between = np.asarray([f for f in fracs if 1 / 6 < f < 5 / 6])
    late = between[(between > 0.55) & (between < 0.8)]
    if len(late) < _SWING_MIN_PER_BAR * bars or len(late) < _SWING_SHARE * len(between):
        return None
    ratio = float(np.median(late))
    return ratio if _SWING_RATIO[0] <= ratio <= _SWING_RATIO[1] else None


def _unswing(fracs: list[float], ratio: float, tolerance: float) -> list[float] | None:
    """A swung beat's positions as straight 8ths (the swung "and" at `ratio` onto 1/2), or None when
    the beat holds a stroke that is not on the beat or its swung "and" (a fill, written as played)."""
    if any(min(abs(f), abs(f - ratio), abs(f - 1)) > tolerance for f in fracs):
        return None
    return [f * 0.5 / ratio if f <= ratio else 0.5 + (f - ratio) * 0.5 / (1 - ratio) for f in fracs]


def _bars(
    hits: list[Hit], beats: np.ndarray, tempo: float, first_bar_beat: int, signatures: list[str], last: str
) -> Transcription:
    """Quantize every hit onto its beat's grid and cut the beats into bars.

    `beats` are written beats (`metre.written_beats`: quarters in 2/2). Bars start at beat `first_bar_beat`
    of `beats` and take `signatures` in turn, then `last` for as many bars as the hits need.
    """
    index = np.arange(len(beats), dtype=float)
    last_beat = math.floor(float(np.interp(max(h.time for h in hits), beats, index)) + 1 / 12) - first_bar_beat
    # Bars up to the last hit's, and one more for a last hit that rounds onto the next downbeat.
    layout: list[str] = []
    bar_starts: list[int] = []
    total_beats = 0
    while not bar_starts or bar_starts[-1] <= last_beat:
        signature = signatures[len(layout)] if len(layout) < len(signatures) else last
        layout.append(signature)
        bar_starts.append(total_beats)
        total_beats += written_beats(signature)
    grid, shift = _extend(beats, first_bar_beat, first_bar_beat + total_beats)
    grid = grid[first_bar_beat + shift : first_bar_beat + shift + total_beats + 1]
    beat_index = np.arange(len(grid), dtype=float)
    bar_of_beat = np.repeat(np.arange(len(layout)), [written_beats(s) for s in layout])

    # Each hit belongs to the beat it is nearest the start of (a hit a hair early belongs to the beat).
    by_beat: dict[int, list[tuple[float, Hit]]] = {}
    for hit in sorted(hits, key=lambda h: h.time):
        u = float(np.interp(hit.time, grid, beat_index))
        k = math.floor(u + 1 / 12)
        by_beat.setdefault(k, []).append((u - k, hit))

    swing = _swing_by_bar(by_beat, layout, bar_starts)
    placed: dict[tuple[int, Fraction, str], QuantizedHit] = {}
    subdivisions: list[int] = []
    carried: list[Hit] = []
    for k in range(total_beats):
        bar = int(bar_of_beat[k])
        signature = layout[bar]
        entries = by_beat.get(k, [])
        fracs = [f for f, _ in entries]
        beat_s = float(grid[k + 1] - grid[k])
        ratio = swing[bar]
        straight = _unswing(fracs, ratio, _tolerance(beat_s)) if ratio is not None else None
        if straight is not None:
            fracs = straight
        n = _best_subdivision(fracs, beat_s, is_compound(signature))
        subdivisions.append(n)
        on_grid = [(0, h) for h in carried]
        carried = []
        for frac, (_, hit) in zip(fracs, entries, strict=True):
            tick = max(0, round(frac * n))
            if tick >= n:  # rounds onto the next beat's downbeat
                carried.append(hit)
            else:
                on_grid.append((tick, hit))
        length = written_beat_quarters(signature)
        for tick, hit in on_grid:
            _place(placed, bar, ((k - bar_starts[bar]) + Fraction(tick, n)) * length, hit)

    bar_count = max(bar for bar, _, _ in placed) + 1
    bars = []
    for b in range(bar_count):
        mine = sorted((q for (bar, _, _), q in placed.items() if bar == b), key=lambda q: (q.offset, q.instrument))
        first, end = bar_starts[b], bar_starts[b] + written_beats(layout[b])
        bars.append(
            Bar(
                number=b + 1,
                start_s=float(grid[first]),
                subdivisions=tuple(subdivisions[first:end]),
                hits=tuple(mine),
                time_signature=layout[b],
                swing=swing[b] is not None,
            )
        )
    written = [bar.time_signature for bar in bars]
    counted = [
        float(grid[bar_starts[b] + i * written_per_counted(layout[b])])
        for b in range(bar_count)
        for i in range(counted_beats(layout[b]))
    ]
    return Transcription(
        tempo_bpm=tempo,
        time_signature=max(written, key=written.count),
        beat_times=tuple(counted),
        bars=tuple(bars),
    )


def _swing_by_bar(
    by_beat: dict[int, list[tuple[float, Hit]]], layout: list[str], bar_starts: list[int]
) -> list[float | None]:
    """Per bar, the swing ratio of its passage (`PASSAGE_BARS` bars), or None where it is straight.
    Compound metres already divide the beat in three, so they never swing."""
    swing: list[float | None] = [None] * len(layout)
    for first in range(0, len(layout), PASSAGE_BARS):
        passage = [b for b in range(first, min(first + PASSAGE_BARS, len(layout))) if not is_compound(layout[b])]
        fracs = [
            f
            for b in passage
            for k in range(bar_starts[b], bar_starts[b] + written_beats(layout[b]))
            for f, _ in by_beat.get(k, [])
        ]
        # Bars without strokes (the bar added after the last hit, breaks) are no evidence either way.
        played = [
            b
            for b in passage
            if any(by_beat.get(k) for k in range(bar_starts[b], bar_starts[b] + written_beats(layout[b])))
        ]
        ratio = _swing_ratio(fracs, len(played)) if played else None
        for b in passage:
            swing[b] = ratio
    return swing


def _place(placed: dict[tuple[int, Fraction, str], QuantizedHit], bar: int, offset: Fraction, hit: Hit) -> None:
    """Put `hit` on the grid, one stroke per instrument and grid point (the loudest)."""
    instrument = hit.instrument
    # An open and a closed hi-hat cannot sound at once: the open one is what was heard.
    if instrument == "hihat_closed" and (bar, offset, "hihat_open") in placed:
        return
    if instrument == "hihat_open":
        placed.pop((bar, offset, "hihat_closed"), None)
    key = (bar, offset, instrument)
    if key not in placed or placed[key].velocity < hit.velocity:
        placed[key] = QuantizedHit(offset, instrument, hit.velocity, hit.time, accent=hit.accent, ghost=hit.ghost)
