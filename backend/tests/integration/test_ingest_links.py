"""Stage 1 with links, through yt-dlp, against a real HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import TooLongError, UnreachableURLError, UnsupportedSiteError
from app.pipeline.ingest import ingest
from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import SynthKit, render_groove
from tests.conftest import ffmpeg_convert, write_wav

pytestmark = pytest.mark.integration

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
"""LINK_ALLOWED_NETWORKS=127.0.0.0/8: these tests fetch from a server on loopback, which links may not reach."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback web server with a song, a long song and an HTML page without media."""
    root = tmp_path_factory.mktemp("site")
    audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=2), SynthKit())
    ffmpeg_convert(write_wav(root / "song.wav", audio), root / "song.mp3")
    tags = ["-metadata", "title=Back Beat", "-metadata", "artist=The Test Band"]
    ffmpeg_convert(write_wav(root / "song.wav", audio), root / "track_07.mp3", *tags)
    (root / "page").mkdir()
    (root / "page" / "index.html").write_text("<html><head><title>Band</title></head><body>No media</body></html>")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_direct_media_link_is_downloaded_and_decoded(site: str, tmp_path: Path) -> None:
    result = ingest(f"{site}/song.mp3", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK)
    assert result.duration_s == pytest.approx(5.0, abs=0.1)
    assert result.source == f"{site}/song.mp3"
    assert (tmp_path / "input.wav").is_file()


def test_a_direct_link_is_named_by_the_files_tags_not_its_file_name(site: str, tmp_path: Path) -> None:
    result = ingest(f"{site}/track_07.mp3", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK)
    assert (result.title, result.artist) == ("Back Beat", "The Test Band")


def test_an_untagged_direct_link_is_named_by_its_link(site: str, tmp_path: Path) -> None:
    result = ingest(f"{site}/song.mp3", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK)
    assert (result.title, result.artist) == ("song", None)


def test_too_long_link_is_refused(site: str, tmp_path: Path) -> None:
    with pytest.raises(TooLongError, match="MAX_DURATION_SECONDS=3"):
        ingest(f"{site}/song.mp3", tmp_path / "input.wav", max_duration_s=3, allowed_networks=LOOPBACK)


def test_page_without_media_is_an_unsupported_site(site: str, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSiteError, match="paste a YouTube link"):
        ingest(f"{site}/page/", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK)


def test_unreachable_link(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UnreachableURLError, match=rf"could not fetch http://127\.0\.0\.1:{port}/song\.mp3"):
        ingest(
            f"http://127.0.0.1:{port}/song.mp3", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK
        )


def test_missing_page_is_unreachable(site: str, tmp_path: Path) -> None:
    with pytest.raises(UnreachableURLError, match="404"):
        ingest(f"{site}/gone.mp3", tmp_path / "input.wav", max_duration_s=900, allowed_networks=LOOPBACK)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
