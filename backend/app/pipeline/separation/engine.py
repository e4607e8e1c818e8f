"""The separate_drums stage: turn the ingested mix into a drums-only WAV.

torch, demucs and librosa are imported only when a separator needs them: the API process imports the
pipeline's stages but never separates, and should not pay seconds of start-up and memory for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from app.core.config import Settings
from app.core.errors import SeparationError
from app.core.logging import get_logger
from app.pipeline.atomic import atomic_path
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation.auto import SeparatorReason, choose_separator
from app.pipeline.separation.weights_folder import has_local_model
from app.pipeline.separation.windows import Sink, StemSinks, process_in_windows

log = get_logger(__name__)

SEPARATORS = ("auto", "demucs", "hpss", "none")
OUTPUT_SUBTYPE = "PCM_16"
"""16-bit PCM: half the size of float for downloads; its rounding noise (-96 dB) is far below the drums."""
COPY_CHUNK_SECONDS = 30.0


@dataclass(frozen=True)
class SeparationResult:
    """What ran (never "auto": what auto chose), why, and for Demucs the model's name."""

    separator: str
    model: str | None = None
    reason: SeparatorReason = "chosen explicitly"


def preload_separator(settings: Settings, *, allow_download: bool = True) -> None:
    """Load what SEPARATOR needs once, at worker start-up, so the first job does not pay for it.

    SEPARATOR=auto loads Demucs only when its weights are in the weights folder: a download, or the
    decision that there is none, is left to the first job. Raises SeparatorUnavailableError when
    SEPARATOR=demucs and its weights cannot be had, or auto's weights are there but do not load.
    """
    if settings.SEPARATOR == "demucs" or (settings.SEPARATOR == "auto" and has_local_model(settings)):
        from app.pipeline.separation.demucs_weights import load_demucs_model

        _set_threads(settings)
        load_demucs_model(settings, allow_download=allow_download and settings.SEPARATOR == "demucs")


def separate(
    input_wav: Path,
    output_wav: Path,
    *,
    separator: str,
    settings: Settings,
    band_wav: Path | None = None,
    progress: Callable[[float], None] | None = None,
    allow_download: bool = True,
) -> SeparationResult:
    """Write the drums of `input_wav` (44.1 kHz WAV) to `output_wav` as a 16-bit WAV with the same channels.

    `separator` is "auto" (see `choose_separator`), "demucs", "hpss" or "none" (a plain copy). With
    `band_wav`, the rest of the song is written there too, in the same format and sample-aligned with the
    drums, by the separators that produce it: Demucs (the sum of its other sources) and HPSS (the harmonic
    part); `none` writes no band. `progress` receives fractions from 0 to 1. With `allow_download` false,
    Demucs weights must already be in `settings.demucs_repo`. Each output appears complete or not at all.
    Raises SeparationError (SeparatorUnavailableError when a separator named explicitly cannot run here);
    only "auto" falls back, to "none".
    """
    reason: SeparatorReason = "chosen explicitly"
    model_name: str | None = None
    started = time.monotonic()
    try:
        if separator not in SEPARATORS:
            raise SeparationError(
                f"Unknown separator '{separator}'; choose one of {', '.join(SEPARATORS)} (SEPARATOR)."
            )
        if separator == "auto":
            choice = choose_separator(settings, allow_download=allow_download)
            separator, reason = choice.separator, choice.reason
        model_name = settings.DEMUCS_MODEL if separator == "demucs" else None
        model = None
        if separator == "demucs":
            from app.pipeline.separation.demucs_weights import load_demucs_model

            _set_threads(settings)
            model = load_demucs_model(settings, allow_download=allow_download)
        with sf.SoundFile(input_wav) as src:
            _check_input(src, input_wav)
            log.info(
                "separation_start",
                separator=separator,
                reason=reason,
                model=model_name,
                duration_s=round(src.frames / src.samplerate, 3),
            )
            with ExitStack() as files:
                sink: Sink = files.enter_context(_output(output_wav, src.channels))
                band = band_wav if separator != "none" else None
                if band is not None:
                    sink = StemSinks(sink, files.enter_context(_output(band, src.channels)), src.channels)
                if model is not None:
                    from app.pipeline.separation.demucs_runner import separate_demucs

                    separate_demucs(
                        src,
                        sink,
                        model,
                        chunk_seconds=settings.DEMUCS_CHUNK_SECONDS,
                        with_band=band is not None,
                        progress=progress,
                    )
                elif separator == "hpss":
                    from app.pipeline.separation.hpss import separate_hpss

                    separate_hpss(src, sink, with_band=band is not None, progress=progress)
                else:
                    hop = round(COPY_CHUNK_SECONDS * SAMPLE_RATE)
                    process_in_windows(src, sink, lambda block: block, hop=hop, context=0, progress=progress)
    except SeparationError as exc:
        log.error("separation_failed", error=str(exc), separator=separator, model=model_name)
        raise
    except (OSError, sf.SoundFileError) as exc:
        error = SeparationError(f"Could not read {input_wav} or write {output_wav}: {exc}")
        log.error("separation_failed", error=str(error), separator=separator, model=model_name)
        raise error from exc
    log.info(
        "separation_done",
        separator=separator,
        model=model_name,
        elapsed_s=round(time.monotonic() - started, 2),
    )
    return SeparationResult(separator=separator, model=model_name, reason=reason)


@contextmanager
def _output(path: Path, channels: int) -> Iterator[sf.SoundFile]:
    """A 16-bit WAV being written at `path`, renamed into place only when the block succeeds."""
    with (
        atomic_path(path) as tmp,
        # The temporary name ends in .part, so the format cannot be guessed from it.
        sf.SoundFile(tmp, "w", samplerate=SAMPLE_RATE, channels=channels, subtype=OUTPUT_SUBTYPE, format="WAV") as f,
    ):
        yield f


def _set_threads(settings: Settings) -> None:
    if settings.DEMUCS_THREADS > 0:
        import torch

        torch.set_num_threads(settings.DEMUCS_THREADS)


def _check_input(src: sf.SoundFile, path: Path) -> None:
    if src.samplerate != SAMPLE_RATE:
        raise SeparationError(f"{path} is at {src.samplerate} Hz; separation expects {SAMPLE_RATE} Hz.")
    if src.frames == 0:
        raise SeparationError(f"{path} holds no audio.")
