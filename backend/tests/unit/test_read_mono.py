"""Reading drums.wav as mono, block by block (app.pipeline.stages.read_mono)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.pipeline import stages


@pytest.mark.parametrize("channels", [1, 2])
def test_blocks_average_to_the_same_mono_as_a_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channels: int
) -> None:
    monkeypatch.setattr(stages, "_READ_BLOCK_FRAMES", 1000)  # a file of several blocks and a partial one
    audio = np.random.default_rng(channels).uniform(-0.5, 0.5, (4321, channels)).astype(np.float32)
    path = tmp_path / "drums.wav"
    sf.write(path, audio, 22_050, subtype="FLOAT")
    mono, sr = stages.read_mono(path)
    assert sr == 22_050 and mono.dtype == np.float32 and mono.shape == (4321,)
    np.testing.assert_allclose(mono, audio.mean(axis=1), atol=1e-7)
