"""Split a built set of held-out songs by kind (drums alone, with a band, imitating a separated stem),
so that `drumscribe evaluate` scores each kind on its own.

The training data builder writes DATA/val/songs/{audio,midi} and kinds.json (song name → kind). This
links each song's audio and MIDI into OUT/KIND/{audio,midi}; nothing is copied.

    .venv/bin/python scripts/split_by_kind.py ~/.cache/drumscribe-train/val/songs /tmp/by-kind
    scripts/drumscribe evaluate /tmp/by-kind/band --separator none
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def split_by_kind(songs: Path, out: Path) -> Counter[str]:
    """Link every song of `songs` into out/KIND/{audio,midi}; returns how many songs each kind has."""
    kinds_file = songs / "kinds.json"
    if not kinds_file.is_file():
        raise SystemExit(f"{kinds_file} is missing: point at a songs folder the training data builder wrote")
    kinds: dict[str, str] = json.loads(kinds_file.read_text())
    counts: Counter[str] = Counter()
    for name, kind in sorted(kinds.items()):
        for folder, suffix in (("audio", ".wav"), ("midi", ".mid")):
            source = (songs / folder / name).with_suffix(suffix)
            if not source.is_file():
                raise SystemExit(f"{source} is listed in {kinds_file} but missing; rebuild the set")
            link = out / kind / folder / source.name
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(source.resolve())
        counts[kind] += 1
    return counts


def main() -> int:
    """Split the set and print the count of each kind."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("songs", type=Path, help="a built songs folder (audio/, midi/, kinds.json)")
    parser.add_argument("out", type=Path, help="where the per-kind folders go")
    args = parser.parse_args()
    for kind, count in sorted(split_by_kind(args.songs, args.out).items()):
        print(f"{args.out / kind}: {count} songs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
