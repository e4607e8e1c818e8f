"""The beat model's interface, stated once: input features, frame rate, outputs and metres.

The beat model is separate from the drum-hit model: it computes its own features from the drums
audio, so either model can be retrained alone. `app/training/beats/` imports these constants, never
the other way round, so what the network was trained on and what it is fed cannot drift apart.

- Audio: mono, resampled to SAMPLE_RATE, scaled to a peak of PEAK_LEVEL.
- Features (`features.py`), FPS frames per second: the STFT magnitude (Hann window of N_FFT samples,
  hop HOP, centred frames) through N_BANDS mel bands from FMIN to FMAX, compressed as
  log10(1 + LOG_MUL · magnitude); then the positive first difference of those bands (spectral flux,
  the onsets). N_FEATURES = 2 · N_BANDS values per frame: bands first, then their flux.
- Outputs, per frame at FPS: OUTPUT_BEATS, a softmax over BEAT_CLASSES (no beat, a beat that is not
  the first of its bar, a downbeat), and OUTPUT_COMPOUND, a sigmoid: the probability that the beat
  divides in three (the dotted-quarter beat of 6/8 and 12/8) rather than in two. A model may also
  give OUTPUT_TEMPO, a softmax over TEMPO_BINS: the counted beats per minute where the frame lies
  (the tempo octave, which the beat activations alone leave open on a busy groove).
- Decoding (`decode.py`): a bar-pointer model over METRES jointly finds tempo, beat phase and bar
  position from those outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 44_100
HOP = 441
FPS = SAMPLE_RATE / HOP
"""100 frames per second: the activations' rate, and the decoder's."""
N_FFT = 2_048
N_BANDS = 40
FMIN = 30.0
FMAX = 17_000.0
LOG_MUL = 10.0
PEAK_LEVEL = 0.9
N_FEATURES = 2 * N_BANDS

CONTEXT_FRAMES = 1_100
"""The most frames a beat model may look at on either side of a frame (the shipped TCN: 1022). Long
songs go through the network in chunks with this much context, so chunked and whole-song outputs
are the same."""

BEAT_CLASSES: tuple[str, ...] = ("none", "beat", "downbeat")
OUTPUT_BEATS = "beats"
OUTPUT_COMPOUND = "compound"
OUTPUT_TEMPO = "tempo"
KIND = "drumscribe-beats"


@dataclass(frozen=True)
class Metre:
    """A time signature as the decoder counts it: beats per bar, and whether a beat divides in three.

    Compound metres count dotted quarters: 6/8 is two beats of three eighths, 12/8 four. Their tempo
    is in dotted quarters per minute, as a drummer counts "one and a, two and a".
    """

    name: str
    beats: int
    compound: bool

    @property
    def eighths_per_beat(self) -> int:
        """Eighth notes in one counted beat: 3 for a dotted quarter, 2 for a quarter."""
        return 3 if self.compound else 2


METRES: tuple[Metre, ...] = (
    Metre("4/4", 4, False),
    Metre("3/4", 3, False),
    Metre("6/8", 2, True),
    Metre("12/8", 4, True),
)

SIMPLE_BPM = (55.0, 215.0)
"""Quarter notes per minute a simple metre's beat may take."""
COMPOUND_BPM = (35.0, 110.0)
"""Dotted quarters per minute a compound metre's beat may take (eighths at 105–330 per minute)."""

TEMPO_BIN_RATIO = 1.04
"""Neighbouring tempo bins are 4 % apart: finer than a tempo octave needs, about the ±4 % that counts a
tempo as right."""
TEMPO_BINS = 48
"""Bins of the tempo output, from the slowest counted beat a metre may take to above the fastest."""


def tempo_bin_bpm() -> np.ndarray:
    """The counted beats per minute at the centre of each of the tempo output's TEMPO_BINS bins."""
    return COMPOUND_BPM[0] * TEMPO_BIN_RATIO ** np.arange(TEMPO_BINS)


def tempo_bin_position(bpm: np.ndarray | float) -> np.ndarray:
    """Where each counted `bpm` lies on the tempo output's bins, as a fractional bin index."""
    return np.log(np.asarray(bpm, dtype=np.float64) / COMPOUND_BPM[0]) / np.log(TEMPO_BIN_RATIO)


def tempo_bin(bpm: np.ndarray | float) -> np.ndarray:
    """The tempo output's bin nearest to each counted `bpm` (clipped to the first and last bin)."""
    return np.clip(np.round(tempo_bin_position(bpm)), 0, TEMPO_BINS - 1).astype(np.int64)
