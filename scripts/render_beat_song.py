"""Write one held-out song of the beat model's generator as a WAV file, to look at its sheet.

The song is drawn as the held-out benchmark songs are (held-out kits; the first song of `--seed` whose
every bar is in `--metre` and whose tempo lies in `--bpm`), drums only, and its metre and tempo are
printed. README's before-and-after sheet is this script's default song:

    .venv/bin/python scripts/render_beat_song.py "Slow six-eight groove.wav"
    scripts/drumscribe transcribe "Slow six-eight groove.wav" --out /tmp/six-eight --separator none
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from app.pipeline.constants import SAMPLE_RATE
from app.training.beats.songs import beat_song
from app.training.dataset import split_banks
from app.training.render import render_drums
from app.training.samples import load_all_banks


def main() -> int:
    """Render the first matching song and print what it is."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the WAV file to write")
    parser.add_argument("--metre", default="6/8", choices=("4/4", "3/4", "6/8", "12/8"))
    parser.add_argument("--bpm", type=float, nargs=2, default=(50.0, 75.0), metavar=("LOW", "HIGH"))
    parser.add_argument("--seconds", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    banks = split_banks(load_all_banks(), "val")
    for index in range(1000):
        rng = np.random.default_rng([args.seed, index])
        song = beat_song(rng, args.seconds, metre=args.metre, version=1)
        if any(b.metre != args.metre for b in song.beats) or not args.bpm[0] < song.bpm < args.bpm[1]:
            continue
        bank = banks[int(rng.integers(len(banks)))]
        audio, played = render_drums(song.events, bank, banks, rng, args.seconds)
        sf.write(args.out, audio, SAMPLE_RATE)
        print(
            f"{args.out}: song {index}, {args.metre} at {song.bpm:.1f} counted bpm, "
            f"kit {bank.name}, {len(played)} strokes"
        )
        return 0
    raise SystemExit(f"no song of seed {args.seed} in the first 1000 is all in {args.metre} between {args.bpm} bpm")


if __name__ == "__main__":
    raise SystemExit(main())
