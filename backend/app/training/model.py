"""The network: a small convolutional model over log-mel frames, fully convolutional in time.

    (batch, frames, 128) → 2-D conv blocks over time × frequency, pooling frequency only (128 → 8 bands)
    → flattened per frame → dilated 1-D convs over time (receptive field ±31 frames, 0.31 s)
    → one sigmoid per class per frame.

Fully convolutional, so any number of frames goes through and the predictor can chunk long songs.
Only built-in Keras layers, so `keras.models.load_model(path, compile=False)` reads it with no
custom objects, as ModelResolver does. About 0.3 M parameters, about 1.3 MB as .h5.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.pipeline.prediction.frame import CLASSES, N_MELS

if TYPE_CHECKING:
    import keras

DILATIONS = (1, 2, 4, 8, 1)
"""Residual temporal blocks; with the 3×3 convs the receptive field is about ±(2·Σd + 4) frames."""


def build_model(width: int = 16, temporal: int = 128, dropout: float = 0.2, prior: float = 0.01) -> keras.Model:
    """A fresh model; `prior` sets the output bias so training starts near the onset rate (focal-loss trick)."""
    import keras
    from keras import layers

    frames = keras.Input(shape=(None, N_MELS), name="log_mel")
    x = layers.Reshape((-1, N_MELS, 1))(frames)
    for filters, pool in ((width, 4), (2 * width, 4)):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool_size=(1, pool))(x)
    x = layers.Reshape((-1, (N_MELS // 16) * 2 * width))(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(temporal, 1)(x)
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
    return keras.Model(frames, out, name="drumscribe_frame")
