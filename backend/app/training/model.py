"""The networks: a small convolutional model over log-mel frames (fully convolutional in time), or a
convolutional-recurrent one (`build_model(arch="crnn")`).

    (batch, frames, 128) → 2-D conv blocks over time × frequency, pooling frequency only (128 → 8 bands)
    → flattened per frame → dilated 1-D convs over time (receptive field ±31 frames, 0.31 s)
    → one sigmoid per class per frame.

Fully convolutional, so any number of frames goes through and the predictor can chunk long songs.
Only built-in Keras layers, so `keras.models.load_model(path, compile=False)` reads it with no
custom objects, as ModelResolver does. About 0.3 M parameters, about 1.3 MB as .h5.

The CRNN keeps the front end and replaces the dilated convs by one conv block and a bidirectional GRU
over time (receptive field: the whole input; the predictor's chunks give it ±1 s of context, and
training windows are 4 s). Both export to ONNX through the same path (export_onnx.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.pipeline.prediction.frame import CLASSES, N_MELS

if TYPE_CHECKING:
    import keras

DILATIONS = (1, 2, 4, 8, 1)
"""Residual temporal blocks; with the 3×3 convs the receptive field is about ±(2·Σd + 4) frames."""

ARCHITECTURES = ("cnn", "crnn")
"""`cnn`: the convolutional model above (v3). `crnn`: the same front end, then a bidirectional GRU over time."""


def _front_end(frames: keras.KerasTensor, width: int, dropout: float) -> keras.KerasTensor:
    """2-D conv blocks over time × frequency pooling frequency only (128 → 8 bands), flattened per frame."""
    from keras import layers

    x = layers.Reshape((-1, N_MELS, 1))(frames)
    for filters, pool in ((width, 4), (2 * width, 4)):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool_size=(1, pool))(x)
    x = layers.Reshape((-1, (N_MELS // 16) * 2 * width))(x)
    return layers.Dropout(dropout)(x)


def build_model(
    width: int = 16,
    temporal: int = 128,
    dropout: float = 0.2,
    prior: float = 0.01,
    arch: str = "cnn",
    gru_units: int = 64,
) -> keras.Model:
    """A fresh model of architecture `arch` (ARCHITECTURES); `prior` sets the output bias so training starts
    near the onset rate (focal-loss trick). The CRNN's GRU has `gru_units` per direction."""
    import keras
    from keras import layers

    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown model architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}")
    frames = keras.Input(shape=(None, N_MELS), name="log_mel")
    x = _front_end(frames, width, dropout)
    x = layers.Conv1D(temporal, 1)(x)
    if arch == "crnn":
        # One local conv block gives the GRU onset-shaped features; the GRU then sees the whole window
        # in both directions (a cymbal's decay, the band around it), as the best public drum models do.
        y = layers.Conv1D(temporal, 3, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        x = layers.Add()([x, layers.ReLU()(y)])
        x = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True), name="bigru")(x)
        x = layers.Dropout(dropout / 2)(x)
    else:
        for dilation in DILATIONS:
            y = layers.Conv1D(temporal, 3, padding="same", dilation_rate=dilation, use_bias=False)(x)
            y = layers.BatchNormalization()(y)
            y = layers.ReLU()(y)
            y = layers.Dropout(dropout / 2)(y)
            x = layers.Add()([x, y])
    bias = float(np.log(prior / (1 - prior)))
    out = layers.Dense(
        len(CLASSES), activation="sigmoid", bias_initializer=keras.initializers.Constant(bias), name="onsets"
    )(x)
    return keras.Model(frames, out, name="drumscribe_frame" if arch == "cnn" else "drumscribe_frame_crnn")
