"""Tempo, beat phase, bar position and metre from beat activations, decoded jointly.

The model is the bar-pointer model of the beat-tracking literature, in its semi-Markov form. The
hidden state is (metre, beat of the bar, beat period in frames). A beat of period I lasts exactly I
frames; on its first frame the network should say "beat" (within PEAK_TOLERANCE frames), or
"downbeat" on the first beat of a bar, and "none" over the rest. The period changes only from
one beat to the next, by at most MAX_TEMPO_STEPS steps of TEMPO_STEP, with a probability that falls
exponentially with the tempo ratio beyond FREE_TEMPO_CHANGE (TRANSITION_LAMBDA). The metre changes
only at a bar line, and only to a metre with the same kind of beat (4/4 ↔ 3/4, 6/8 ↔ 12/8). The
compound output adds, per frame, COMPOUND_WEIGHT × log p(the beat divides as this metre's does), and
a tempo output (where the model has one) TEMPO_WEIGHT × log p(the counted tempo is this beat's).

Why not madmom-infer's decoder (the candidate library): its Viterbi visits every (position, period)
state at every frame and keeps a frames × states table of back-pointers. For a 3-minute song with
its default downbeat model (3/4 and 4/4, 55–215 bpm) that took 36 s and 3.1 GB at 100 fps and still
6.5 s and 0.66 GB at 50 fps on our 2 cores, against a budget of about 0.5 s; it also chooses one
metre per song and has no compound metres. Within a beat the bar pointer only moves on, a frame at a
time, so every choice is made where a beat starts. Scoring whole beats from cumulative sums of the
observation log-likelihoods therefore needs work and back-pointers only per (frame, metre, beat,
period); and as no beat is shorter than the shortest period, that many frames are decoded in one
vectorised step. It is the same Viterbi path over the same kind of model, exact, not beam-pruned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.pipeline.beats.recipe import COMPOUND_BPM, FPS, METRES, SIMPLE_BPM, TEMPO_BINS, Metre, tempo_bin

TEMPO_STEP = 0.025
"""Relative spacing of the beat periods modelled (fewer at fast tempi, where one frame is more)."""
MAX_TEMPO_STEPS = 2
"""A beat's period may differ from the previous beat's by this many steps (about ±5 %)."""
TRANSITION_LAMBDA = 100.0
FREE_TEMPO_CHANGE = 0.04
"""Tempo changes cost exp(-λ·(|ratio - 1| - 4 %)) beyond 4 %. Changes of a step of the period grid
are free: they are whole-frame rounding (100 bpm is 60 frames, between the periods 59 and 61 that
the grid holds, and a path alternates them), not a change of tempo."""
PEAK_TOLERANCE = 1
"""A beat's frame is scored by the highest beat (or downbeat) probability within ±1 frame: a peak a
frame early or late is the same beat, and whole-frame periods need not alternate to hit it."""
NONE_ODDS = 15.0
"""P(none) is divided by this, about its prior odds against a beat frame in training (a beat frame
and two half-beat frames beside it per beat of about fifty frames), so that the scores compare like
likelihoods. Chosen on held-out synthetic songs: beat F 0.77 at 2.5, 0.92 at 10, 0.93 at 20; above
that the tempo is read at double speed more often than at half."""
METRE_CHANGE_PROBABILITY = 1e-4
"""Per bar line: a change of time signature needs bars of evidence."""
COMPOUND_WEIGHT = 0.05
"""Per frame; the compound output is a slow, song-level cue, not a per-frame one."""
TEMPO_WEIGHT = 0.01
"""Per frame, like the compound output: the tempo output speaks for whole stretches of the song. Chosen
on the 150 held-out songs of the beat model's validation split (0, 0.01, 0.02, 0.05, 0.1, 0.2):
tempo right in 98.7 % of them without the tempo output, 100 % at 0.01, 99.3 % from 0.02 up."""
METRE_PRIOR: dict[str, float] = {"4/4": 0.55, "3/4": 0.15, "6/8": 0.15, "12/8": 0.15}
ACTIVE_THRESHOLD = 0.05
"""Frames before the first and after the last beat activation this high are not decoded (intros
and endings without drums)."""
_FLOOR = 1e-6
_BLOCKS_PER_SLIDE = 16
"""Blocks decoded before the entry buffer slides back (a copy of `pad` frames)."""


@dataclass(frozen=True)
class BeatTrack:
    """Beats found in a song: when, which beat of the bar, in which metre."""

    times: np.ndarray
    """Seconds, ascending."""
    positions: np.ndarray
    """Beat of the bar, counting from 1 (1 is a downbeat)."""
    metres: tuple[str, ...]
    """Per beat, the name of its bar's metre (a name of `recipe.METRES`)."""

    @property
    def downbeats(self) -> np.ndarray:
        """Times of the first beat of every bar."""
        return self.times[self.positions == 1]

    @property
    def metre(self) -> str:
        """The metre of most beats ("4/4" when there are none)."""
        return Counter(self.metres).most_common(1)[0][0] if self.metres else METRES[0].name

    @property
    def tempo_bpm(self) -> float:
        """Counted beats per minute (dotted quarters in 6/8 and 12/8): the slope of a line through the
        main metre's beats, so frame rounding averages out; 0 with fewer than two beats."""
        main = np.flatnonzero(np.array([m == self.metre for m in self.metres]))
        if len(main) < 2:
            return 0.0
        slope = float(np.polyfit(main.astype(np.float64), self.times[main], 1)[0])
        return round(60.0 / slope, 1)


