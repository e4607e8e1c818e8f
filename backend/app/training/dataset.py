"""Building the training data: songs rendered, augmented, turned into log-mel frames and frame labels.

Layout under the data folder (never inside the repository):

    DATA/backgrounds/background-*.wav      rendered background music, re-used across builds
    DATA/{train,val}/features.npy          (segments, SEGMENT_FRAMES, N_MELS) float16
    DATA/{train,val}/onsets.npy            (segments, SEGMENT_FRAMES, len(CLASSES)) uint8, 1 at onset frames
    DATA/val/songs/audio/NAME.wav + midi/NAME.mid   held-out songs for `drumscribe evaluate`

Every song is drawn from `numpy.random.default_rng([seed, split, index])`, so a build is the same on
every machine whatever the number of worker processes.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from app.pipeline.prediction.frame import CLASSES, FPS, MODEL_SR, log_mel, n_frames, peak_scale
from app.training.augment import augment
from app.training.grooves import Event, random_song
from app.training.render import render_backgrounds, render_drums, write_label_midi
from app.training.samples import VALIDATION_KITS, SampleBank, load_all_banks

SEGMENT_FRAMES = 400
"""Training examples are 4-second windows."""

SONG_SECONDS = (8.0, 16.0)
"""Each song's length is drawn from this range; it is cut into whole segments."""

BACKGROUND_CLIPS = 24
BACKGROUND_SECONDS = 40.0

_SPLITS = {"train": 0, "val": 1}


@dataclass
class BuildConfig:
    """What `build_split` makes."""

    data_dir: Path
    seed: int = 1234
    workers: int = 2
    augment: bool = True


def onset_matrix(events: list[Event], frames: int) -> np.ndarray:
    """(frames, len(CLASSES)) uint8 with 1 at each event's nearest frame."""
    target = np.zeros((frames, len(CLASSES)), dtype=np.uint8)
    index = {cls: k for k, cls in enumerate(CLASSES)}
    for event in events:
        frame = round(event.time * FPS)
        if 0 <= frame < frames:
            target[frame, index[event.instrument]] = 1
    return target


def split_banks(banks: list[SampleBank], split: str) -> list[SampleBank]:
    """The kits a split may use: validation kits only for "val", all others for "train"."""
    held_out = [b for b in banks if b.name in VALIDATION_KITS]
    return held_out if split == "val" else [b for b in banks if b.name not in VALIDATION_KITS]


def make_song(
    index: int, split: str, seed: int, banks: list[SampleBank], backgrounds: list[np.ndarray], do_augment: bool = True
) -> tuple[np.ndarray, list[Event]]:
    """Song number `index` of `split`: peak-scaled mono audio and its labels."""
    rng = np.random.default_rng([seed, _SPLITS[split], index])
    duration = float(rng.uniform(*SONG_SECONDS))
    events, _bpm = random_song(rng, duration)
    bank = banks[int(rng.integers(len(banks)))]
    audio, played = render_drums(events, bank, banks, rng, duration)
    if do_augment:
        audio = augment(audio, rng, backgrounds)
    return peak_scale(audio), played


# Worker state, set once per process by _init (banks are large: sent once, not per song).
_state: dict[str, object] = {}


def _init(banks: list[SampleBank], backgrounds: list[np.ndarray], seed: int, split: str, do_augment: bool) -> None:
    _state.update(banks=banks, backgrounds=backgrounds, seed=seed, split=split, augment=do_augment)


def _song_features(index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Event]]:
    split = str(_state["split"])
    audio, events = make_song(
        index,
        split,
        int(_state["seed"]),  # type: ignore[call-overload]
        _state["banks"],  # type: ignore[arg-type]
        _state["backgrounds"],  # type: ignore[arg-type]
        bool(_state["augment"]),
    )
    features = log_mel(audio)
    onsets = onset_matrix(events, n_frames(len(audio)))
    return features, onsets, audio if split == "val" else np.empty(0, np.float32), events


def build_split(config: BuildConfig, split: str, songs: int, banks: list[SampleBank] | None = None) -> Path:
    """Render `songs` songs of `split` into DATA/split/*.npy; returns that folder."""
    out = config.data_dir / split
    out.mkdir(parents=True, exist_ok=True)
    banks = split_banks(banks if banks is not None else load_all_banks(), split)
    backgrounds = render_backgrounds(BACKGROUND_CLIPS, BACKGROUND_SECONDS, config.seed, config.data_dir / "backgrounds")
    # Held-out music too: the val songs use the second half of the clips.
    half = BACKGROUND_CLIPS // 2
    backgrounds = backgrounds[half:] if split == "val" else backgrounds[:half]
    features, onsets = [], []
    songs_dir = out / "songs"
    if split == "val":
        (songs_dir / "audio").mkdir(parents=True, exist_ok=True)
        (songs_dir / "midi").mkdir(parents=True, exist_ok=True)
    init_args = (banks, backgrounds, config.seed, split, config.augment)
    if config.workers > 1:
        context = multiprocessing.get_context("fork")
        pool = context.Pool(config.workers, initializer=_init, initargs=init_args)
        results: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, list[Event]]] = pool.imap(
            _song_features, range(songs), chunksize=4
        )
    else:
        _init(*init_args)
        pool = None
        results = map(_song_features, range(songs))
    try:
        for i, (feats, ons, audio, events) in enumerate(results):
            whole = len(feats) // SEGMENT_FRAMES
            for s in range(whole):
                features.append(feats[s * SEGMENT_FRAMES : (s + 1) * SEGMENT_FRAMES].astype(np.float16))
                onsets.append(ons[s * SEGMENT_FRAMES : (s + 1) * SEGMENT_FRAMES])
            if split == "val":
                name = f"val-{i:04d}"
                sf.write(songs_dir / "audio" / f"{name}.wav", audio, MODEL_SR, subtype="PCM_16")
                write_label_midi(events, songs_dir / "midi" / f"{name}.mid")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    np.save(out / "features.npy", np.stack(features))
    np.save(out / "onsets.npy", np.stack(onsets))
    (out / "build.json").write_text(
        json.dumps({"songs": songs, "segments": len(features), "seed": config.seed, "kits": [b.name for b in banks]})
    )
    return out
