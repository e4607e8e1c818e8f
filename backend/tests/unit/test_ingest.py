"""Stage 1 on local files: every format decodes to 44.1 kHz; bad input gets the right error."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.core.config import Settings
from app.core.errors import CorruptAudioError, EmptyAudioError, IngestError, NotAudioError, TooLongError
from app.pipeline.ingest import ingest, probe
from app.pipeline.stages import ingest_audio
from app.pipeline.wav_header import data_overrun
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.conftest import ffmpeg_convert, understated_wav, write_wav


@pytest.fixture(scope="module")
def groove_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=1), SynthKit(sr=48_000), sr=48_000)
    return write_wav(tmp_path_factory.mktemp("src") / "groove.wav", np.stack([audio, audio], axis=1), 48_000)


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mp3", []), (".flac", []), (".ogg", ["-c:a", "libvorbis"]), (".m4a", []), (".opus", [])],
)
def test_decodes_common_formats_to_44k(groove_wav: Path, tmp_path: Path, suffix: str, codec: list[str]) -> None:
    src = ffmpeg_convert(groove_wav, tmp_path / f"song{suffix}", *codec)
    result = ingest(src, tmp_path / "input.wav", max_duration_s=900)
    info = sf.info(tmp_path / "input.wav")
    assert info.samplerate == 44_100
    assert info.channels == 2 == result.channels
    assert result.duration_s == pytest.approx(3.0, abs=0.1)  # one bar at 120 bpm plus a 1 s tail
    assert result.title == "song"


def test_takes_the_audio_of_a_video(groove_wav: Path, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=3", "-i", str(groove_wav),
         "-shortest", "-c:v", "libx264", "-c:a", "aac", str(video)],
        check=True,
    )  # fmt: skip
    result = ingest(video, tmp_path / "input.wav", max_duration_s=900)
    assert result.duration_s == pytest.approx(3.0, abs=0.1)


def test_mono_stays_mono_and_keeps_the_title_tag(tmp_path: Path) -> None:
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=100, bars=1), SynthKit())
    src = ffmpeg_convert(write_wav(tmp_path / "a.wav", audio), tmp_path / "b.flac", "-metadata", "title=Back Beat")
    result = ingest(src, tmp_path / "input.wav", max_duration_s=900)
    assert result.channels == 1
    assert result.title == "Back Beat"


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".mp3", []), (".flac", []), (".ogg", ["-c:a", "libvorbis"]), (".m4a", [])]
)
def test_title_and_artist_come_from_the_tags_not_the_file_name(
    groove_wav: Path, tmp_path: Path, suffix: str, codec: list[str]
) -> None:
    tags = ["-metadata", "title=Back Beat", "-metadata", "artist=The Test Band"]
    src = ffmpeg_convert(groove_wav, tmp_path / f"track_07_final{suffix}", *codec, *tags)
    result = ingest(src, tmp_path / "input.wav", max_duration_s=900, fallback_title="track_07_final")
    assert (result.title, result.artist) == ("Back Beat", "The Test Band")


def test_an_untagged_file_is_named_by_its_upload_name_and_has_no_artist(groove_wav: Path, tmp_path: Path) -> None:
    src = ffmpeg_convert(groove_wav, tmp_path / "upload.mp3", "-map_metadata", "-1")
    result = ingest(src, tmp_path / "input.wav", max_duration_s=900, fallback_title="My Groove")
    assert (result.title, result.artist) == ("My Groove", None)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("verse, chorus, verse\n" * 50)
    with pytest.raises(NotAudioError, match=r"notes\.txt (has no audio track|is not an audio or video file)"):
        ingest(notes, tmp_path / "input.wav", max_duration_s=900)
    assert not (tmp_path / "input.wav").exists()


def test_image_without_sound_has_no_audio_track(tmp_path: Path) -> None:
    image = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1",
                    str(image)], check=True)  # fmt: skip
    with pytest.raises(NotAudioError, match="no audio track"):
        ingest(image, tmp_path / "input.wav", max_duration_s=900)


def test_garbage_with_an_audio_extension_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "song.flac"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptAudioError, match=r"song\.flac .*damaged"):
        ingest(bad, tmp_path / "input.wav", max_duration_s=900)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.touch()
    with pytest.raises(EmptyAudioError, match="empty file"):
        ingest(empty, tmp_path / "input.wav", max_duration_s=900)


def test_silence_is_rejected(tmp_path: Path) -> None:
    silent = write_wav(tmp_path / "silence.wav", np.zeros(44_100 * 2, dtype=np.float32))
    with pytest.raises(EmptyAudioError, match="silent"):
        ingest(silent, tmp_path / "input.wav", max_duration_s=900)
    assert not any(tmp_path.glob("input.wav*")), "nothing half-written may remain"


def test_too_long_is_rejected_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long_song = tmp_path / "long.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:duration=20",
                    str(long_song)], check=True)  # fmt: skip
    decoded: list[object] = []
    monkeypatch.setattr("app.pipeline.ingest.subprocess.run", _spy(decoded))
    with pytest.raises(TooLongError, match=r"0:20 long; the limit is 0:10 \(MAX_DURATION_SECONDS=10\)"):
        ingest(long_song, tmp_path / "input.wav", max_duration_s=10)
    assert not any(cmd[0] == "ffmpeg" for cmd in decoded), "a too-long file must be refused before decoding"


def test_too_long_is_caught_while_decoding_when_the_header_is_silent(tmp_path: Path) -> None:
    # Raw ADTS AAC carries no duration in its header, so only decoding can tell.
    raw = tmp_path / "stream.aac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:duration=6",
                    "-c:a", "aac", "-f", "adts", str(raw)], check=True)  # fmt: skip
    with pytest.raises(TooLongError, match="the limit is 0:04"):
        ingest(raw, tmp_path / "input.wav", max_duration_s=4)


def test_a_wav_whose_header_understates_its_length_is_decoded_whole(tmp_path: Path) -> None:
    take = understated_wav(tmp_path / "take.wav", seconds_declared=1)
    assert float(probe(take)["format"]["duration"]) == pytest.approx(7.0, abs=0.01)
    result = ingest(take, tmp_path / "input.wav", max_duration_s=900)
    assert result.duration_s == pytest.approx(7.0, abs=0.01)
    assert sf.info(tmp_path / "input.wav").duration == pytest.approx(7.0, abs=0.01)


def test_a_wav_whose_header_understates_its_length_is_held_to_the_limit_by_its_real_length(tmp_path: Path) -> None:
    take = understated_wav(tmp_path / "take.wav", seconds_declared=1)
    with pytest.raises(TooLongError, match=r"take.wav is 0:07 long; the limit is 0:04"):
        ingest(take, tmp_path / "input.wav", max_duration_s=4)


def test_metadata_after_the_audio_is_not_taken_for_audio(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "tagged.wav", np.full(44_100, 0.5, dtype=np.float32))
    info_chunk = b"INFOINAM" + struct.pack("<I", 5) + b"Song\0\0"
    data = bytearray(song.read_bytes()) + b"LIST" + struct.pack("<I", len(info_chunk)) + info_chunk
    data[4:8] = struct.pack("<I", len(data) - 8)
    song.write_bytes(bytes(data))
    assert data_overrun(song) is None
    assert ingest(song, tmp_path / "input.wav", max_duration_s=900).duration_s == pytest.approx(1.0, abs=1e-4)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest(tmp_path / "nope.mp3", tmp_path / "input.wav", max_duration_s=900)


def _spy(calls: list[object]):  # type: ignore[no-untyped-def]
    real = subprocess.run

    def run(cmd, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(cmd)
        return real(cmd, *args, **kwargs)

    return run


@pytest.mark.parametrize("channels", [1, 2])
def test_the_stage_keeps_the_song_as_16_bit_pcm_beside_the_float_working_copy(
    tmp_path: Path, settings: Settings, channels: int
) -> None:
    groove = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=1), SynthKit())
    loud = 1.3 * groove / np.max(np.abs(groove))  # past full scale: a float file may hold that
    source = tmp_path / "take.wav"
    sf.write(source, loud if channels == 1 else np.stack([loud, 0.5 * loud], axis=1), 44_100, subtype="FLOAT")
    work = tmp_path / "work"
    work.mkdir()

    ingest_audio(source, work, settings=settings)

    working, song = sf.info(work / "input.wav"), sf.info(work / "song.wav")
    assert (song.subtype, working.subtype) == ("PCM_16", "FLOAT")
    assert (song.samplerate, song.channels, song.frames) == (44_100, channels, working.frames)
    decoded, _ = sf.read(work / "input.wav", dtype="float32", always_2d=True)
    listened, _ = sf.read(work / "song.wav", dtype="float32", always_2d=True)
    # Sample-aligned with the working copy, to 16-bit rounding; overshoot is clipped, not wrapped around.
    assert np.max(np.abs(listened - np.clip(decoded, -1, 1))) <= 1 / 32768
    assert listened[np.argmax(decoded[:, 0]), 0] > 0.99