@dataclass(frozen=True)
class _Space:
    """The decoder's nodes: one per (metre, beat of the bar, period), and where each may come from."""

    period: np.ndarray
    tempo_bin: np.ndarray
    """The tempo output's bin of the node's counted tempo."""
    downbeat: np.ndarray
    compound: np.ndarray
    metre: np.ndarray
    beat: np.ndarray
    sources: np.ndarray
    """(nodes, width): the nodes whose beat may precede this node's; `nodes` pads (no source)."""
    log_transition: np.ndarray
    log_prior: np.ndarray


def beat_periods(bpm_range: tuple[float, float], fps: float) -> np.ndarray:
    """Beat periods in frames modelled for a tempo range: log-spaced by TEMPO_STEP, whole frames."""
    low, high = bpm_range
    count = int(np.ceil(np.log(high / low) / np.log1p(TEMPO_STEP))) + 1
    return np.unique(np.round(60.0 * fps / np.geomspace(low, high, count)).astype(np.int64))


def _tempo_log_transitions(periods: np.ndarray) -> np.ndarray:
    """(source, destination) log-probabilities of a beat's period following the previous one's."""
    k = np.arange(len(periods))
    ratio = np.abs(periods[:, None] / periods[None, :] - 1.0)
    cost = TRANSITION_LAMBDA * np.maximum(0.0, ratio - FREE_TEMPO_CHANGE)
    weight = np.where(np.abs(k[:, None] - k[None, :]) <= MAX_TEMPO_STEPS, np.exp(-cost), 0.0)
    with np.errstate(divide="ignore"):
        return np.log(weight / weight.sum(axis=1, keepdims=True))


