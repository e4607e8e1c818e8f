"""Export the beat model's Keras .h5 to ONNX beside it, checked against Keras on a rendered groove.

    python -m app.training.beats export-onnx [--out path/to/drumscribe_beats.h5]   (default: the bundled model)

The notation stage runs the ONNX file in onnxruntime (`app.pipeline.beats.tracker`), so it never
imports TensorFlow; the .h5 stays the training format. As for the drum model
(`app.training.export_onnx`), the conversion is Keras' `Model.export(format="onnx")` (tf2onnx, from
the `train` extra); the graph's input is named `beat_features` with dynamic axes batch and frames, its
outputs keep the model's names (`beats`, `compound`, and `tempo` where it has one). Before the file is
replaced, both forms run on the check groove (rock, funk, a tom fill, crash and ride on a sampled
kit): every activation must agree within MAX_ABS_DIFF and the decoded beats, bars and metres must be
the same. The recipe JSON beside the model gets a `runtimes` entry per file and the check's figures.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.pipeline.beats.decode import decode
from app.pipeline.beats.recipe import KIND, N_FEATURES, OUTPUT_BEATS, OUTPUT_COMPOUND, OUTPUT_TEMPO
from app.pipeline.beats.tracker import KerasBeatNetwork, _load_onnx, beat_activations, has_beat_outputs
from app.training.export_onnx import ONNX_OPSET, ExportMismatchError, check_groove_audio, record_export, write_shipped

if TYPE_CHECKING:
    import keras

INPUT_NAME = "beat_features"
MAX_ABS_DIFF = 1e-4
"""Largest difference of any activation between the two forms; float32 rounding stays near 1e-6."""


@dataclass(frozen=True)
class BeatAgreement:
    """How closely the ONNX form followed the Keras form on the check groove."""

    frames: int
    max_abs_diff: float
    same_beats: bool


def compare_beat_forms(model: keras.Model, onnx_path: Path, audio: np.ndarray) -> BeatAgreement:
    """Run the Keras `model` and the ONNX file on the beat features of `audio` (mono, 44.1 kHz)."""
    from_keras = beat_activations(KerasBeatNetwork(model), audio, 44_100)
    from_onnx = beat_activations(_load_onnx(onnx_path), audio, 44_100)
    if (from_keras.tempo is None) != (from_onnx.tempo is None):
        raise ExportMismatchError("the ONNX export and the Keras model disagree on having a tempo output")
    diff = max(
        float(np.max(np.abs(np.asarray(k) - np.asarray(o))))
        for k, o in zip(from_keras, from_onnx, strict=True)
        if k is not None
    )
    a, b = decode(*from_keras), decode(*from_onnx)
    same = bool(np.allclose(a.times, b.times) and np.array_equal(a.positions, b.positions) and a.metres == b.metres)
    return BeatAgreement(frames=len(from_keras.beats), max_abs_diff=diff, same_beats=same)


def convert_beat_model(model: keras.Model, out_path: Path, opset: int = ONNX_OPSET) -> None:
    """Write the beat `model` to `out_path` as ONNX, its input named and its axes batch and frames."""
    import keras
    import onnx

    if tuple(model.input_shape) != (None, None, N_FEATURES):
        raise ExportMismatchError(f"the model takes {model.input_shape}; a beat model takes (None, None, {N_FEATURES})")
    signature = [keras.InputSpec(shape=(None, None, N_FEATURES), dtype="float32", name=INPUT_NAME)]
    with tempfile.TemporaryDirectory(prefix="drumscribe-onnx-") as tmp:
        raw = Path(tmp) / "model.onnx"
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)  # Keras' NumPy-2 patch of tf2onnx
            model.export(str(raw), format="onnx", input_signature=signature, opset_version=opset, verbose=False)
        proto = onnx.load(str(raw))
    graph = proto.graph
    outputs = {o.name for o in graph.output}
    if not has_beat_outputs(outputs):
        raise ExportMismatchError(
            f"the exported graph gives {sorted(outputs)}, not {OUTPUT_BEATS!r} and {OUTPUT_COMPOUND!r} "
            f"(and {OUTPUT_TEMPO!r} or not)"
        )
    renames = {graph.input[0].name: INPUT_NAME}
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
    graph.input[0].name = INPUT_NAME
    for value in (graph.input[0], *graph.output):
        dims = value.type.tensor_type.shape.dim
        dims[0].dim_param, dims[1].dim_param = "batch", "frames"
    onnx.helper.set_model_props(proto, {"kind": KIND, "n_features": str(N_FEATURES)})
    onnx.checker.check_model(proto)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out_path))


def export_beat_onnx(h5_path: Path, opset: int = ONNX_OPSET) -> dict[str, Any]:
    """Export the beat model at `h5_path` to ONNX beside it, checked; returns the recipe entries written.

    Raises ExportMismatchError (and leaves the old file) when the two forms disagree on the check groove.
    """
    import keras

    model = keras.models.load_model(h5_path, compile=False)
    onnx_path = h5_path.with_suffix(".onnx")
    with tempfile.TemporaryDirectory(prefix="drumscribe-onnx-") as tmp:
        candidate = Path(tmp) / onnx_path.name
        convert_beat_model(model, candidate, opset)
        agreement = compare_beat_forms(model, candidate, check_groove_audio())
        if agreement.max_abs_diff > MAX_ABS_DIFF or not agreement.same_beats:
            raise ExportMismatchError(
                f"the ONNX export of {h5_path} differs from the Keras model on the check groove: max abs difference "
                f"{agreement.max_abs_diff:.3g} (limit {MAX_ABS_DIFF:g}), same decoded beats: {agreement.same_beats}; "
                f"{onnx_path} was left as it was"
            )
        write_shipped(onnx_path, candidate.read_bytes())
    return record_export(h5_path, opset, asdict(agreement))
