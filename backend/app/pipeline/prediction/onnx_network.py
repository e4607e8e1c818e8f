"""A frame-level model exported to ONNX, run by onnxruntime: the bundled model's runtime, no TensorFlow.

`app/training/export_onnx.py` writes the file from the Keras model; this module only reads it, so a
worker needs onnxruntime and numpy, not TensorFlow, Keras or the onnx package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.pipeline.prediction.frame import CLASSES, N_MELS

if TYPE_CHECKING:
    import onnxruntime

_FLOAT = "tensor(float)"


def _is_dynamic(dim: object) -> bool:
    # onnxruntime reports a named dynamic axis as its name (str) and an unnamed one as None.
    return dim is None or isinstance(dim, str)


def describe_session(session: onnxruntime.InferenceSession) -> str:
    """The session's inputs and outputs as "inputs [name type shape], outputs [...]", for messages."""

    def describe(args: list[onnxruntime.NodeArg]) -> str:
        return ", ".join(f"{a.name} {a.type} {a.shape}" for a in args)

    return f"inputs [{describe(session.get_inputs())}], outputs [{describe(session.get_outputs())}]"


def is_frame_session(session: onnxruntime.InferenceSession) -> bool:
    """Whether the ONNX model takes float (batch, frames, N_MELS) and gives (batch, frames, len(CLASSES))."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    return all(
        arg.type == _FLOAT
        and len(arg.shape) == 3
        and _is_dynamic(arg.shape[0])
        and _is_dynamic(arg.shape[1])
        and arg.shape[2] == size
        for arg, size in ((inputs[0], N_MELS), (outputs[0], len(CLASSES)))
    )


class OnnxFrameNetwork:
    """A FrameNetwork backed by an onnxruntime session of a drumscribe-frame model."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session
        self._input = session.get_inputs()[0].name

    def __call__(self, features: np.ndarray, /) -> np.ndarray:
        """(1, frames, len(CLASSES)) activations of (1, frames, N_MELS) features."""
        feed = {self._input: np.ascontiguousarray(features, dtype=np.float32)}
        return np.asarray(self.session.run(None, feed)[0])
