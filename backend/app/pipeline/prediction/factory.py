"""Pick the predictor that fits the configured model, once per process."""

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

if TYPE_CHECKING:
    import keras


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
        build=frame.FramePredictor,
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

_predictors: dict[tuple[str, str, str, Path], HitPredictor] = {}
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


def build_predictor(model: keras.Model, kind: str = "auto", source: str = "the model") -> HitPredictor:
    """A predictor for `model`: `kind` "auto" recognises it by shape, a named kind must match it."""
    names = [k.name for k in MODEL_KINDS]
    if kind != "auto" and kind not in names:
        raise ModelUnavailableError(
            f"MODEL_KIND={kind!r} is not a model kind this build knows; use 'auto' or one of: {', '.join(names)}"
        )
    detected = detect_model_kind(model, source)
    if kind not in ("auto", detected.name):
        raise ModelUnavailableError(
            f"MODEL_KIND={kind!r}, but {source} looks like {detected.name!r} ({_shapes(model)}); "
            "set MODEL_KIND=auto or point MODEL_URI at a model of that kind"
        )
    return detected.build(model)


def load_predictor(settings: Settings | None = None) -> HitPredictor:
    """The process's predictor for the configured model: fetched, loaded and recognised on first use.

    Worker start-up calls this so the first job does not wait for the download; later calls with the
    same MODEL_KIND, MODEL_URI, MODEL_VERSION and MODEL_CACHE_DIR return the same predictor.
    """
    settings = settings or get_settings()
    key = (settings.MODEL_KIND, settings.MODEL_URI, settings.MODEL_VERSION, Path(settings.MODEL_CACHE_DIR))
    with _predictors_lock:
        if key not in _predictors:
            resolver = get_model_resolver(settings)
            source = f"the model from MODEL_URI={resolver.display_uri} (cached at {resolver.cache_path})"
            _predictors[key] = build_predictor(resolver.get_keras_model(), settings.MODEL_KIND, source)
        return _predictors[key]
