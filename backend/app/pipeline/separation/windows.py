"""Streaming a long file through a separator in overlapping windows, so memory does not grow with length.

The song is cut into cores of `hop` frames. Each core is processed together with `context` frames of
audio on either side, because separators judge a sample by its neighbourhood and would otherwise
misbehave at every cut. Neighbouring outputs are then cross-faded over `min(context, hop)` frames
centred on the cut, which hides whatever small disagreement the two windows still have there. Only one
window and one cross-fade zone are in memory at any time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import soundfile as sf

Process = Callable[[np.ndarray], np.ndarray]
"""Turns a (channels, frames) float32 block into a block of the same frames (and any number of rows)."""


class Sink(Protocol):
    """Where separated audio goes: a sound file, or `StemSinks`."""

    def write(self, data: np.ndarray) -> object:
        """Append (frames, channels) samples."""
        ...


class StemSinks:
    """Two files fed by one separator: its blocks hold the drums' channels, then the band's.

    Separating both in one pass keeps them sample-aligned with each other and with the song, and cross-fades
    and clipping treat both the same way.
    """

    def __init__(self, drums: Sink, band: Sink, channels: int) -> None:
        self.drums = drums
        self.band = band
        self.channels = channels

    def write(self, data: np.ndarray) -> None:
        """Append (frames, 2 × channels) samples: the drums' channels first."""
        self.drums.write(data[:, : self.channels])
        self.band.write(data[:, self.channels :])


def process_in_windows(
    src: sf.SoundFile,
    sink: Sink,
    process: Process,
    *,
    hop: int,
    context: int,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Run `process` over `src` window by window and append the joined result to `sink`.

    `hop` is the number of new frames per window, `context` the frames added on each side.
    """
    if hop <= 0 or context < 0:
        raise ValueError(f"need hop > 0 and context >= 0, got hop={hop}, context={context}")
    total = src.frames
    half_fade = min(context, hop) // 2
    notify = progress or (lambda _fraction: None)
    pending: np.ndarray | None = None  # the previous window's output over the current cross-fade zone

    core_start = 0
    while core_start < total:
        core_end = min(total, core_start + hop)
        last = core_end == total
        read_start = max(0, core_start - context)
        read_end = min(total, core_end + context)
        src.seek(read_start)
        block = np.ascontiguousarray(src.read(read_end - read_start, dtype="float32", always_2d=True).T)
        out = process(block)

        # The part of this window's output that is kept: its core plus half a fade on each inner side.
        emit_start = core_start - half_fade if core_start else 0
        emit_end = total if last else min(total, core_end + half_fade)
        piece = out[:, emit_start - read_start : emit_end - read_start]
        if pending is not None:
            n = pending.shape[1]
            # Linear gains summing to one: both windows estimate the same signal, so this keeps its level.
            fade_in = (np.arange(n, dtype=np.float32) + 0.5) / n
            piece[:, :n] = pending * (1.0 - fade_in) + piece[:, :n] * fade_in
        if last:
            write_block(sink, piece)
        else:
            cut = core_end - half_fade - emit_start
            write_block(sink, piece[:, :cut])
            pending = piece[:, cut:].copy()
        notify(core_end / total)
        core_start = core_end


def write_block(sink: Sink, block: np.ndarray) -> None:
    """Append a (channels, frames) block, clipped to [-1, 1]: integer PCM would wrap overshoot around."""
    sink.write(np.clip(block.T, -1.0, 1.0))
