"""`python -m app.training.beats build|train|all|export-onnx`: build the beat songs, train the beat model,
export it to ONNX (which `all` and `train` also do after training)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.training.beats.songs import GENERATOR_VERSION, GENERATOR_VERSIONS

DEFAULT_DATA_DIR = Path.home() / ".cache" / "drumscribe-train"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "pipeline" / "models" / "bundled" / "drumscribe_beats.h5"


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen step."""
    parser = argparse.ArgumentParser(prog="python -m app.training.beats", description=__doc__)
    parser.add_argument("step", choices=("build", "train", "all", "export-onnx"))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where the data goes (not the repo)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the exported .h5 (metadata beside it)")
    parser.add_argument("--train-songs", type=int, default=6000, help="20-s training songs")
    parser.add_argument("--val-songs", type=int, default=150, help="held-out songs on held-out kits")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop this run after this long (0: never)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--width", type=int, default=32, help="channels of the temporal convolutions")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workers", type=int, default=2, help="processes rendering songs")
    parser.add_argument(
        "--generator",
        type=int,
        nargs="+",
        choices=GENERATOR_VERSIONS,
        default=[GENERATOR_VERSION],
        help="the beat song generator's version; several (e.g. 1 2) take turns song by song",
    )
    args = parser.parse_args(argv)

    if args.step in ("train", "all", "export-onnx"):
        from app.training.export_onnx import require_export_tools

        require_export_tools()  # now, not after the hours of building and training before the export
    if args.step in ("build", "all"):
        from app.training.beats.dataset import BeatBuildConfig, build_beat_split
        from app.training.samples import load_all_banks

        banks = load_all_banks()
        config = BeatBuildConfig(args.data_dir, seed=args.seed, workers=args.workers, generators=tuple(args.generator))
        # New data: a checkpoint of the old would otherwise be resumed on it.
        for stale in ("checkpoint.keras", "checkpoint.json", "best.weights.h5"):
            (args.data_dir / "beats" / stale).unlink(missing_ok=True)
        for split, songs in (("val", args.val_songs), ("train", args.train_songs)):
            folder = build_beat_split(config, split, songs, banks)
            print(f"built {folder}: {(folder / 'build.json').read_text()}", flush=True)
    if args.step in ("train", "all"):
        from app.training.beats.train import BeatTrainConfig, train_beats

        metadata = train_beats(
            BeatTrainConfig(
                data_dir=args.data_dir,
                out_path=args.out,
                epochs=args.epochs,
                batch_size=args.batch_size,
                max_minutes=args.max_minutes,
                seed=args.seed,
                width=args.width,
                notes={"train_songs": args.train_songs, "val_songs": args.val_songs},
            )
        )
        print(json.dumps(metadata, indent=2), flush=True)
    if args.step in ("train", "all", "export-onnx"):
        from app.training.beats.export import export_beat_onnx

        print(json.dumps(export_beat_onnx(args.out), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
