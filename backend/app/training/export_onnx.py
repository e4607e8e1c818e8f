"""Export a drumscribe-frame Keras model to ONNX, check that both forms agree, and record it in the recipe.

    python -m app.training export-onnx [--out path/to/drumscribe_frame.h5]   (default: the bundled model)

Training runs this after it saves the .h5, so a retrained model ships in both forms.

The ONNX file goes beside the .h5 (same name, .onnx), and the recipe JSON beside them gets a
`runtimes` entry per file (file, runtime, opset, sha256). The conversion is Keras' own
`Model.export(format="onnx")`, which drives tf2onnx with Keras' fixes for NumPy 2; it needs the
`train` extra (tf2onnx, onnx), which workers do not install. The graph is then given readable names
(input `log_mel` [batch, frames, 128], output `onsets` [batch, frames, 9]) and the model's kind and
classes as metadata.

Before anything is written, both forms run on a rendered groove (a sampled Hydrogen kit playing rock,
funk, a tom fill and crash/ride bars): their activations must agree within MAX_ABS_DIFF and their
peak-picked hits must be the same strokes. Otherwise the export fails and nothing is replaced.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.pipeline.atomic import atomic_path
from app.pipeline.prediction.frame import (
    CLASSES,
    KIND,
    MODEL_SR,
    N_MELS,
    activations_to_hits,
    frame_activations,
    is_frame_model,
    keras_network,
    peak_scale,
)

if TYPE_CHECKING:
    import keras

    from app.synth.kits import Kit

ONNX_OPSET = 17
"""ONNX opset of the export: supported by every onnxruntime since 1.11 and by tf2onnx 1.17."""

MAX_ABS_DIFF = 1e-4
"""Largest difference of any activation between the two forms; float32 rounding stays near 1e-6."""

INPUT_NAME = "log_mel"
OUTPUT_NAME = "onsets"


class ExportMismatchError(RuntimeError):
    """The ONNX export does not compute what the Keras model computes."""


@dataclass(frozen=True)
class Agreement:
    """How closely the ONNX form followed the Keras form on the check groove."""

    audio_seconds: float
    max_abs_diff: float
    keras_hits: int
    onnx_hits: int
    same_hits: bool


def require_export_tools() -> None:
    """Raise now, not after hours of training, when the converter (the `train` extra) is not installed."""
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            f"exporting the model to ONNX needs tf2onnx and onnx ({exc}); install them with "
            "pip install -e 'backend[train]'"
        ) from exc


def check_groove_audio(kit: Kit | None = None) -> np.ndarray:
    """The check groove, peak-scaled mono float32 at MODEL_SR: rock, funk, a tom fill, crash and ride."""
    from app.synth.grooves import CRASH_AND_RIDE, FUNK_SIXTEENTHS, ROCK_BEAT, TOM_FILL, Groove, groove_from_pattern
    from app.synth.kits import default_sample_kit, render_groove

    events = []
    start = 0.5
    for pattern, bpm, bars in (
        (ROCK_BEAT, 100, 2),
        (FUNK_SIXTEENTHS, 96, 2),
        (TOM_FILL, 120, 1),
        (CRASH_AND_RIDE, 132, 2),
    ):
        part = groove_from_pattern(pattern, bpm=bpm, bars=bars, start_s=start)
        events.extend(part.events)
        start += part.duration_s
    groove = Groove(bpm=100, beats_per_bar=4, bars=7, events=events)
    return peak_scale(render_groove(groove, kit or default_sample_kit(), sr=MODEL_SR))


def compare_forms(model: keras.Model, onnx_path: Path, audio: np.ndarray) -> Agreement:
    """Run `model` and the ONNX file at `onnx_path` on peak-scaled `audio`; how far they differ."""
    import onnxruntime

    from app.pipeline.prediction.onnx_network import OnnxFrameNetwork

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    from_keras = frame_activations(keras_network(model), audio)
    from_onnx = frame_activations(OnnxFrameNetwork(session), audio)
    keras_hits = [(h.time, h.instrument, h.velocity) for h in activations_to_hits(from_keras, audio)]
    onnx_hits = [(h.time, h.instrument, h.velocity) for h in activations_to_hits(from_onnx, audio)]
    return Agreement(
        audio_seconds=round(len(audio) / MODEL_SR, 2),
        max_abs_diff=float(np.max(np.abs(from_keras - from_onnx))),
        keras_hits=len(keras_hits),
        onnx_hits=len(onnx_hits),
        same_hits=keras_hits == onnx_hits,
    )


def convert(model: keras.Model, out_path: Path, opset: int = ONNX_OPSET) -> None:
    """Write `model` (a drumscribe-frame Keras model) to `out_path` as ONNX with readable names."""
    import keras
    import onnx

    if not is_frame_model(model):
        raise ExportMismatchError(
            f"the model has input {model.input_shape} and output {model.output_shape}; only {KIND} models "
            f"(None, None, {N_MELS}) → (None, None, {len(CLASSES)}) are exported to ONNX"
        )
    signature = [keras.InputSpec(shape=(None, None, N_MELS), dtype="float32", name=INPUT_NAME)]
    with tempfile.TemporaryDirectory(prefix="drumscribe-onnx-") as tmp:
        raw = Path(tmp) / "model.onnx"
        with warnings.catch_warnings():
            # Keras' patch of tf2onnx for NumPy 2 touches np.object, which NumPy warns about.
            warnings.filterwarnings("ignore", category=FutureWarning)
            model.export(str(raw), format="onnx", input_signature=signature, opset_version=opset, verbose=False)
        proto = onnx.load(str(raw))
    _rename(proto, INPUT_NAME, OUTPUT_NAME)
    onnx.helper.set_model_props(proto, {"kind": KIND, "classes": ",".join(CLASSES), "n_mels": str(N_MELS)})
    onnx.checker.check_model(proto)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out_path))


def _rename(proto: Any, input_name: str, output_name: str) -> None:
    """Name the graph's one input and output, and their dynamic axes batch and frames."""
    graph = proto.graph
    renames = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    for value in (graph.input[0], graph.output[0]):
        value.name = renames[value.name]
        dims = value.type.tensor_type.shape.dim
        dims[0].dim_param, dims[1].dim_param = "batch", "frames"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file at `path`."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_beside(h5_path: Path, model: keras.Model | None = None, opset: int = ONNX_OPSET) -> dict[str, Any]:
    """Export the .h5 at `h5_path` (or the loaded `model` saved there) to ONNX beside it, checked.

    Returns the recipe's new `runtimes` and `onnx_check` entries, which are also written into the JSON
    beside the model when there is one. Raises ExportMismatchError if the forms disagree.
    """
    import keras

    if model is None:
        model = keras.models.load_model(h5_path, compile=False)
    onnx_path = h5_path.with_suffix(".onnx")
    with tempfile.TemporaryDirectory(prefix="drumscribe-onnx-") as tmp:
        candidate = Path(tmp) / onnx_path.name
        convert(model, candidate, opset)
        agreement = compare_forms(model, candidate, check_groove_audio())
        if agreement.max_abs_diff > MAX_ABS_DIFF or not agreement.same_hits:
            raise ExportMismatchError(
                f"the ONNX export of {h5_path} differs from the Keras model on the check groove: max abs "
                f"difference {agreement.max_abs_diff:.3g} (limit {MAX_ABS_DIFF:g}), {agreement.keras_hits} Keras "
                f"hits against {agreement.onnx_hits} ONNX hits; {onnx_path} was left as it was"
            )
        write_shipped(onnx_path, candidate.read_bytes())
    return record_export(h5_path, opset, asdict(agreement))


