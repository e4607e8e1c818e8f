"""WAV files whose header understates their audio: a recorder or a stream that never went back to write
the final sizes. ffprobe and ffmpeg trust the header's data size, so such a file looks (and decodes)
shorter than it is; this module finds the audio that runs past it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_HEADER = struct.Struct("<4sI")


@dataclass(frozen=True)
class DataOverrun:
    """The data chunk of a WAV whose audio runs on past the size its header declares."""

    declared_bytes: int
    actual_bytes: int
    byte_rate: int

    @property
    def duration_s(self) -> float:
        """The length of all the audio in the file, in seconds."""
        return self.actual_bytes / self.byte_rate


def data_overrun(path: Path) -> DataOverrun | None:
    """The overrun of `path`'s data chunk when its audio runs past the declared size; else None.

    None for anything that is not a RIFF/WAVE file, and for a WAV whose declared data is followed only
    by whole chunks (metadata such as LIST or id3) or an ID3 tag: the header tells the truth there.
    """
    file_bytes = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            return None
        byte_rate = 0
        position = 12
        while position + CHUNK_HEADER.size <= file_bytes:
            chunk_id, size = _chunk_header(f, position)
            body = position + CHUNK_HEADER.size
            if chunk_id == b"fmt " and size >= 16:
                # WAVEFORMAT: format tag, channels, sample rate, then the average bytes per second.
                byte_rate = struct.unpack("<HHII", f.read(12))[3]
            elif chunk_id == b"data":
                if byte_rate == 0 or _only_chunks_between(f, body + size + size % 2, file_bytes):
                    return None
                return DataOverrun(declared_bytes=size, actual_bytes=file_bytes - body, byte_rate=byte_rate)
            position = body + size + size % 2
    return None


def _chunk_header(f: BinaryIO, position: int) -> tuple[bytes, int]:
    f.seek(position)
    chunk_id, size = CHUNK_HEADER.unpack(f.read(CHUNK_HEADER.size))
    return chunk_id, size


def _only_chunks_between(f: BinaryIO, position: int, end: int) -> bool:
    """True when the bytes from `position` to `end` are whole RIFF chunks, an ID3 tag, or a stray pad byte."""
    while end - position >= CHUNK_HEADER.size:
        chunk_id, size = _chunk_header(f, position)
        if chunk_id.startswith(b"ID3"):
            return True  # a tag some tools append after the chunks
        if not all(0x20 <= byte < 0x7F for byte in chunk_id) or position + CHUNK_HEADER.size + size > end:
            return False  # not a chunk: samples the header did not count
        position += CHUNK_HEADER.size + size + size % 2
    return end - position <= 1
