"""Building the training data: songs rendered, augmented, turned into log-mel frames and frame labels.

Layout under the data folder (never inside the repository):

    DATA/backgrounds/instruments-*.npz     band instruments rendered once per sound font, re-used across builds
    DATA/{train,val}/features.npy          (segments, SEGMENT_FRAMES, N_MELS) float16
    DATA/{train,val}/onsets.npy            (segments, SEGMENT_FRAMES, len(CLASSES)) uint8, 1 at onset frames
    DATA/val/songs/audio/NAME.wav + midi/NAME.mid   held-out songs for `drumscribe evaluate`

Every song is drawn from `numpy.random.default_rng([seed, split, index])`, so a build is the same on
every machine whatever the number of worker processes. Its band and mix come from a second generator,
`[seed, split, index, 1]`, so the drum part (and, for songs without a band, the whole rendering) is the
same whatever BAND_SHARE and STEM_SHARE are.

Each song is one of three kinds (`song_kind`): drums alone with a little bleed (augment.augment); drums
in a full band, mixed and mastered (band.py, mastering.py); or a separator's drum stem of such a song
(stems.py). The labels are always the rendered drum strokes: nothing after render_drums moves them.
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
from app.training.arrangement import arrange
from app.training.augment import augment, drum_bus, finish
from app.training.band import render_backgrounds, render_band
from app.training.grooves import Event, random_song_on_grid
from app.training.instruments import InstrumentSet, available_fonts, load_font, split_fonts
from app.training.mastering import BAND_LEVEL_DB, master, mix_at_level
from app.training.render import render_drums, write_label_midi
from app.training.samples import VALIDATION_KITS, SampleBank, load_all_banks
from app.training.stems import imitate_stem

SEGMENT_FRAMES = 400
"""Training examples are 4-second windows."""

SONG_SECONDS = (8.0, 16.0)
"""Each song's length is drawn from this range; it is cut into whole segments."""

BACKGROUND_CLIPS = 24
BACKGROUND_SECONDS = 40.0

BAND_SHARE = 0.55
"""Share of songs played with a full band, mixed and mastered."""

STEM_SHARE = 0.2
"""Share of songs that imitate a separator's drum stem (drums, leaked band, mask artefacts)."""

_SPLITS = {"train": 0, "val": 1}


@dataclass
class BuildConfig:
    """What `build_split` makes."""

    data_dir: Path
    seed: int = 1234
    workers: int = 2
    augment: bool = True
    band_share: float = BAND_SHARE
    stem_share: float = STEM_SHARE


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


def song_kind(rng: np.random.Generator, band_share: float, stem_share: float) -> str:
    """ "band", "stem" or "drums" for one song, with the given shares (the first draw of its mix generator)."""
    draw = float(rng.random())
    return "band" if draw < band_share else "stem" if draw < band_share + stem_share else "drums"


def _mix_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of song `index`'s band and mix (its drums have their own)."""
    return np.random.default_rng([seed, _SPLITS[split], index, 1])


def song_kinds(config: BuildConfig, split: str, songs: int) -> list[str]:
    """The kind of each of the first `songs` songs of `split`, as make_song draws them (with fonts present)."""
    return [song_kind(_mix_rng(config.seed, split, i), config.band_share, config.stem_share) for i in range(songs)]


