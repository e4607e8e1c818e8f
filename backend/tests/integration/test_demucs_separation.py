"""Demucs separation through the real loader and runner, with a tiny HTDemucs built here (no network).

The tiny model has random weights, so its "drums" are noise-like; what the tests check is the plumbing
that the real weights go through: the local-repo layout, chunked streaming, channel handling, caching
and errors. A random network is very sensitive to how the song is cut, which makes the comparison with
demucs' own single pass a strict test of the chunking.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from demucs.apply import apply_model
from demucs.pretrained import get_model

from app.core.config import Settings
from app.core.errors import SeparatorUnavailableError
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation import SeparationResult, demucs_weights, preload_separator, separate
from app.pipeline.separation.demucs_runner import separate_demucs
from app.pipeline.separation.demucs_weights import load_demucs_model, seed_demucs_weights
from app.pipeline.separation.windows import StemSinks
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.integration.tiny_demucs import SOURCES, save_tiny_model

pytestmark = pytest.mark.integration

PCM16_STEP = 1 / 32768


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("demucs")
    save_tiny_model(repo, "tiny", "0a1b2c3d")
    return repo


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """7 s of stereo: drums with a different tone in each channel."""
    drums = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=4), SynthKit())[: 7 * SAMPLE_RATE]
    t = np.arange(drums.size) / SAMPLE_RATE
    mix = np.stack([drums + 0.2 * np.sin(2 * np.pi * 220 * t), 0.8 * drums + 0.2 * np.sin(2 * np.pi * 330 * t)], 1)
    path = tmp_path_factory.mktemp("clip") / "input.wav"
    sf.write(path, mix.astype(np.float32), SAMPLE_RATE, subtype="FLOAT")
    return path, mix.astype(np.float32)


def tiny_settings(repo: Path, chunk_seconds: float = 2.5, name: str = "tiny") -> Settings:
    return Settings(
        MODEL_CACHE_DIR=repo.parent / "cache",
        DEMUCS_MODEL=name,
        DEMUCS_REPO=repo,
        DEMUCS_CHUNK_SECONDS=chunk_seconds,
        SEPARATOR="demucs",
    )


def single_pass(repo: Path, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demucs' own way: the whole clip normalised and through apply_model at once; the drums and the sum of
    the other sources (the mean added back once, to the drums), each (frames, channels)."""
    model = get_model("tiny", repo=repo)
    wav = torch.from_numpy(np.ascontiguousarray(mix.T))
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std() + 1e-8
    with torch.inference_mode():
        estimates = apply_model(model, ((wav - mean) / std)[None], shifts=0, split=True, overlap=0.25)[0]
    drums = model.sources.index("drums")
    others = [i for i in range(len(model.sources)) if i != drums]
    return (estimates[drums] * std + mean).numpy().T, (estimates[others].sum(0) * std).numpy().T


def single_pass_drums(repo: Path, mix: np.ndarray) -> np.ndarray:
    """The drums of `single_pass`."""
    return single_pass(repo, mix)[0]


class Splitter(torch.nn.Module):
    """A stand-in for a perfect separator: hands each source a fixed share of the (normalised) mix, so the
    sources add up to the mix exactly, as a trained model's nearly do."""

    samplerate = SAMPLE_RATE
    segment = 2.0
    audio_channels = 2
    sources = SOURCES
    shares = torch.tensor([0.4, 0.3, 0.2, 0.1])

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        return self.shares[None, :, None, None] * mix[:, None]


def test_chunked_demucs_matches_one_pass(tmp_path: Path, tiny_repo: Path, clip: tuple[Path, np.ndarray]) -> None:
    source, mix = clip
    out_path = tmp_path / "drums.wav"
    progress: list[float] = []

    result = separate(source, out_path, separator="demucs", settings=tiny_settings(tiny_repo), progress=progress.append)

    assert result == SeparationResult(separator="demucs", model="tiny")
    info = sf.info(out_path)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (SAMPLE_RATE, 2, mix.shape[0], "PCM_16")
    out, _ = sf.read(out_path, dtype="float32")
    assert np.isfinite(out).all()
    expected = np.clip(single_pass_drums(tiny_repo, mix), -1, 1)
    assert np.abs(expected).max() > 100 * PCM16_STEP  # a real signal to compare, not silence
    # Equal to 16-bit rounding everywhere, seams between chunks and the clip's ends included.
    assert np.max(np.abs(out - expected)) < 2 * PCM16_STEP
    assert progress == sorted(progress)
    assert progress[-1] == pytest.approx(1.0)


def test_the_band_is_demucs_other_sources_sample_aligned_with_the_drums(
    tmp_path: Path, tiny_repo: Path, clip: tuple[Path, np.ndarray]
) -> None:
    source, mix = clip
    drums_path, band_path = tmp_path / "drums.wav", tmp_path / "band.wav"

    separate(source, drums_path, separator="demucs", settings=tiny_settings(tiny_repo), band_wav=band_path)

    info = sf.info(band_path)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (SAMPLE_RATE, 2, mix.shape[0], "PCM_16")
    drums, band = (sf.read(path, dtype="float32")[0] for path in (drums_path, band_path))
    expected_drums, expected_band = (np.clip(x, -1, 1) for x in single_pass(tiny_repo, mix))
    assert np.abs(expected_band).max() > 100 * PCM16_STEP
    # Both stems equal demucs' single pass to 16-bit rounding, at every sample: seams and ends included.
    assert np.max(np.abs(drums - expected_drums)) < 2 * PCM16_STEP
    assert np.max(np.abs(band - expected_band)) < 2 * PCM16_STEP


