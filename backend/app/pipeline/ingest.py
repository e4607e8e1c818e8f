"""Stage 1 engine: turn a file or a link into 44.1 kHz audio, or say clearly why not.

Files are probed with ffprobe before anything is decoded, so a 3-hour video is turned away at once;
links go through yt-dlp's Python API, audio only, with the duration checked before the download, and
only to public addresses (`link_safety`, enforced on every connection by `connect_guard`).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import soundfile as sf

from app.core.errors import (
    CorruptAudioError,
    EmptyAudioError,
    IngestError,
    NotAudioError,
    TooLongError,
    UnreachableURLError,
    UnsupportedSiteError,
    mmss,
)
from app.core.logging import get_logger
from app.pipeline.atomic import atomic_path
from app.pipeline.connect_guard import ConnectGuard
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.link_safety import IPNetwork, check_link_form, refused_private_link, shown_url
from app.pipeline.wav_header import data_overrun

log = get_logger(__name__)

AUDIO_EXTENSIONS = frozenset(
    {
        ".mp3",
        ".wav",
        ".flac",
        ".ogg",
        ".oga",
        ".m4a",
        ".aac",
        ".opus",
        ".aif",
        ".aiff",
        ".wma",
        ".webm",
        ".mp4",
        ".mkv",
        ".mov",
        ".avi",
    }
)
"""Extensions whose files we expect to hold audio: an unreadable one is called corrupt, not 'not audio'."""

LINK_FORMAT = (
    "bestaudio[protocol^=http]/bestaudio[protocol=m3u8_native]/best[protocol^=http]/best[protocol=m3u8_native]"
)
"""Formats yt-dlp downloads itself over http(s), HLS or DASH, in this thread, where ConnectGuard sees every
connection; RTMP, live HLS and websocket formats would run ffmpeg, rtmpdump or another thread instead."""

PYTHON_SOCKET_HANDLERS = frozenset({"Urllib", "Requests", "Websockets"})
"""yt-dlp request handlers that connect through Python's socket module (curl_cffi, if installed, does not)."""

SILENCE_PEAK = 10 ** (-70 / 20)
"""Peak level below which a recording counts as silent (-70 dBFS)."""

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class IngestResult:
    """What ingest learned about the input."""

    title: str
    duration_s: float
    channels: int
    source: str
    artist: str | None = None
    """The performer: the file's artist tag, or the video's artist or uploader; None when neither says."""


def is_url(source: str) -> bool:
    """True for http(s) links; everything else is treated as a local path."""
    return urlparse(str(source)).scheme in ("http", "https")


def ingest(
    source: str | Path,
    dest_wav: Path,
    *,
    max_duration_s: float,
    progress: ProgressFn | None = None,
    fallback_title: str | None = None,
    allowed_networks: Sequence[IPNetwork] = (),
) -> IngestResult:
    """Decode `source` (a path or an http(s) link) to a 44.1 kHz float WAV at `dest_wav`.

    The title is the link's title, else the file's title tag, else `fallback_title` (for a link, the
    name in the link), else the file name; the artist is the link's artist or uploader, else the
    file's artist tag. A link straight to a media file has no title of its own: its tags name it.
    A link may reach public addresses and `allowed_networks` only (LINK_ALLOWED_NETWORKS).
    """
    report = progress or (lambda _f: None)
    if is_url(str(source)):
        with tempfile.TemporaryDirectory(prefix="drumscribe-dl-") as tmp:
            download = download_audio(
                str(source), Path(tmp), max_duration_s=max_duration_s, allowed_networks=allowed_networks
            )
            report(0.5)
            try:
                result = decode_file(
                    download.path,
                    dest_wav,
                    max_duration_s=max_duration_s,
                    title=download.title,
                    artist=download.artist,
                    fallback_title=download.name,
                )
            except NotAudioError as exc:
                raise UnsupportedSiteError(
                    f"{source} does not lead to audio DrumScribe can read; paste a YouTube link "
                    "(or another site yt-dlp supports) or upload the file instead"
                ) from exc
            result = IngestResult(result.title, result.duration_s, result.channels, str(source), result.artist)
    else:
        result = decode_file(Path(source), dest_wav, max_duration_s=max_duration_s, fallback_title=fallback_title)
    report(1.0)
    return result