def _build_space(metres: tuple[Metre, ...], fps: float) -> _Space:
    periods = {kind: beat_periods(COMPOUND_BPM if kind else SIMPLE_BPM, fps) for kind in (False, True)}
    transitions = {kind: _tempo_log_transitions(p) for kind, p in periods.items()}
    first: dict[tuple[int, int], int] = {}
    columns: dict[str, list[int]] = {name: [] for name in ("period", "downbeat", "compound", "metre", "beat")}
    for mi, metre in enumerate(metres):
        p = periods[metre.compound]
        for beat in range(metre.beats):
            first[(mi, beat)] = len(columns["period"])
            columns["period"] += p.tolist()
            columns["downbeat"] += [int(beat == 0)] * len(p)
            columns["compound"] += [int(metre.compound)] * len(p)
            columns["metre"] += [mi] * len(p)
            columns["beat"] += [beat] * len(p)
    nodes = len(columns["period"])
    sources: list[list[int]] = []
    logs: list[list[float]] = []
    log_prior = np.empty(nodes)
    for mi, metre in enumerate(metres):
        p, trans = periods[metre.compound], transitions[metre.compound]
        alternatives = [mj for mj, other in enumerate(metres) if mj != mi and other.compound == metre.compound]
        stay = np.log1p(-METRE_CHANGE_PROBABILITY * len(alternatives))
        for beat in range(metre.beats):
            previous = first[(mi, (beat - 1) % metre.beats)]
            for k in range(len(p)):
                near = range(max(0, k - MAX_TEMPO_STEPS), min(len(p), k + MAX_TEMPO_STEPS + 1))
                src = [previous + j for j in near]
                log = [float(trans[j, k]) + (stay if beat == 0 else 0.0) for j in near]
                if beat == 0:
                    for mj in alternatives:
                        src.append(first[(mj, metres[mj].beats - 1)] + k)
                        log.append(float(trans[k, k]) + float(np.log(METRE_CHANGE_PROBABILITY)))
                sources.append(src)
                logs.append(log)
            node = first[(mi, beat)]
            log_prior[node : node + len(p)] = np.log(METRE_PRIOR[metre.name] / (metre.beats * len(p)))
    width = max(len(s) for s in sources)
    period = np.asarray(columns["period"], dtype=np.int64)
    return _Space(
        period=period,
        tempo_bin=tempo_bin(60.0 * fps / period),
        downbeat=np.asarray(columns["downbeat"], dtype=np.int64),
        compound=np.asarray(columns["compound"], dtype=np.int64),
        metre=np.asarray(columns["metre"], dtype=np.int64),
        beat=np.asarray(columns["beat"], dtype=np.int64),
        sources=np.asarray([s + [nodes] * (width - len(s)) for s in sources], dtype=np.int64),
        log_transition=np.asarray([g + [-np.inf] * (width - len(g)) for g in logs], dtype=np.float32),
        log_prior=log_prior.astype(np.float32),
    )


_SPACES: dict[tuple[tuple[Metre, ...], float], _Space] = {}


def _space(metres: tuple[Metre, ...], fps: float) -> _Space:
    """The node set for `metres` at `fps`, built once per process (about 10 ms)."""
    key = (metres, fps)
    if key not in _SPACES:
        _SPACES[key] = _build_space(metres, fps)
    return _SPACES[key]


def decode(
    beat_probabilities: np.ndarray,
    compound: np.ndarray | None = None,
    tempo: np.ndarray | None = None,
    *,
    fps: float = FPS,
    metres: tuple[Metre, ...] = METRES,
) -> BeatTrack:
    """The most likely beats, bars and metres for `beat_probabilities`.

    `beat_probabilities` is (frames, 3): per frame P(none), P(beat), P(downbeat) (`recipe.BEAT_CLASSES`),
    rows summing to 1; `compound` is (frames,) P(the beat divides in three), or None when unknown;
    `tempo` is (frames, TEMPO_BINS) P(the counted tempo is in each of `recipe.tempo_bin_bpm`'s bins), or
    None when unknown.
    """
    probs = np.asarray(beat_probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"beat probabilities must be (frames, 3) [none, beat, downbeat], got shape {probs.shape}")
    if compound is not None and len(compound) != len(probs):
        raise ValueError(f"compound has {len(compound)} frames, the beat probabilities {len(probs)}")
    if tempo is not None and np.shape(tempo) != (len(probs), TEMPO_BINS):
        raise ValueError(f"tempo must be (frames, {TEMPO_BINS}) = ({len(probs)}, {TEMPO_BINS}), got {np.shape(tempo)}")
    onsets = probs[:, 1] + probs[:, 2]
    active = np.flatnonzero(onsets >= ACTIVE_THRESHOLD)
    if len(active) == 0:
        return BeatTrack(np.empty(0), np.empty(0, dtype=np.int64), ())
    start, stop = int(active[0]), int(active[-1]) + 1
    space = _space(metres, fps)
    entries = _viterbi(
        space,
        probs[start:stop],
        None if compound is None else np.asarray(compound)[start:stop],
        None if tempo is None else np.asarray(tempo)[start:stop],
    )
    frames = np.array([start + t for t, _ in entries], dtype=np.int64)
    nodes = np.array([n for _, n in entries], dtype=np.int64)
    refined = _refine(frames, onsets)
    return BeatTrack(
        times=refined / fps,
        positions=space.beat[nodes] + 1,
        metres=tuple(metres[m].name for m in space.metre[nodes]),
    )


