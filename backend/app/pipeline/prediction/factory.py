"""Pick the predictor that fits the configured model, once per process.

A .onnx MODEL_URI (the bundled model's default) runs in onnxruntime and must be a drumscribe-frame
model; a Keras .h5 runs in TensorFlow, whose kind is recognised from its shapes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.config import Settings, get_settings
from app.core.errors import ModelUnavailableError
from app.pipeline.models.resolver import get_model_resolver
from app.pipeline.prediction import annoteator, frame
from app.pipeline.prediction.base import HitPredictor
from app.pipeline.prediction.onnx_network import OnnxFrameNetwork, describe_session, is_frame_session

if TYPE_CHECKING:
    import keras
    import onnxruntime


@dataclass(frozen=True)
class ModelKind:
    """A kind of drum-hit model: how to recognise a loaded Keras model of it, and its predictor."""

    name: str
    description: str
    matches: Callable[[keras.Model], bool]
    build: Callable[[keras.Model], HitPredictor]


MODEL_KINDS: tuple[ModelKind, ...] = (
    ModelKind(
        name=frame.KIND,
        description=f"a frame-level model taking (None, None, {frame.N_MELS}) log-mel frames with "
        f"{len(frame.CLASSES)} sigmoid outputs per frame, like DrumScribe's bundled drumscribe_frame.h5",
        matches=frame.is_frame_model,
        build=lambda model: frame.FramePredictor(frame.keras_network(model)),
    ),
    ModelKind(
        name=annoteator.KIND,
        description="an onset classifier taking (None, 128, 18, 1) mel clips with 6 sigmoid outputs, "
        "like AnNOTEator's complete_network.h5",
        matches=annoteator.is_annoteator_model,
        build=annoteator.AnnoteatorPredictor,
    ),
)
"""Every model kind this build can run, tried in order by MODEL_KIND=auto."""

_predictors: dict[tuple[str, str, str, Path, int], HitPredictor] = {}
_predictors_lock = threading.Lock()


def _describe_supported() -> str:
    return "; ".join(f"{kind.name}: {kind.description}" for kind in MODEL_KINDS)


def _shapes(model: keras.Model) -> str:
    try:
        return f"input {model.input_shape}, output {model.output_shape}"
    except (AttributeError, ValueError):
        return "no known input or output shape"


def detect_model_kind(model: keras.Model, source: str = "the model") -> ModelKind:
    """The kind of `model`, from its input and output shapes; ModelUnavailableError if none fits."""
    for kind in MODEL_KINDS:
        if kind.matches(model):
            return kind
    raise ModelUnavailableError(
        f"{source} has {_shapes(model)}, which matches no supported model kind. "
        f"Supported kinds: {_describe_supported()}. Point MODEL_URI at such a model."
    )


def _check_kind_name(kind: str) -> None:
    names = [k.name for k in MODEL_KINDS]
    if kind != "auto" and kind not in names:
        raise ModelUnavailableError(
            f"MODEL_KIND={kind!r} is not a model kind this build knows; use 'auto' or one of: {', '.join(names)}"
        )


def build_predictor(model: keras.Model, kind: str = "auto", source: str = "the model") -> HitPredictor:
    """A predictor for `model`: `kind` "auto" recognises it by shape, a named kind must match it."""
    _check_kind_name(kind)
    detected = detect_model_kind(model, source)
    if kind not in ("auto", detected.name):
        raise ModelUnavailableError(
            f"MODEL_KIND={kind!r}, but {source} looks like {detected.name!r} ({_shapes(model)}); "
            "set MODEL_KIND=auto or point MODEL_URI at a model of that kind"
        )
    return detected.build(model)


def build_onnx_predictor(
    session: onnxruntime.InferenceSession, kind: str = "auto", source: str = "the model"
) -> HitPredictor:
    """A predictor for an ONNX model's `session`; only drumscribe-frame models run from ONNX."""
    _check_kind_name(kind)
    if kind not in ("auto", frame.KIND):
        raise ModelUnavailableError(
            f"MODEL_KIND={kind!r}, but {source} is an ONNX model, and only {frame.KIND!r} models run from ONNX; "
            f"point MODEL_URI at the {kind} model's Keras .h5, or set MODEL_KIND=auto"
        )
    if not is_frame_session(session):
        raise ModelUnavailableError(
            f"{source} is an ONNX model with {describe_session(session)}, which is not a {frame.KIND} model "
            f"(one float input (batch, frames, {frame.N_MELS}), one output (batch, frames, {len(frame.CLASSES)}), "
            "batch and frames dynamic); export it with `python -m app.training export-onnx`, or point MODEL_URI "
            "at a Keras .h5"
        )
    return frame.FramePredictor(OnnxFrameNetwork(session))


def load_predictor(settings: Settings | None = None) -> HitPredictor:
    """The process's predictor for the configured model: fetched, loaded and recognised on first use.

    Worker start-up calls this so the first job does not wait for the download; later calls with the
    same MODEL_KIND, MODEL_URI, MODEL_VERSION, MODEL_CACHE_DIR and MODEL_THREADS return the same predictor.
    """
    settings = settings or get_settings()
    key = (
        settings.MODEL_KIND,
        settings.MODEL_URI,
        settings.MODEL_VERSION,
        Path(settings.MODEL_CACHE_DIR),
        settings.MODEL_THREADS,
    )
    with _predictors_lock:
        if key not in _predictors:
            resolver = get_model_resolver(settings)
            source = f"the model from MODEL_URI={resolver.display_uri} (cached at {resolver.cache_path})"
            if resolver.model_format == "onnx":
                session = resolver.get_onnx_session(settings.MODEL_THREADS)
                _predictors[key] = build_onnx_predictor(session, settings.MODEL_KIND, source)
            else:
                _predictors[key] = build_predictor(resolver.get_keras_model(), settings.MODEL_KIND, source)
        return _predictors[key]