def make_song(
    index: int,
    split: str,
    seed: int,
    banks: list[SampleBank],
    backgrounds: list[np.ndarray],
    do_augment: bool = True,
    fonts: list[InstrumentSet] | None = None,
    band_share: float = 0.0,
    stem_share: float = 0.0,
) -> tuple[np.ndarray, list[Event]]:
    """Song number `index` of `split`: peak-scaled mono audio and its labels (the drum strokes as rendered)."""
    rng = np.random.default_rng([seed, _SPLITS[split], index])
    duration = float(rng.uniform(*SONG_SECONDS))
    song = random_song_on_grid(rng, duration)
    bank = banks[int(rng.integers(len(banks)))]
    audio, played = render_drums(song.events, bank, banks, rng, duration)
    mix_rng = _mix_rng(seed, split, index)
    kind = song_kind(mix_rng, band_share, stem_share) if fonts else "drums"
    if kind == "drums":
        return peak_scale(augment(audio, rng, backgrounds) if do_augment else audio), played
    assert fonts is not None
    font = fonts[int(mix_rng.integers(len(fonts)))]
    kicks = [e.time for e in played if e.instrument == "kick"]
    band = render_band(arrange(mix_rng, song, duration), font, mix_rng, len(audio), kicks)
    drums = drum_bus(audio, rng) if do_augment else audio
    if kind == "stem":
        out = imitate_stem(drums, band, mix_rng)
    else:
        out = master(mix_at_level(drums, band, float(mix_rng.uniform(*BAND_LEVEL_DB))), mix_rng)
    return peak_scale(finish(out, mix_rng) if do_augment else out), played


# Worker state, set once per process by _init (banks are large: sent once, not per song).
_state: dict[str, object] = {}


def _init(
    banks: list[SampleBank],
    backgrounds: list[np.ndarray],
    seed: int,
    split: str,
    do_augment: bool,
    fonts: list[InstrumentSet],
    shares: tuple[float, float],
) -> None:
    _state.update(
        banks=banks, backgrounds=backgrounds, seed=seed, split=split, augment=do_augment, fonts=fonts, shares=shares
    )


def _song_features(index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Event]]:
    split = str(_state["split"])
    audio, events = make_song(
        index,
        split,
        int(_state["seed"]),  # type: ignore[call-overload]
        _state["banks"],  # type: ignore[arg-type]
        _state["backgrounds"],  # type: ignore[arg-type]
        bool(_state["augment"]),
        _state["fonts"],  # type: ignore[arg-type]
        *_state["shares"],  # type: ignore[misc]
    )
    features = log_mel(audio)
    onsets = onset_matrix(events, n_frames(len(audio)))
    return features, onsets, audio if split == "val" else np.empty(0, np.float32), events


def build_split(config: BuildConfig, split: str, songs: int, banks: list[SampleBank] | None = None) -> Path:
    """Render `songs` songs of `split` into DATA/split/*.npy; returns that folder."""
    out = config.data_dir / split
    out.mkdir(parents=True, exist_ok=True)
    banks = split_banks(banks if banks is not None else load_all_banks(), split)
    # Held-out music too: each split's bands play its own fonts (instruments.VALIDATION_FONTS).
    font_names = split_fonts(available_fonts(), split)
    cache = config.data_dir / "backgrounds"
    fonts = [load_font(name, cache) for name in font_names]
    clip_seed = config.seed + _SPLITS[split]
    backgrounds = render_backgrounds(BACKGROUND_CLIPS // 2, BACKGROUND_SECONDS, clip_seed, cache, font_names)
    features, onsets = [], []
    songs_dir = out / "songs"
    if split == "val":
        (songs_dir / "audio").mkdir(parents=True, exist_ok=True)
        (songs_dir / "midi").mkdir(parents=True, exist_ok=True)
    shares = (config.band_share, config.stem_share)
    init_args = (banks, backgrounds, config.seed, split, config.augment, fonts, shares)
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
    kinds = song_kinds(config, split, songs) if fonts else ["drums"] * songs
    if split == "val":
        # Which held-out songs have a band or imitate a stem, so evaluations can be split by kind.
        names = {f"val-{i:04d}": kind for i, kind in enumerate(kinds)}
        (songs_dir / "kinds.json").write_text(json.dumps(names, indent=1) + "\n")
    np.save(out / "features.npy", np.stack(features))
    np.save(out / "onsets.npy", np.stack(onsets))
    (out / "build.json").write_text(
        json.dumps(
            {
                "songs": songs,
                "segments": len(features),
                "seed": config.seed,
                "kits": [b.name for b in banks],
                "band_fonts": font_names,
                "kinds": {kind: kinds.count(kind) for kind in ("drums", "band", "stem")},
                "band_share": config.band_share,
                "stem_share": config.stem_share,
            }
        )
    )
    return out
