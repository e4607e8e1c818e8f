"""`python -m app.training build|train|all|export-onnx|ensemble`: build the synthetic data, train the
frame-level model (saved as .h5 and exported to .onnx), export an existing .h5 to ONNX again, or average
trained models (`--members A.h5 B.h5`) into one, its thresholds chosen on --data-dir's held-out windows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.training.dataset import BAND_SHARE, STEM_SHARE
from app.training.train import FINETUNE_LEARNING_RATE, LEARNING_RATE

DEFAULT_DATA_DIR = Path.home() / ".cache" / "drumscribe-train"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "pipeline" / "models" / "bundled" / "drumscribe_frame.h5"


def learning_rate(given: float | None, init_from: Path | None) -> float:
    """The peak learning rate: the one given, else the fine-tuning rate when starting from a model."""
    if given is not None:
        return given
    return FINETUNE_LEARNING_RATE if init_from is not None else LEARNING_RATE


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen step."""
    parser = argparse.ArgumentParser(prog="python -m app.training", description=__doc__)
    parser.add_argument("step", choices=("build", "train", "all", "export-onnx", "ensemble"))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where the data goes (not the repo)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the exported .h5 (.onnx and metadata beside it)")
    parser.add_argument("--train-songs", type=int, default=6000, help="synthetic training songs (8–16 s each)")
    parser.add_argument("--val-songs", type=int, default=150, help="held-out songs on held-out kits")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop training after this long (0: never)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workers", type=int, default=2, help="processes rendering songs")
    parser.add_argument("--arch", choices=("cnn", "crnn"), default="cnn", help="the network (model.ARCHITECTURES)")
    parser.add_argument("--gru-units", type=int, default=64, help="GRU units per direction of the crnn")
    parser.add_argument("--resume", action="store_true", help="carry on from the last epoch of an interrupted run")
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="fine-tune: start from this exported model's weights (.h5 with its .json; same --arch and sizes)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help=f"peak learning rate (default {LEARNING_RATE:g}; {FINETUNE_LEARNING_RATE:g} with --init-from)",
    )
    parser.add_argument("--band-share", type=float, default=BAND_SHARE, help="share of songs with a full band")
    parser.add_argument("--stem-share", type=float, default=STEM_SHARE, help="share of songs imitating a drum stem")
    parser.add_argument(
        "--members", type=Path, nargs="+", default=[], help="ensemble: the trained .h5 models to average"
    )
    args = parser.parse_args(argv)
    if args.step == "ensemble" and len(args.members) < 2:
        parser.error("ensemble needs --members with two or more .h5 models")

    if args.step in ("build", "all"):
        from app.training.dataset import BuildConfig, build_split
        from app.training.samples import load_all_banks

        banks = load_all_banks()
        config = BuildConfig(
            args.data_dir,
            seed=args.seed,
            workers=args.workers,
            band_share=args.band_share,
            stem_share=args.stem_share,
        )
        for split, songs in (("val", args.val_songs), ("train", args.train_songs)):
            folder = build_split(config, split, songs, banks)
            print(f"built {folder}: {(folder / 'build.json').read_text()}", flush=True)
    if args.step in ("train", "all"):
        from app.training.train import TrainConfig, train

        metadata = train(
            TrainConfig(
                data_dir=args.data_dir,
                out_path=args.out,
                epochs=args.epochs,
                batch_size=args.batch_size,
                max_minutes=args.max_minutes,
                seed=args.seed,
                arch=args.arch,
                gru_units=args.gru_units,
                resume=args.resume,
                init_from=args.init_from,
                learning_rate=learning_rate(args.learning_rate, args.init_from),
                notes={
                    "train_songs": args.train_songs,
                    "val_songs": args.val_songs,
                    "band_share": args.band_share,
                    "stem_share": args.stem_share,
                },
            )
        )
        print(json.dumps(metadata, indent=2), flush=True)
    if args.step == "ensemble":
        from app.training.ensemble import make_ensemble

        print(json.dumps(make_ensemble(args.members, args.data_dir, args.out), indent=2), flush=True)
    if args.step == "export-onnx":
        from app.training.export_onnx import export_beside

        print(json.dumps(export_beside(args.out), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
