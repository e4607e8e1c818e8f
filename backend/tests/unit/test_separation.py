"""The separation engine with the weight-free separators: HPSS and the plain copy."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
from structlog.testing import capture_logs

from app.core.config import Settings
from app.core.errors import SeparationError
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation import SEPARATORS, SeparationResult, separate
from app.pipeline.separation import hpss as hpss_module
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove

TONE_HZ = 440.0
PCM16_STEP = 1 / 32768


@pytest.fixture(scope="module")
def drums() -> np.ndarray:
    """Two bars of a rock beat at 120 bpm from the synthesized kit (5 s, mono)."""
    return render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2), SynthKit())


def tone(n: int, amplitude: float = 0.3) -> np.ndarray:
    """A steady sine: the harmonic part HPSS should remove."""
    return (amplitude * np.sin(2 * np.pi * TONE_HZ * np.arange(n) / SAMPLE_RATE)).astype(np.float32)


def band_energy(x: np.ndarray, hz: float, width_hz: float = 5.0) -> float:
    """Energy of `x` within `width_hz` of `hz`."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    return float(spectrum[np.abs(freqs - hz) < width_hz].sum())


def write(path: Path, audio: np.ndarray, subtype: str = "FLOAT") -> Path:
    sf.write(path, audio, SAMPLE_RATE, subtype=subtype)
    return path


def test_hpss_keeps_the_drums_and_removes_a_tone(tmp_path: Path, settings: Settings, drums: np.ndarray) -> None:
    mix = drums + tone(drums.size)
    out_path = tmp_path / "drums.wav"

    result = separate(write(tmp_path / "in.wav", mix), out_path, separator="hpss", settings=settings)

    assert result == SeparationResult(separator="hpss", model=None)
    out, sr = sf.read(out_path, dtype="float32")
    assert sr == SAMPLE_RATE
    assert out.shape == mix.shape
    assert sf.info(out_path).subtype == "PCM_16"
    # The tone loses more than 40 dB, while most of the drum signal is still there.
    assert band_energy(out, TONE_HZ) < 1e-4 * band_energy(mix, TONE_HZ)
    assert np.dot(out, drums) / np.dot(drums, drums) > 0.5
    # Every stroke still starts a clear onset where it was played.
    strokes = np.unique([e.time for e in groove_from_pattern(ROCK_BEAT, bpm=120, bars=2).events])
    onsets = librosa.onset.onset_detect(y=out, sr=SAMPLE_RATE, units="time", backtrack=False)
    found = [np.min(np.abs(onsets - t)) < 0.03 for t in strokes]
    assert np.mean(found) >= 0.9


def test_none_copies_the_audio(tmp_path: Path, settings: Settings) -> None:
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, size=(SAMPLE_RATE * 2, 2)).astype(np.float32)
    out_path = tmp_path / "drums.wav"

    result = separate(write(tmp_path / "in.wav", audio), out_path, separator="none", settings=settings)

    assert result == SeparationResult(separator="none", model=None)
    out, sr = sf.read(out_path, dtype="float32")
    assert sr == SAMPLE_RATE
    assert out.shape == audio.shape
    assert np.max(np.abs(out - audio)) <= PCM16_STEP


def test_chunked_hpss_equals_one_pass_with_no_seams(
    tmp_path: Path, settings: Settings, drums: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hpss_module, "CHUNK_SECONDS", 1.0)
    n = drums.size  # 5 s: five chunks and a short last one
    mix = np.stack([drums + tone(n), 0.7 * drums + tone(n, 0.2)], axis=1)
    out_path = tmp_path / "drums.wav"
    progress: list[float] = []

    separate(write(tmp_path / "in.wav", mix), out_path, separator="hpss", settings=settings, progress=progress.append)

    out, _ = sf.read(out_path, dtype="float32")
    assert out.shape == mix.shape
    whole = np.clip(hpss_module.percussive(np.ascontiguousarray(mix.T)).T, -1, 1)
    assert np.max(np.abs(out - whole)) < 2 * PCM16_STEP
    # No step at any cut: the sample-to-sample change there is the one-pass change.
    hop = round(SAMPLE_RATE / hpss_module.HOP_LENGTH) * hpss_module.HOP_LENGTH  # 1 s in whole STFT hops
    for cut in range(hop, n, hop):
        assert np.allclose(out[cut] - out[cut - 1], whole[cut] - whole[cut - 1], atol=2 * PCM16_STEP)
    assert progress == sorted(progress)
    assert progress[-1] == pytest.approx(1.0)
    assert len(progress) >= 5


def test_mono_stays_mono_and_stereo_stays_stereo(tmp_path: Path, settings: Settings, drums: np.ndarray) -> None:
    for channels in (1, 2):
        audio = drums if channels == 1 else np.stack([drums, drums], axis=1)
        out_path = tmp_path / f"drums{channels}.wav"
        separate(write(tmp_path / f"in{channels}.wav", audio), out_path, separator="hpss", settings=settings)
        assert sf.info(out_path).channels == channels
        assert sf.info(out_path).frames == drums.size