def _observation_sums(probs: np.ndarray, compound: np.ndarray | None, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood sums over the padded frames, arranged so that a beat's score takes two look-ups.

    A beat of a node (kind 0 for a beat, 1 for a downbeat; compound c) that starts at frame s and
    ends before frame t scores start[2·kind + c, s] + end[c, t]: its own frame's beat (or downbeat)
    log-probability, "none" over the frames after it, and the compound term over all of them, as
    differences of cumulative sums. Padding frames are neutral (0).
    """
    frames = len(probs)
    logs = np.zeros((3, frames + 2 * pad))
    clipped = np.clip(probs, _FLOOR, 1.0)
    widened = _running_max(clipped[:, 1:], PEAK_TOLERANCE)
    logs[0, pad : pad + frames] = np.log(widened[:, 0])
    logs[1, pad : pad + frames] = np.log(widened[:, 1])
    logs[2, pad : pad + frames] = np.log(clipped[:, 0] / NONE_ODDS)
    kinds = np.zeros((2, frames + 2 * pad))
    if compound is not None:
        c = np.clip(np.asarray(compound, dtype=np.float64), _FLOOR, 1.0 - _FLOOR)
        kinds[0, pad : pad + frames] = COMPOUND_WEIGHT * np.log1p(-c)
        kinds[1, pad : pad + frames] = COMPOUND_WEIGHT * np.log(c)
    none = np.concatenate([[0.0], np.cumsum(logs[2])])
    cum_kind = np.concatenate([np.zeros((2, 1)), np.cumsum(kinds, axis=1)], axis=1)
    start = np.stack([logs[k] - none[1:] - cum_kind[c, :-1] for k in (0, 1) for c in (0, 1)])
    end = none + cum_kind
    return start, end


def _tempo_sums(tempo: np.ndarray, pad: int) -> np.ndarray:
    """(TEMPO_BINS, padded frames + 1): cumulative sums over the padded frames of TEMPO_WEIGHT × log
    P(tempo bin), so that a beat from frame s to frame t scores row[t] - row[s]; padding is neutral."""
    logs = np.zeros((TEMPO_BINS, len(tempo) + 2 * pad))
    logs[:, pad : pad + len(tempo)] = TEMPO_WEIGHT * np.log(np.clip(np.asarray(tempo, dtype=np.float64).T, _FLOOR, 1.0))
    return np.concatenate([np.zeros((TEMPO_BINS, 1)), np.cumsum(logs, axis=1)], axis=1)


def _running_max(x: np.ndarray, radius: int) -> np.ndarray:
    """Each row of `x` replaced by the column-wise maximum of the rows within ±`radius`."""
    padded = np.pad(x, ((radius, radius), (0, 0)), mode="edge")
    return np.max([padded[k : k + len(x)] for k in range(2 * radius + 1)], axis=0)


def _viterbi(
    space: _Space, probs: np.ndarray, compound: np.ndarray | None, tempo: np.ndarray | None
) -> list[tuple[int, int]]:
    """(frame, node) of every beat start on the best path, in time order.

    Frames are padded with `pad` neutral frames before (so the first beat may start before the first
    frame) and after (so the last beat may end after the last). entry[n, t] is the best score of a
    path whose beat of node n starts at padded frame t; it comes from the best previous beat m that
    started at t - period[m] and ended at t - 1. Arrays are (nodes, frames of a block), so every
    reduction runs over whole contiguous rows, and look-ups are flat offsets plus the block's frames.
    """
    frames = len(probs)
    pad = int(space.period.max())
    block = int(space.period.min())
    total = frames + 2 * pad
    nodes = len(space.period)
    start_sums, end_sums = _observation_sums(probs, compound, pad)
    # entry scores of the last `pad` frames and the block being decoded; slid back when full
    width_buffer = pad + _BLOCKS_PER_SLIDE * block
    entry = np.full((nodes, width_buffer), -np.inf, dtype=np.float32)
    entry[:, :pad] = space.log_prior[:, None]  # any beat may be under way when the song starts
    back = np.zeros((-(-(total - pad) // block), nodes, block), dtype=np.uint8)
    period = space.period[:, None]
    entry_offset = np.arange(nodes)[:, None] * width_buffer - period
    start_offset = (2 * space.downbeat[:, None] + space.compound[:, None]) * start_sums.shape[1] - period
    start_flat = start_sums.ravel()
    tempo_flat = None if tempo is None else _tempo_sums(tempo, pad).ravel()
    tempo_end = space.tempo_bin[:, None] * (total + 1)
    tempo_start = tempo_end - period
    sources = np.ascontiguousarray(space.sources.T)
    log_transition = np.ascontiguousarray(space.log_transition.T)[:, :, None]
    score = np.empty((nodes + 1, block), dtype=np.float32)
    score[nodes] = -np.inf
    local = pad
    for index, t0 in enumerate(range(pad, total, block)):
        if local + block > width_buffer:
            # Every score drops by the same amount, which keeps float32 precise and changes no choice.
            kept = entry[:, local - pad : local]
            entry[:, :pad] = kept - np.max(kept)
            local = pad
        size = min(block, total - t0)
        t, here = np.arange(t0, t0 + size), np.arange(local, local + size)
        score[:nodes, :size] = (
            np.take(entry, entry_offset + here) + np.take(start_flat, start_offset + t) + end_sums[:, t][space.compound]
        )
        if tempo_flat is not None:
            score[:nodes, :size] += np.take(tempo_flat, tempo_end + t) - np.take(tempo_flat, tempo_start + t)
        candidates = np.take(score[:, :size], sources, axis=0)
        candidates += log_transition
        best = candidates.max(axis=0)
        choice = back[index, :, :size]
        for j in range(len(sources) - 1, 0, -1):  # the first source wins ties, as argmax would
            np.copyto(choice, j, where=candidates[j] == best)
        entry[:, local : local + size] = best
        local += size
    # Every path is scored up to its first beat start after the last frame; padding costs nothing.
    tail = entry[:, local - pad : local]
    node, column = np.unravel_index(int(np.argmax(tail)), tail.shape)
    at, n = total - pad + int(column), int(node)
    entries: list[tuple[int, int]] = []
    while at >= pad:
        if at < pad + frames:
            entries.append((at - pad, n))
        index, step = divmod(at - pad, block)
        m = int(space.sources[n, back[index, n, step]])
        at, n = at - int(space.period[m]), m
    return entries[::-1]


def _refine(frames: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """Each beat moved to the activation's peak within 2 frames, to a tenth of a frame by a parabola
    through the peak; a beat without a clear peak (in a break) stays where the tempo put it."""
    out = frames.astype(np.float64)
    for i, f in enumerate(frames.tolist()):
        lo, hi = max(0, f - 2), min(len(onsets), f + 3)
        if hi <= lo:
            continue
        k = lo + int(np.argmax(onsets[lo:hi]))
        if onsets[k] < 0.1:
            continue
        offset = 0.0
        if 0 < k < len(onsets) - 1:
            a, b, c = onsets[k - 1], onsets[k], onsets[k + 1]
            if a - 2 * b + c < 0:
                offset = float(np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5))
        out[i] = k + offset
    return out