def test_with_a_perfect_separator_drums_and_band_add_up_to_the_song(
    tmp_path: Path, clip: tuple[Path, np.ndarray]
) -> None:
    source, mix = clip
    drums_path, band_path = tmp_path / "drums.wav", tmp_path / "band.wav"

    with (
        sf.SoundFile(source) as src,
        sf.SoundFile(drums_path, "w", samplerate=SAMPLE_RATE, channels=2, subtype="PCM_16") as drums_sink,
        sf.SoundFile(band_path, "w", samplerate=SAMPLE_RATE, channels=2, subtype="PCM_16") as band_sink,
    ):
        separate_demucs(src, StemSinks(drums_sink, band_sink, 2), Splitter(), chunk_seconds=2.5, with_band=True)

    drums, band = (sf.read(path, dtype="float32")[0] for path in (drums_path, band_path))
    assert drums.shape == band.shape == mix.shape
    assert np.max(np.abs(drums - 0.4 * mix)) < 0.01  # the mean goes back to the drums alone
    assert np.max(np.abs(drums + band - mix)) < 3 * PCM16_STEP
    assert np.max(np.abs(drums[1:] + band[:-1] - mix[1:])) > 100 * PCM16_STEP


def test_mono_in_mono_out(tmp_path: Path, tiny_repo: Path, clip: tuple[Path, np.ndarray]) -> None:
    _, mix = clip
    mono = mix[: 3 * SAMPLE_RATE].mean(axis=1)
    source = tmp_path / "mono.wav"
    sf.write(source, mono, SAMPLE_RATE, subtype="FLOAT")

    separate(source, tmp_path / "drums.wav", separator="demucs", settings=tiny_settings(tiny_repo))

    out, sr = sf.read(tmp_path / "drums.wav", dtype="float32")
    assert sr == SAMPLE_RATE
    assert out.shape == mono.shape
    # Mono goes in as two equal channels, so the drums come out as the average of the stereo result.
    expected = single_pass_drums(tiny_repo, np.stack([mono, mono], axis=1)).mean(axis=1)
    assert np.max(np.abs(out - np.clip(expected, -1, 1))) < 2 * PCM16_STEP


def test_model_is_loaded_once_per_process(tiny_repo: Path) -> None:
    settings = tiny_settings(tiny_repo)
    preload_separator(settings, allow_download=False)
    assert load_demucs_model(settings, allow_download=False) is load_demucs_model(settings)


@pytest.mark.parametrize("repo_exists", [True, False])
def test_missing_model_says_how_to_seed(
    tmp_path: Path, clip: tuple[Path, np.ndarray], monkeypatch: pytest.MonkeyPatch, repo_exists: bool
) -> None:
    repo = tmp_path / "empty"
    if repo_exists:
        repo.mkdir()
    out_path = tmp_path / "drums.wav"
    started = time.monotonic()
    with pytest.raises(SeparatorUnavailableError) as error:
        separate(
            clip[0], out_path, separator="demucs", settings=tiny_settings(repo, name="htdemucs"), allow_download=False
        )
    message = str(error.value)
    for part in (
        "htdemucs",
        str(repo),
        "scripts/download_models.sh",
        "MODEL_CACHE_DIR/demucs",
        "DEMUCS_REPO",
        "SEPARATOR=hpss",
    ):
        assert part in message
    assert not out_path.exists()

    # The standard offline switch also keeps the default (download allowed) from touching the network.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SeparatorUnavailableError, match=r"download_models\.sh"):
        preload_separator(tiny_settings(repo, name="htdemucs"))
    assert time.monotonic() - started < 5


def test_model_without_drums_is_refused(tmp_path: Path) -> None:
    save_tiny_model(tmp_path, "nodrums", "9f8e7d6c", sources=["vocals", "accompaniment"])
    with pytest.raises(SeparatorUnavailableError, match="no 'drums' source"):
        load_demucs_model(tiny_settings(tmp_path, name="nodrums"), allow_download=False)


def test_seeding_uses_the_local_repo_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def fake_download(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
        fetched.append(url)
        assert hash_prefix and Path(dst).stem.endswith(hash_prefix)
        Path(dst).write_bytes(b"weights")

    monkeypatch.setattr(demucs_weights.torch.hub, "download_url_to_file", fake_download)
    repo = tmp_path / "models" / "demucs"

    seed_demucs_weights("htdemucs", repo)

    bag = yaml.safe_load((repo / "htdemucs.yaml").read_text())
    assert sorted(p.name for p in repo.iterdir()) == sorted(["htdemucs.yaml", *(Path(u).name for u in fetched)])
    assert [Path(u).name.split("-")[0] for u in fetched] == bag["models"]
