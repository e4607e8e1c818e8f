"""The beat model's training data: beat songs rendered, augmented, turned into beat features and labels.

Layout under the data folder (never inside the repository):

    DATA/beats/{train,val}/features.npy   (songs, SEGMENT_FRAMES, N_FEATURES) float16
    DATA/beats/{train,val}/labels.npy     (songs, SEGMENT_FRAMES) uint8: 0 none, 1 beat, 2 downbeat
    DATA/beats/{train,val}/compound.npy   (songs, SEGMENT_FRAMES) uint8: 1 where the beat divides in three
    DATA/beats/{train,val}/mask.npy       (songs, SEGMENT_FRAMES) uint8: 0 in silence before and after the drums
    DATA/beats/val/songs.json             every held-out song's beats, positions and metres

Each song is drawn from `numpy.random.default_rng([seed, split, index, BEAT_STREAM])`: a stream of its
own, so the drum model's data (`[seed, split, index]`) is unchanged. The kits and background clips
are split as the drum model's are (`app.training.dataset`): held-out kits and music for "val".
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.pipeline.beats.features import beat_features, n_frames, peak_scale
from app.pipeline.beats.recipe import FPS, METRES
from app.training.augment import augment
from app.training.band import render_backgrounds
from app.training.beats.songs import GENERATOR_VERSION, BeatSong, beat_song
from app.training.dataset import BACKGROUND_CLIPS, BACKGROUND_SECONDS, split_banks
from app.training.render import render_drums
from app.training.samples import SampleBank, load_all_banks

BEAT_STREAM = 2
"""The last word of every beat song's seed: keeps it apart from the drum model's songs."""
SEGMENT_FRAMES = 2_000
"""Each song is one 20-s training example: two bars at the slowest tempo, ten at the fastest."""
SONG_SECONDS = SEGMENT_FRAMES / FPS + 0.05
MASK_MARGIN_S = 0.5
"""Beats are learned only from 0.5 s before the first stroke to 0.5 s after the last: the network
cannot hear a beat in silence before the drums come in (it must carry it through breaks)."""
BACKGROUND_SHARE = 0.5
"""Songs offered background music (which `augment` mixes in 60 % of the time): its own tempo would
otherwise teach the network to follow the wrong instrument too often."""

_SPLITS = {"train": 0, "val": 1}
_COMPOUND = {m.name: m.compound for m in METRES}


@dataclass
class BeatBuildConfig:
    """What `build_beat_split` makes."""

    data_dir: Path
    seed: int = 1234
    workers: int = 2
    generators: tuple[int, ...] = (GENERATOR_VERSION,)
    """The song generator's versions (`beat_song`'s `version`), taken in turn: song k is drawn from
    version `generators[k % len(generators)]`, so a song is the same whichever mix it is part of.
    Written into build.json."""


def frame_labels(song: BeatSong, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, compound, mask) per frame for `song` (see the module's layout)."""
    labels = np.zeros(frames, dtype=np.uint8)
    compound = np.zeros(frames, dtype=np.uint8)
    mask = np.zeros(frames, dtype=np.uint8)
    beat_frames = [round(b.time * FPS) for b in song.beats]
    for k, (frame, beat) in enumerate(zip(beat_frames, song.beats, strict=True)):
        if 0 <= frame < frames:
            labels[frame] = 2 if beat.position == 1 else 1
        until = beat_frames[k + 1] if k + 1 < len(beat_frames) else frames
        compound[max(frame, 0) : max(until, 0)] = _COMPOUND[beat.metre]
    if song.beats and beat_frames[0] > 0:
        compound[: beat_frames[0]] = _COMPOUND[song.beats[0].metre]
    if song.events:
        first = max(0, round((song.events[0].time - MASK_MARGIN_S) * FPS))
        last = min(frames, round((song.events[-1].time + MASK_MARGIN_S) * FPS) + 1)
        mask[first:last] = 1
    return labels, compound, mask