def test_unknown_separator_names_the_choices(tmp_path: Path, settings: Settings, drums: np.ndarray) -> None:
    out_path = tmp_path / "drums.wav"
    with capture_logs() as logs, pytest.raises(SeparationError) as error:
        separate(write(tmp_path / "in.wav", drums), out_path, separator="spleeter", settings=settings)
    for name in SEPARATORS:
        assert name in str(error.value)
    assert not out_path.exists()
    assert [log["event"] for log in logs] == ["separation_failed"]
    assert "spleeter" in logs[0]["error"]


def test_wrong_sample_rate_is_refused(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "in.wav"
    sf.write(source, np.zeros(22_050, dtype=np.float32), 22_050)
    with pytest.raises(SeparationError, match="44100"):
        separate(source, tmp_path / "drums.wav", separator="hpss", settings=settings)


def test_missing_input_is_a_separation_error(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(SeparationError, match=r"missing\.wav"):
        separate(tmp_path / "missing.wav", tmp_path / "drums.wav", separator="none", settings=settings)


def test_logs_the_start_with_duration(tmp_path: Path, settings: Settings, drums: np.ndarray) -> None:
    with capture_logs() as logs:
        separate(write(tmp_path / "in.wav", drums), tmp_path / "drums.wav", separator="none", settings=settings)
    start = next(log for log in logs if log["event"] == "separation_start")
    assert start["separator"] == "none"
    assert start["model"] is None
    assert start["duration_s"] == pytest.approx(drums.size / SAMPLE_RATE, abs=1e-3)


class Cancelled(Exception):
    """Raised by a progress callback, as a cancelled job would."""


def test_failure_midway_leaves_no_file(
    tmp_path: Path, settings: Settings, drums: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hpss_module, "CHUNK_SECONDS", 1.0)
    source = write(tmp_path / "in.wav", drums)
    out_path = tmp_path / "out" / "drums.wav"

    def cancel_after_first_chunk(fraction: float) -> None:
        if fraction > 0.1:
            raise Cancelled

    with pytest.raises(Cancelled):
        separate(source, out_path, separator="hpss", settings=settings, progress=cancel_after_first_chunk)

    assert list(out_path.parent.iterdir()) == []  # neither drums.wav nor a temporary part


def test_hpss_writes_the_rest_of_the_song_as_the_band_sample_aligned_with_the_drums(
    tmp_path: Path, settings: Settings, drums: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hpss_module, "CHUNK_SECONDS", 1.0)  # several cross-faded cuts
    n = drums.size
    mix = np.stack([0.5 * drums + tone(n), 0.4 * drums + tone(n, 0.2)], axis=1)
    drums_path, band_path = tmp_path / "drums.wav", tmp_path / "band.wav"

    separate(write(tmp_path / "in.wav", mix), drums_path, separator="hpss", settings=settings, band_wav=band_path)

    assert sf.info(band_path).subtype == "PCM_16"
    separated, _ = sf.read(drums_path, dtype="float32")
    band, _ = sf.read(band_path, dtype="float32")
    assert band.shape == separated.shape == mix.shape
    # Sample by sample the two stems add up to the song, to 16-bit rounding: a stem one sample off would
    # leave the drums' attacks in the difference.
    assert np.max(np.abs(separated + band - mix)) < 3 * PCM16_STEP
    assert np.max(np.abs(separated[1:] + band[:-1] - mix[1:])) > 100 * PCM16_STEP
    # The band is the harmonic part: it carries the tone, and less of the drums than the drum stem does.
    assert band_energy(band[:, 0], TONE_HZ) > 0.9 * band_energy(mix[:, 0], TONE_HZ)
    assert np.dot(band[:, 0], drums) < np.dot(separated[:, 0], drums)


def test_the_plain_copy_writes_no_band(tmp_path: Path, settings: Settings, drums: np.ndarray) -> None:
    band_path = tmp_path / "band.wav"
    source = write(tmp_path / "in.wav", drums)
    separate(source, tmp_path / "drums.wav", separator="none", settings=settings, band_wav=band_path)
    assert (tmp_path / "drums.wav").is_file() and not band_path.exists()


def test_failure_midway_leaves_neither_stem(
    tmp_path: Path, settings: Settings, drums: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hpss_module, "CHUNK_SECONDS", 1.0)
    out = tmp_path / "out"

    def cancel_after_first_chunk(fraction: float) -> None:
        if fraction > 0.1:
            raise Cancelled

    with pytest.raises(Cancelled):
        separate(
            write(tmp_path / "in.wav", drums),
            out / "drums.wav",
            separator="hpss",
            settings=settings,
            band_wav=out / "band.wav",
            progress=cancel_after_first_chunk,
        )
    assert list(out.iterdir()) == []
