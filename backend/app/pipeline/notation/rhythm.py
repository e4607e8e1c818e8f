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
6. Each beat is quantized to 16ths, 8th-note triplets or 16th triplets, whichever fits its hits best
   with a small bias toward straight 16ths.

Steps 2–5 are this module's own, hand-tuned tracker. A `BeatTrack` from the learned beat model
(`app.pipeline.beats`, BEAT_TRACKER=learned) replaces them: its beats, metre and first downbeat are
taken as they are, and only the quantization (step 6) runs. An edited sheet skips steps 1–5 too: its
grid is given (`fixed_grid.FixedGrid`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from app.core.errors import NoHitsError, TranscriptionError
from app.pipeline.beats.decode import BeatTrack
from app.pipeline.beats.recipe import METRES
from app.pipeline.hits import MAX_BPM, MIN_BPM, Hit
from app.pipeline.notation.fixed_grid import FixedGrid

SUBDIVISIONS: tuple[int, ...] = (4, 3, 6)
"""Grid choices per beat: straight 16ths, 8th-note triplets, 16th-note triplets."""

_GRID_PENALTY = {4: 0.0, 3: 0.012, 6: 0.03}
# Mean absolute error (in beats) a triplet grid must save before it wins: a straight 16th reading is
# the default a drummer expects; a real triplet saves 1/12 of a beat per hit, far more than this.

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
    """Per beat: 4 (16ths), 3 (8th triplets) or 6 (16th triplets)."""
    hits: tuple[QuantizedHit, ...]


@dataclass(frozen=True)
class Transcription:
    """The rhythm of a drum performance: tempo, metre, beat grid and quantized bars."""

    tempo_bpm: float
    time_signature: str
    beat_times: tuple[float, ...]
    """Start of every beat of every bar, in seconds (the first may precede 0 s when the drums
    start with a pickup right at the beginning of the audio)."""
    bars: tuple[Bar, ...]

    @property
    def beats_per_bar(self) -> int:
        """The numerator of the time signature."""
        return int(self.time_signature.split("/")[0])

    @property
    def downbeat_times(self) -> tuple[float, ...]:
        """Start of every bar, in seconds: the beats numbered 1."""
        return tuple(bar.start_s for bar in self.bars)


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
        tracked, beats_per_bar, first_bar_beat = _given_grid(beats, times)
        return _bars(hits, tracked, _tempo(tracked, times), beats_per_bar, first_bar_beat)
    found = _beat_grid(hits, times, accents, audio, sr)
    beats_per_bar, found = _metre(hits, found)
    tempo = _tempo(found, times)
    first_bar_beat = _downbeat_index(hits, found, beats_per_bar)
    return _bars(hits, found, tempo, beats_per_bar, first_bar_beat)


def _given_grid(track: BeatTrack, times: np.ndarray) -> tuple[np.ndarray, int, int]:
    """A tracked grid as `_bars` takes it: beat times covering every onset, beats per bar, and the index
    of the first bar's downbeat (at or before the first onset).

    The grid is extended at its ends by its first and last period, so onsets before the first tracked
    beat or after the last still have beats. Bars are counted in the song's main metre from the
    downbeat before the first onset. Compound metres are written in their simple equivalents (6/8 as
    2/4, 12/8 as 4/4, their eighths as triplets) until the notation writes compound metres.
    """
    beats_per_bar = next(m.beats for m in METRES if m.name == track.metre)
    beat_times, positions = np.asarray(track.times, dtype=float), np.asarray(track.positions)
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
    # Bar positions (from 0) of the grid: the track's own, counted on into the extensions.
    place = np.concatenate(
        [
            (positions[0] - 1 - np.arange(before, 0, -1)) % beats_per_bar,
            positions - 1,
            (positions[-1] - 1 + np.arange(1, after + 1)) % beats_per_bar,
        ]
    )
    first_beat = math.floor(float(np.interp(times[0], grid, np.arange(len(grid), dtype=float))) + 1 / 12)
    downbeats = np.flatnonzero(place[: first_beat + 1] == 0)
    first_bar_beat = int(downbeats[-1]) if len(downbeats) else first_beat - int(place[first_beat])
    return grid, beats_per_bar, first_bar_beat


def _on_fixed_grid(hits: list[Hit], grid: FixedGrid) -> Transcription:
    """The hits quantized on a given grid: bars start on the beat nearest grid.downbeat_s, every
    beats_per_bar beats, the first at or before the first hit."""
    times = [h.time for h in hits]
    beats = grid.covering(min(times), max(times))
    phase = int(np.argmin(np.abs(beats - grid.downbeat_s)))
    first_beat = math.floor(float(np.interp(min(times), beats, np.arange(len(beats), dtype=float))) + 1 / 12)
    first_bar_beat = first_beat - ((first_beat - phase) % grid.beats_per_bar)
    return _bars(hits, beats, grid.tempo_bpm, grid.beats_per_bar, first_bar_beat)


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
    for name in {h.instrument for h in hits}:
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


def _best_subdivision(fracs: list[float]) -> int:
    """The grid (4, 3 or 6 per beat) with the smallest mean error plus its simplicity penalty."""
    if not fracs:
        return 4
    costs = {n: float(np.mean([abs(f - round(f * n) / n) for f in fracs])) + _GRID_PENALTY[n] for n in SUBDIVISIONS}
    return min(SUBDIVISIONS, key=lambda n: (costs[n], SUBDIVISIONS.index(n)))


def _bars(hits: list[Hit], beats: np.ndarray, tempo: float, beats_per_bar: int, first_bar_beat: int) -> Transcription:
    """Quantize every hit onto its beat's grid and cut the beats into bars."""
    index = np.arange(len(beats), dtype=float)
    last_beat = math.floor(float(np.interp(max(h.time for h in hits), beats, index)) + 1 / 12)
    # One bar more than the last hit needs, for a last hit that rounds onto the next downbeat.
    total_beats = ((last_beat - first_bar_beat) // beats_per_bar + 2) * beats_per_bar
    grid, shift = _extend(beats, first_bar_beat, first_bar_beat + total_beats)
    grid = grid[first_bar_beat + shift : first_bar_beat + shift + total_beats + 1]
    beat_index = np.arange(len(grid), dtype=float)

    # Each hit belongs to the beat it is nearest the start of (a hit a hair early belongs to the beat).
    by_beat: dict[int, list[tuple[float, Hit]]] = {}
    for hit in sorted(hits, key=lambda h: h.time):
        u = float(np.interp(hit.time, grid, beat_index))
        k = math.floor(u + 1 / 12)
        by_beat.setdefault(k, []).append((u - k, hit))

    placed: dict[tuple[int, Fraction, str], QuantizedHit] = {}
    subdivisions: list[int] = []
    carried: list[Hit] = []
    for k in range(total_beats):
        entries = by_beat.get(k, [])
        n = _best_subdivision([f for f, _ in entries])
        subdivisions.append(n)
        on_grid = [(0, h) for h in carried]
        carried = []
        for frac, hit in entries:
            tick = max(0, round(frac * n))
            if tick >= n:  # rounds onto the next beat's downbeat
                carried.append(hit)
            else:
                on_grid.append((tick, hit))
        bar, beat_in_bar = divmod(k, beats_per_bar)
        for tick, hit in on_grid:
            _place(placed, bar, beat_in_bar + Fraction(tick, n), hit)

    bar_count = max(bar for bar, _, _ in placed) + 1
    bars = []
    for b in range(bar_count):
        mine = sorted((q for (bar, _, _), q in placed.items() if bar == b), key=lambda q: (q.offset, q.instrument))
        bars.append(
            Bar(
                number=b + 1,
                start_s=float(grid[b * beats_per_bar]),
                subdivisions=tuple(subdivisions[b * beats_per_bar : (b + 1) * beats_per_bar]),
                hits=tuple(mine),
            )
        )
    return Transcription(
        tempo_bpm=tempo,
        time_signature=f"{beats_per_bar}/4",
        beat_times=tuple(float(t) for t in grid[: bar_count * beats_per_bar]),
        bars=tuple(bars),
    )


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
