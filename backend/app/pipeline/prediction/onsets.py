"""Onset detection for drum tracks: where each stroke starts, to within a few milliseconds, and how loud.

Spectral flux finds the strokes; its frames are a few milliseconds apart but the analysis window
smears an attack over its whole length, so each onset is then refined on the waveform itself to the
point where the stroke's envelope rises. On rendered grooves this lands within 5 ms of the written
time, and on real recordings within 1.5 ms (median) of human annotations, well inside the ±20 ms
that notation needs.

librosa and scipy.signal are imported by the functions that use them: they take about a second to
import, and the bundled model needs only the velocity functions here (`onset_peaks`,
`peaks_to_velocities`).
"""

from __future__ import annotations

import numpy as np

ONSET_HOP = 128
"""Frame step of the onset envelope: 2.9 ms at 44.1 kHz."""

ONSET_N_FFT = 1024
"""Analysis window (23 ms at 44.1 kHz): long enough for a kick's low end, short enough to separate 16ths."""

ONSET_N_MELS = 64

ONSET_DELTA = 0.05
"""Peak-picking threshold above the local mean of the (0–1 normalised) envelope. Below librosa's 0.07:
on rendered grooves and on the pooled mdb-dev recordings it finds soft strokes (ghost notes, a hi-hat
right after an accent) that 0.07 misses, without more false onsets; 0.03 doubled the false onsets."""

MIN_ONSET_DB = -40.0
"""Strokes quieter than this, relative to the loudest sample of the track, are taken as bleed from the
separation or noise, and dropped; it is also the floor of the velocity scale (velocity 1)."""

MIN_GAP_S = 0.01
"""Two onsets closer than this after refinement are one stroke (the refinement may move both to it)."""

PEAK_WINDOW_S = 0.05
"""How far after an onset its peak amplitude is looked for (a kick peaks 5–10 ms in)."""

_REFINE_BEFORE_S = 0.03
_REFINE_AFTER_S = 0.01
_REFINE_BLOCK = 32
_REFINE_RISE = 0.4
_REFINE_HIGHPASS_HZ = 300.0
_BLOCK_FRAMES = 8192


def onset_envelope(audio: np.ndarray, sr: int) -> np.ndarray:
    """Spectral-flux onset strength, one value per ONSET_HOP samples (librosa's centred framing).

    The mel spectrogram is computed in blocks: at this hop a whole 15-minute track would need over a
    gigabyte for its STFT at once.
    """
    import librosa

    half = ONSET_N_FFT // 2
    padded = np.pad(audio, half)
    n_frames = 1 + len(audio) // ONSET_HOP
    blocks = []
    for first in range(0, n_frames, _BLOCK_FRAMES):
        last = min(first + _BLOCK_FRAMES, n_frames)
        segment = padded[first * ONSET_HOP : (last - 1) * ONSET_HOP + ONSET_N_FFT]
        blocks.append(
            librosa.feature.melspectrogram(
                y=segment, sr=sr, n_fft=ONSET_N_FFT, hop_length=ONSET_HOP, center=False, n_mels=ONSET_N_MELS
            )
        )
    mel_db = librosa.power_to_db(np.concatenate(blocks, axis=1))
    # n_fft tells librosa how far to shift the envelope so that frame i is centred on sample i*hop.
    return librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=ONSET_HOP, n_fft=ONSET_N_FFT, lag=1, max_size=1)


def refine_onsets(audio: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Move each onset to where its stroke's amplitude envelope starts to rise.

    The envelope is the peak level, in 32-sample blocks, of the track high-passed at 300 Hz: below
    that, a kick's or tom's single cycles (7–20 ms long) rise and fall like attacks of their own, while
    every stroke's attack has energy above it. Within 30 ms before to 10 ms after the detected time,
    take the envelope's loudest point and the quietest point before it; the attack is where the
    envelope first climbs 40% of the way from that trough to that peak. Measuring from the trough,
    not from zero, keeps a soft stroke on top of a ringing cymbal from being placed at the cymbal.
    """
    import scipy.signal

    # Causal, so nothing of an attack leaks to before it.
    sos = scipy.signal.butter(2, _REFINE_HIGHPASS_HZ, btype="highpass", fs=sr, output="sos")
    level = np.abs(scipy.signal.sosfilt(sos, audio))
    refined = np.empty(len(times), dtype=np.float64)
    for i, t in enumerate(times):
        start = max(0, round((t - _REFINE_BEFORE_S) * sr))
        segment = level[start : max(start, round((t + _REFINE_AFTER_S) * sr))]
        n_blocks = len(segment) // _REFINE_BLOCK
        if n_blocks < 3:
            refined[i] = t
            continue
        envelope = segment[: n_blocks * _REFINE_BLOCK].reshape(n_blocks, _REFINE_BLOCK).max(axis=1)
        peak = int(np.argmax(envelope))
        trough = int(np.argmin(envelope[: peak + 1]))
        threshold = envelope[trough] + _REFINE_RISE * (envelope[peak] - envelope[trough])
        rise = trough + int(np.argmax(envelope[trough : peak + 1] >= threshold))
        refined[i] = (start + rise * _REFINE_BLOCK) / sr
    return refined


def onset_peaks(audio: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Peak absolute amplitude of each stroke: from its onset to PEAK_WINDOW_S later or the next onset."""
    starts = np.clip(np.round(times * sr).astype(np.int64), 0, len(audio))
    ends = np.minimum(starts + round(PEAK_WINDOW_S * sr), np.append(starts[1:], len(audio)))
    return np.array([float(np.max(np.abs(audio[s:e]))) if e > s else 0.0 for s, e in zip(starts, ends, strict=True)])


def peaks_to_velocities(peaks: np.ndarray, reference: float) -> np.ndarray:
    """MIDI velocities 1–127 on a log scale: `reference` (the track's peak) is 127, MIN_ONSET_DB is 1.

    Level in dB, not amplitude, because loudness is heard logarithmically: a stroke 10 dB below the
    loudest one drops about 32 velocity steps.
    """
    ratio = np.maximum(peaks, 1e-12) / max(reference, 1e-12)
    level = np.clip(1.0 - 20.0 * np.log10(ratio) / MIN_ONSET_DB, 0.0, 1.0)
    return np.rint(1 + 126 * level).astype(np.int64)


def detect_onsets(audio: np.ndarray, sr: int) -> np.ndarray:
    """Times in seconds, ascending, where drum strokes begin in mono `audio`."""
    import librosa

    track_peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if track_peak < 1e-6:  # digital silence: the normalised envelope would be all noise
        return np.empty(0)
    frames = librosa.onset.onset_detect(
        onset_envelope=onset_envelope(audio, sr), sr=sr, hop_length=ONSET_HOP, delta=ONSET_DELTA
    )
    times = refine_onsets(audio, sr, librosa.frames_to_time(frames, sr=sr, hop_length=ONSET_HOP))
    times = np.clip(times, 0.0, None)
    kept: list[float] = []
    for t in np.sort(times):
        if not kept or t - kept[-1] >= MIN_GAP_S:
            kept.append(float(t))
    onsets = np.array(kept)
    loud = 20.0 * np.log10(np.maximum(onset_peaks(audio, sr, onsets), 1e-12) / track_peak) >= MIN_ONSET_DB
    return onsets[loud]