def make_beat_song(
    index: int,
    split: str,
    seed: int,
    banks: list[SampleBank],
    backgrounds: list[np.ndarray],
    generator: int = GENERATOR_VERSION,
) -> tuple[np.ndarray, BeatSong]:
    """Song number `index` of `split` from song generator version `generator`: peak-scaled, augmented
    mono audio and its labelled beats."""
    rng = np.random.default_rng([seed, _SPLITS[split], index, BEAT_STREAM])
    song = beat_song(rng, SONG_SECONDS, version=generator)
    bank = banks[int(rng.integers(len(banks)))]
    audio, played = render_drums(song.events, bank, banks, rng, SONG_SECONDS)
    audio = augment(audio, rng, backgrounds if rng.random() < BACKGROUND_SHARE else None)
    return peak_scale(audio), BeatSong(played, song.beats, song.metre, song.bpm)


_state: dict[str, object] = {}


def _init(
    banks: list[SampleBank], backgrounds: list[np.ndarray], seed: int, split: str, generators: tuple[int, ...]
) -> None:
    _state.update(banks=banks, backgrounds=backgrounds, seed=seed, split=split, generators=generators)


def song_generator(index: int, generators: tuple[int, ...]) -> int:
    """The generator version song `index` of a split is drawn from when `generators` take turns."""
    if not generators:
        raise ValueError("no beat song generator given: name at least one version (1, 2 or 3)")
    return generators[index % len(generators)]


def _example(index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, BeatSong]:
    generators: tuple[int, ...] = _state["generators"]  # type: ignore[assignment]
    audio, song = make_beat_song(
        index,
        str(_state["split"]),
        int(_state["seed"]),  # type: ignore[call-overload]
        _state["banks"],  # type: ignore[arg-type]
        _state["backgrounds"],  # type: ignore[arg-type]
        song_generator(index, generators),
    )
    features = beat_features(audio)[:SEGMENT_FRAMES]
    labels, compound, mask = frame_labels(song, n_frames(len(audio)))
    return features, labels[:SEGMENT_FRAMES], compound[:SEGMENT_FRAMES], mask[:SEGMENT_FRAMES], song


def build_beat_split(config: BeatBuildConfig, split: str, songs: int, banks: list[SampleBank] | None = None) -> Path:
    """Render `songs` beat songs of `split` into DATA/beats/split/*.npy; returns that folder."""
    out = config.data_dir / "beats" / split
    out.mkdir(parents=True, exist_ok=True)
    banks = split_banks(banks if banks is not None else load_all_banks(), split)
    backgrounds = render_backgrounds(BACKGROUND_CLIPS, BACKGROUND_SECONDS, config.seed, config.data_dir / "backgrounds")
    half = BACKGROUND_CLIPS // 2
    backgrounds = backgrounds[half:] if split == "val" else backgrounds[:half]
    arrays: dict[str, list[np.ndarray]] = {"features": [], "labels": [], "compound": [], "mask": []}
    described = []
    init_args = (banks, backgrounds, config.seed, split, config.generators)
    pool = None
    if config.workers > 1:
        pool = multiprocessing.get_context("fork").Pool(config.workers, initializer=_init, initargs=init_args)
        results: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, BeatSong]] = pool.imap(
            _example, range(songs), chunksize=4
        )
    else:
        _init(*init_args)
        results = map(_example, range(songs))
    try:
        for features, labels, compound, mask, song in results:
            arrays["features"].append(features.astype(np.float16))
            arrays["labels"].append(labels)
            arrays["compound"].append(compound)
            arrays["mask"].append(mask)
            described.append(
                {
                    "metre": song.metre,
                    "bpm": round(song.bpm, 2),
                    "beats": [[round(b.time, 4), b.position, b.metre] for b in song.beats],
                }
            )
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    for name, items in arrays.items():
        np.save(out / f"{name}.npy", np.stack(items))
    (out / "songs.json").write_text(json.dumps(described))
    (out / "build.json").write_text(
        json.dumps(
            {
                "songs": songs,
                "seed": config.seed,
                "generators": list(config.generators),
                "kits": [b.name for b in banks],
            }
        )
    )
    return out
