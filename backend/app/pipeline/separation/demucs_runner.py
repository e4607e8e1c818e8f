"""Running Demucs over a long file in bounded memory (SEPARATOR=demucs).

Demucs itself (`apply_model` with split=True) cuts a song into segments of the model's length that
overlap by a quarter, runs the model on each and blends them with triangular weights. Cutting the song
into outer chunks first and running that on each would put a second, different set of seams into the
result, and every chunk would need extra context. So this module does the blending itself, streaming:
segments are read from the file one at a time at the positions and with the padding demucs would use,
their drums are added into a running sum, and whatever no later segment can touch is written out every
DEMUCS_CHUNK_SECONDS. The output equals demucs' single pass over the whole song (without random shifts),
while memory holds one segment and one chunk, however long the song is. The rest of the band (the sum
of the other sources) can be blended alongside the drums, from the same segments, in the same pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import soundfile as sf
import torch
from demucs.apply import BagOfModels
from demucs.utils import center_trim

from app.core.errors import SeparationError
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation.demucs_weights import DRUMS
from app.pipeline.separation.windows import Sink, write_block

OVERLAP = 0.25
"""Overlap of neighbouring segments, as demucs' command line uses."""
STATS_BLOCK_FRAMES = 1 << 18


def separate_demucs(
    src: sf.SoundFile,
    sink: Sink,
    model: Any,
    *,
    chunk_seconds: float,
    with_band: bool = False,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Write the drums that `model` (a demucs model or BagOfModels) finds in `src` to `sink`.

    Finished audio is flushed every `chunk_seconds`. `src` may be mono or have the model's channel count.
    With `with_band`, each block written holds the drums' channels followed by the band's: the sum of the
    model's other sources, blended with the same weights as the drums (for `StemSinks`).
    """
    if chunk_seconds <= 0:
        raise SeparationError(f"DEMUCS_CHUNK_SECONDS must be positive, got {chunk_seconds}.")
    channels = model.audio_channels
    if src.channels not in (1, channels) and channels != 1:
        raise SeparationError(f"Demucs takes mono or {channels}-channel audio; the input has {src.channels} channels.")
    total = src.frames
    # Demucs expects the mix scaled to zero mean and unit variance over the whole song; a first pass
    # over the file gets those statistics without holding the song in memory.
    mean, std = _reference_stats(src)
    drums = model.sources.index(DRUMS)
    if isinstance(model, BagOfModels):
        members = list(zip(model.models, (weights[drums] for weights in model.weights), strict=True))
    else:
        members = [(model, 1.0)]
    # A bag member with no say on the drums (htdemucs_ft has one specialist per source) is skipped:
    # its segments would cost as much as the drum specialist's and change nothing.
    streams = [_SegmentStream(member, weight, channels, with_band) for member, weight in members if weight]
    weight_sum = sum(stream.weight for stream in streams)
    segments = sum(stream.count(total) for stream in streams)
    done = 0
    step = max(1, round(chunk_seconds * SAMPLE_RATE))

    with torch.inference_mode():
        for chunk_start in range(0, total, step):
            chunk_end = min(total, chunk_start + step)
            for stream in streams:
                for offset in stream.offsets_before(chunk_end):
                    try:
                        stream.add(offset, stream.estimate(src, offset, mean, std, drums))
                    except Exception as exc:  # whatever torch or demucs raise (out of memory, shapes)
                        raise SeparationError(
                            f"Demucs failed on the audio at {offset / SAMPLE_RATE:.1f} s: {exc}"
                        ) from exc
                    done += 1
                    if progress is not None:
                        progress(done / segments)
            # Every segment that reaches audio before chunk_end has now been added.
            blend = np.zeros((channels * (2 if with_band else 1), chunk_end - chunk_start), dtype=np.float32)
            for stream in streams:
                blend += stream.weight * stream.take(chunk_end)
            blend *= std / weight_sum
            # Demucs adds the mix's mean back to every source; here it goes to the drums only, so that
            # drums and band add up to the mix.
            stems = [_to_channels(blend[:channels] + mean, src.channels)]
            if with_band:
                stems.append(_to_channels(blend[channels:], src.channels))
            write_block(sink, np.concatenate(stems))


class _SegmentStream:
    """One model's drums (and band) over the song: the triangular-weighted overlap-add of
    apply_model(split=True)."""

    def __init__(self, model: Any, weight: float, channels: int, with_band: bool) -> None:
        self.model = model
        self.weight = weight
        self.channels = channels
        self.with_band = with_band
        self.length = int(model.samplerate * model.segment)
        self.stride = int((1 - OVERLAP) * self.length)
        half = self.length // 2
        ramp = np.concatenate([np.arange(1, half + 1), np.arange(self.length - half, 0, -1)])
        self.ramp = (ramp / ramp.max()).astype(np.float32)
        self.next_offset = 0
        # Running sums for the audio from `base` on; older audio has been taken.
        self.base = 0
        self.sum = np.zeros((channels * (2 if with_band else 1), 0), dtype=np.float32)
        self.norm = np.zeros(0, dtype=np.float32)

    def count(self, total: int) -> int:
        """How many segments cover a song of `total` frames."""
        return -(-total // self.stride)

    def offsets_before(self, end: int) -> Iterator[int]:
        """The start of each segment not yet run that begins before `end`."""
        while self.next_offset < end:
            yield self.next_offset
            self.next_offset += self.stride

    def estimate(self, src: sf.SoundFile, offset: int, mean: float, std: float, drums: int) -> np.ndarray:
        """The model's drums for the segment at `offset`, shaped (channels, frames); with the band's
        channels below them when the stream keeps the band."""
        frames = min(self.length, src.frames - offset)
        # Like demucs, a short last segment is centred in the length the model wants, taking real audio
        # from before it where there is some and silence past the end of the song.
        wanted = self.model.valid_length(frames) if hasattr(self.model, "valid_length") else frames
        start = offset - (wanted - frames) // 2
        mix = _read_normalised(src, start, wanted, mean, std)
        x = torch.from_numpy(_to_channels(mix, self.channels))[None]
        out = center_trim(self.model(x), frames)[0].numpy()
        if not self.with_band:
            return out[drums]
        band = np.delete(out, drums, axis=0).sum(axis=0)
        return np.concatenate([out[drums], band])

    def add(self, offset: int, estimate: np.ndarray) -> None:
        """Blend a segment's drums into the running sums."""
        frames = estimate.shape[-1]
        lo = offset - self.base
        hi = lo + frames
        if hi > self.norm.size:
            grow = hi - self.norm.size
            self.sum = np.pad(self.sum, ((0, 0), (0, grow)))
            self.norm = np.pad(self.norm, (0, grow))
        self.sum[:, lo:hi] += self.ramp[:frames] * estimate
        self.norm[lo:hi] += self.ramp[:frames]

    def take(self, end: int) -> np.ndarray:
        """The finished drums from `base` to `end`, forgotten afterwards."""
        n = end - self.base
        finished = self.sum[:, :n] / self.norm[:n]
        self.sum = self.sum[:, n:]
        self.norm = self.norm[n:]
        self.base = end
        return finished


def _read_normalised(src: sf.SoundFile, start: int, frames: int, mean: float, std: float) -> np.ndarray:
    """Frames [start, start + frames) of the normalised mix, (channels, frames), silent outside the song."""
    lo = max(0, start)
    hi = min(src.frames, start + frames)
    src.seek(lo)
    audio = (src.read(hi - lo, dtype="float32", always_2d=True).T - mean) / std
    # Padding comes after normalising: demucs pads the normalised mix, so silence stays at zero.
    return np.pad(audio, ((0, 0), (lo - start, start + frames - hi)))


def _reference_stats(src: sf.SoundFile) -> tuple[float, float]:
    """Mean and standard deviation of the channel-averaged mix, as demucs computes them."""
    count = 0
    total = 0.0
    total_sq = 0.0
    src.seek(0)
    for block in src.blocks(blocksize=STATS_BLOCK_FRAMES, dtype="float64", always_2d=True):
        ref = block.mean(axis=1)
        count += ref.size
        total += float(ref.sum())
        total_sq += float(ref @ ref)
    mean = total / count
    # Unbiased like torch.std; the small floor keeps digital silence from dividing by zero.
    variance = max(total_sq - count * mean * mean, 0.0) / max(count - 1, 1)
    return mean, float(np.sqrt(variance)) + 1e-8


def _to_channels(block: np.ndarray, channels: int) -> np.ndarray:
    """Mono is spread over every channel and many channels fold to mono; equal counts pass through."""
    have = block.shape[0]
    if have == channels:
        converted = block
    elif have == 1:
        converted = np.repeat(block, channels, axis=0)
    else:  # channels == 1: separate_demucs allows no other mismatch
        converted = block.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(converted, dtype=np.float32)
