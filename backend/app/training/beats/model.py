"""The beat network: a temporal convolutional network (TCN) over the beat features.

    (batch, frames, N_FEATURES) → 1×1 conv to `width` channels
    → residual blocks of dilated 1-D convs (kernel 5, dilations 1 2 4 … 256: about ±10 s of context,
      enough to hear whole bars at 40 bpm), each ELU + spatial dropout
    → per frame: softmax over (none, beat, downbeat) ["beats"], sigmoid compound ["compound"],
      softmax over the TEMPO_BINS counted tempi ["tempo"].

As the TCN beat trackers of the literature: non-causal, fully convolutional, so any number of frames
goes through at once. The tempo output is the multi-task tempo head of the literature's TCN
trackers, kept per frame (not pooled over the song) so that a song's tempo may change and long songs
still go through in chunks. Only built-in Keras layers: `keras.models.load_model(path, compile=False)` reads
it. About 51 k parameters (about 0.3 MB as .h5) at width 32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.pipeline.beats.recipe import (
    BEAT_CLASSES,
    N_FEATURES,
    OUTPUT_BEATS,
    OUTPUT_COMPOUND,
    OUTPUT_TEMPO,
    TEMPO_BINS,
)

if TYPE_CHECKING:
    import keras

DILATIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
KERNEL = 5
RECEPTIVE_FRAMES = (KERNEL - 1) // 2 * sum(DILATIONS)
"""Frames of context on each side of a frame (1022: about 10 s)."""


def build_beat_model(width: int = 32, dropout: float = 0.1) -> keras.Model:
    """A fresh beat network."""
    import keras
    from keras import layers

    features = keras.Input(shape=(None, N_FEATURES), name="beat_features")
    x = layers.Conv1D(width, 1, name="input_mix")(features)
    for dilation in DILATIONS:
        y = layers.Conv1D(width, KERNEL, padding="same", dilation_rate=dilation)(x)
        y = layers.ELU()(y)
        y = layers.SpatialDropout1D(dropout)(y)
        x = layers.Add()([x, y])
    x = layers.ELU()(x)
    beats = layers.Conv1D(len(BEAT_CLASSES), 1, activation="softmax", name=OUTPUT_BEATS)(x)
    compound = layers.Conv1D(1, 1, activation="sigmoid", name=OUTPUT_COMPOUND)(x)
    tempo = layers.Conv1D(TEMPO_BINS, 1, activation="softmax", name=OUTPUT_TEMPO)(x)
    outputs = {OUTPUT_BEATS: beats, OUTPUT_COMPOUND: compound, OUTPUT_TEMPO: tempo}
    return keras.Model(features, outputs, name="drumscribe_beats")
