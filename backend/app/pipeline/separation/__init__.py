"""Drum separation: the engine of the separate_drums stage.

`separate` turns a 44.1 kHz mix into a drums-only WAV with Demucs, harmonic–percussive separation or a
plain copy, streaming the song so memory stays flat however long it is. `preload_separator` loads the
Demucs weights at worker start-up. Seeding a weights folder (`seed_demucs_weights`) and the model cache
(`load_demucs_model`) live in `app.pipeline.separation.demucs_weights`, which imports torch and demucs.
"""

from app.pipeline.separation.engine import SEPARATORS, SeparationResult, preload_separator, separate

__all__ = ["SEPARATORS", "SeparationResult", "preload_separator", "separate"]