def probe(path: Path, *, name: str | None = None) -> dict:
    """ffprobe's JSON description of `path`; NotAudioError/CorruptAudioError when it cannot be read.

    Messages call the file `name` (the name the user gave it) where that differs from the path's.
    """
    shown = name or path.name
    if not path.is_file():
        raise IngestError(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise EmptyAudioError(f"{shown} is an empty file (0 bytes); choose a recording with sound in it")
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        reason = _last_line(proc.stderr).replace(f"{path}: ", "")
        suffix = Path(shown).suffix.lower()
        if suffix in AUDIO_EXTENSIONS:
            raise CorruptAudioError(
                f"{shown} looks like a {suffix} file but cannot be read ({reason}); "
                "it may be damaged or incomplete: export or download it again"
            )
        raise NotAudioError(
            f"{shown} is not an audio or video file DrumScribe can read ({reason}); "
            "upload mp3, wav, flac, ogg, m4a, opus or a video file"
        )
    info = json.loads(proc.stdout or "{}")
    overrun = data_overrun(path)
    if overrun is not None:
        # ffprobe reads the length from the header; the limits must see all the audio that is there.
        log.info("wav_header_understates_length", file=shown, actual_s=round(overrun.duration_s, 3))
        real = f"{overrun.duration_s:.6f}"
        info.setdefault("format", {})["duration"] = real
        for stream in info.get("streams", []):
            if stream.get("codec_type") == "audio":
                stream["duration"] = real
    return info


def decode_file(
    path: Path,
    dest_wav: Path,
    *,
    max_duration_s: float,
    title: str | None = None,
    fallback_title: str | None = None,
    artist: str | None = None,
) -> IngestResult:
    """Check limits from the container header, then decode the first audio stream to `dest_wav`.

    `title` and `artist` (a link's) win over the file's tags; `fallback_title` (an upload's own name)
    is taken only when the file has no title tag.
    """
    info = probe(path)
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise NotAudioError(
            f"{path.name} has no audio track; upload a song file (mp3, wav, flac, ogg, m4a, opus) "
            "or a video that has sound"
        )
    declared = _float_or_none(info.get("format", {}).get("duration")) or _float_or_none(streams[0].get("duration"))
    if declared is not None and declared > max_duration_s:
        raise too_long(path.name, declared, max_duration_s)
    channels = 2 if int(streams[0].get("channels") or 1) >= 2 else 1

    # A WAV whose audio runs past its header's data size is decoded to its end, not to the header's.
    whole_wav = ["-ignore_length", "1"] if data_overrun(path) is not None else []
    with atomic_path(dest_wav) as tmp:
        # Decode a little past the limit so a file whose header understates its length is still caught.
        cmd = [
            "ffmpeg", "-v", "error", "-nostdin", "-y", *whole_wav, "-i", str(path), "-map", "0:a:0", "-vn",
            "-ac", str(channels), "-ar", str(SAMPLE_RATE), "-t", f"{max_duration_s + 1:.3f}",
            "-c:a", "pcm_f32le", "-f", "wav", str(tmp),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise CorruptAudioError(
                f"{path.name} could not be decoded ({_last_line(proc.stderr)}); "
                "it may be damaged: export or download it again"
            )
        frames, peak = _measure(tmp)
        duration = frames / SAMPLE_RATE
        if frames == 0:
            raise EmptyAudioError(f"{path.name} contains no audio samples; choose a recording with sound in it")
        if duration > max_duration_s:
            raise too_long(path.name, duration, max_duration_s)
        if peak < SILENCE_PEAK:
            raise EmptyAudioError(f"{path.name} is silent (peak below -70 dBFS); choose a recording with drums")
    tags = _tags(info)
    name = title or tags.get("title") or fallback_title or path.stem
    performer = artist or tags.get("artist") or tags.get("album_artist") or tags.get("albumartist")
    log.info("ingest_decoded", file=path.name, duration_s=round(duration, 3), channels=channels)
    return IngestResult(
        title=str(name), duration_s=duration, channels=channels, source=str(path), artist=performer or None
    )


def _tags(info: dict) -> dict[str, str]:
    """The container's and first audio stream's tags, names in lower case, blank values left out.

    Formats spell tag names differently (ID3 "title", Vorbis comments "TITLE"), and Ogg files keep
    them on the stream rather than the container.
    """
    found: dict[str, str] = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"][:1]
    for tags in [info.get("format", {}).get("tags")] + [s.get("tags") for s in streams]:
        for key, value in (tags or {}).items():
            text = str(value).strip()
            if text:
                found.setdefault(str(key).lower(), text)
    return found


@dataclass(frozen=True)
class Download:
    """A link's audio as yt-dlp fetched it."""

    path: Path
    title: str | None
    """The page's title (a video's); None for a link straight to a media file, whose tags name it."""
    artist: str | None
    """The site's artist, else the uploader or channel; None when the site names none."""
    name: str
    """The name in the link: the title of last resort."""


def download_audio(
    url: str, folder: Path, *, max_duration_s: float, allowed_networks: Sequence[IPNetwork] = ()
) -> Download:
    """Fetch the best audio of `url` into `folder` with yt-dlp.

    Every connection, redirects included, must reach a public address or one in `allowed_networks`;
    RefusedLinkError otherwise, raised before any byte is sent to that address.
    """
    from yt_dlp.utils import DownloadError, UnsupportedError

    check_link_form(url)
    guard = ConnectGuard(allowed_networks)
    try:
        with guard.active():
            info = _fetch(url, folder, max_duration_s)
    except Exception as exc:
        _raise_if_refused(guard, url, exc)
        if not isinstance(exc, DownloadError):
            raise
        cause = exc.exc_info[1] if exc.exc_info else None
        message = str(exc).removeprefix("ERROR: ")
        if isinstance(cause, UnsupportedError) or "Unsupported URL" in message:
            raise UnsupportedSiteError(
                f"{url} is not a page DrumScribe can take audio from; paste a YouTube link "
                "(or another site yt-dlp supports) or upload the file instead"
            ) from exc
        reason = message.split(" (caused by", 1)[0]
        raise UnreachableURLError(f"could not fetch {url} ({reason}); check the link and your connection") from exc
    _raise_if_refused(guard, url, None)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
    if not files:
        raise UnreachableURLError(f"{url} yielded no audio file; check the link")
    name = Path(urlparse(url).path).stem or "Untitled"
    # yt-dlp titles a direct media link with its file name, which the file's own tags beat.
    title = None if info.get("direct") else str(info.get("title") or "").strip() or None
    artist = next((str(info[k]).strip() for k in _ARTIST_FIELDS if str(info.get(k) or "").strip()), None)
    return Download(path=files[0], title=title, artist=artist, name=name)


_ARTIST_FIELDS = ("artist", "creator", "uploader", "channel")
"""yt-dlp's fields that name a video's performer, most specific first."""


def _fetch(url: str, folder: Path, max_duration_s: float) -> dict:
    """Extract and download with yt-dlp in this thread, through Python sockets only (see ConnectGuard)."""
    import yt_dlp

    class PythonSocketsYoutubeDL(yt_dlp.YoutubeDL):
        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            kept = [h for h in handlers if h.RH_KEY in PYTHON_SOCKET_HANDLERS]
            return super().build_request_director(kept, preferences)

    options = {
        "format": LINK_FORMAT,
        "outtmpl": str(folder / "download.%(ext)s"),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 30,
        "retries": 2,
        "logger": _SilentLogger(),
        # One thread, yt-dlp's own downloaders and a direct connection: the guard must see each peer.
        "concurrent_fragment_downloads": 1,
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "proxy": "",
    }
    with PythonSocketsYoutubeDL(options) as ydl:
        info = ydl.extract_info(url, download=False)
        if info is None:
            raise UnreachableURLError(f"{url} returned nothing to download; check the link")
        if info.get("_type") == "playlist":
            raise UnsupportedSiteError(f"{url} is a playlist; paste the link of a single song")
        if info.get("is_live"):
            raise UnsupportedSiteError(f"{url} is a live stream; paste the link of a recorded song")
        duration = _float_or_none(info.get("duration"))
        if duration is not None and duration > max_duration_s:
            raise too_long(info.get("title") or url, duration, max_duration_s)
        ydl.process_info(info)
    return info


def _raise_if_refused(guard: ConnectGuard, url: str, cause: BaseException | None) -> None:
    """Whatever yt-dlp made of a refused connection, the musician reads why (and nothing about the network)."""
    if guard.refused == "address":
        raise refused_private_link(url) from cause
    if guard.refused == "program":
        raise UnsupportedSiteError(
            f"{shown_url(url)} can only be fetched by an external program (ffmpeg or rtmpdump), which DrumScribe "
            "does not run for links; upload the file instead"
        ) from cause


class _SilentLogger:
    """yt-dlp would print to the terminal; DrumScribe reports errors itself."""

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        log.debug("yt_dlp_warning", message=msg)

    def error(self, msg: str) -> None:
        log.debug("yt_dlp_error", message=msg)


def _measure(wav: Path) -> tuple[int, float]:
    """Frame count and peak level, read in blocks so long files stay cheap."""
    peak = 0.0
    frames = 0
    with sf.SoundFile(wav) as f:
        for block in f.blocks(blocksize=SAMPLE_RATE * 10, dtype="float32"):
            frames += len(block)
            if len(block):
                peak = max(peak, float(np.max(np.abs(block))))
    return frames, peak


PCM16_BLOCK_FRAMES = SAMPLE_RATE * 10


def write_pcm16_copy(wav: Path, dest: Path) -> None:
    """Write `wav`'s samples to `dest` as 16-bit PCM (same rate and channels), block by block, atomically.

    Samples beyond full scale are clipped: integer PCM would wrap them around.
    """
    with (
        sf.SoundFile(wav) as src,
        atomic_path(dest) as tmp,
        sf.SoundFile(tmp, "w", samplerate=src.samplerate, channels=src.channels, subtype="PCM_16", format="WAV") as out,
    ):
        for block in src.blocks(blocksize=PCM16_BLOCK_FRAMES, dtype="float32", always_2d=True):
            out.write(np.clip(block, -1.0, 1.0))


def too_long(name: str, duration: float, limit: float) -> TooLongError:
    """The error for a song of `duration` seconds over the `limit` (MAX_DURATION_SECONDS)."""
    return TooLongError(
        f"{name} is {mmss(duration)} long; the limit is {mmss(limit)} (MAX_DURATION_SECONDS={int(limit)}); "
        "trim the song or transcribe it in parts",
        duration_s=duration,
        limit_s=limit,
    )


def _float_or_none(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"