def record_export(h5_path: Path, opset: int, check: dict[str, Any]) -> dict[str, Any]:
    """The recipe's `runtimes` and `onnx_check` entries for the .h5 at `h5_path` and its checked .onnx
    beside it (`check`: how the two forms agreed on the check groove), also written into the JSON beside
    the model when there is one."""
    import keras
    import onnxruntime
    import tf2onnx

    onnx_path = h5_path.with_suffix(".onnx")
    entries: dict[str, Any] = {
        "runtimes": [
            {
                "file": onnx_path.name,
                "runtime": "onnxruntime",
                "opset": opset,
                "sha256": sha256_of(onnx_path),
                "default": True,
                "converter": f"keras {keras.__version__} Model.export(format='onnx'), tf2onnx {tf2onnx.__version__}",
                "checked_with": f"onnxruntime {onnxruntime.__version__}",
            },
            {"file": h5_path.name, "runtime": "keras (tensorflow)", "sha256": sha256_of(h5_path), "default": False},
        ],
        "onnx_check": {"groove": "rock, funk, tom fill, crash and ride (Millo_MultiLayered2)", **check},
    }
    recipe = h5_path.with_suffix(".json")
    if recipe.is_file():
        metadata = json.loads(recipe.read_text())
        metadata.update(entries)
        write_shipped(recipe, (json.dumps(metadata, indent=2) + "\n").encode())
    return entries


def write_shipped(path: Path, data: bytes) -> None:
    """Write a file that ships in the package: atomically, and readable by every user (not mkstemp's 0600)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
