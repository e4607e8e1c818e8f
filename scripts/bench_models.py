"""Benchmark the frame model's architectures alone: the CNN (v3's) against the CRNN, in onnxruntime as workers run them.

    .venv/bin/python scripts/bench_models.py [--seconds 93] [--threads 1 2] [--repeat 5] [--gru-units 64]
        [--model FILE.onnx ...]

Each architecture is built at its default size with random weights (speed depends on the architecture,
not on the weights' values), exported through the training's own ONNX path (app.training.export_onnx),
and run on the log-mel frames of `--seconds` of noise in the predictor's chunks (frame.CHUNK_FRAMES with
CONTEXT_FRAMES either side), with onnxruntime limited to each `--threads` count. `--model` adds trained
.onnx files. Printed per model and thread count: parameters, .onnx size, the median seconds of the
network alone (no features, no peak picking) and its real-time factor (audio seconds / that).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> int:
    """Export the architectures, time each in onnxruntime per thread count, print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=93.0, help="audio length the frames stand for")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per configuration; the median is printed")
    parser.add_argument("--gru-units", type=int, default=64)
    parser.add_argument("--model", type=Path, nargs="*", default=[], help="trained .onnx files to time as well")
    args = parser.parse_args()

    import keras
    import numpy as np
    import onnxruntime

    from app.pipeline.prediction import frame
    from app.training.export_onnx import convert
    from app.training.model import ARCHITECTURES, build_model

    keras.utils.set_random_seed(0)
    folder = Path(tempfile.mkdtemp(prefix="drumscribe-bench-models-"))
    models: dict[str, tuple[Path, int | None]] = {}
    for arch in ARCHITECTURES:
        model = build_model(arch=arch, gru_units=args.gru_units)
        path = folder / f"{arch}.onnx"
        convert(model, path)
        models[f"{arch} (random weights)"] = (path, int(model.count_params()))
    for path in args.model:
        models[str(path)] = (path, None)

    frames = frame.n_frames(int(args.seconds * frame.MODEL_SR))
    features = np.random.default_rng(0).uniform(-1, 1, (frames, frame.N_MELS)).astype(np.float32)
    print(f"{args.seconds:.0f} s of audio, {frames} frames; median of {args.repeat} runs")
    print(f"{'model':44} {'params':>9} {'onnx MB':>8} {'threads':>7} {'seconds':>8} {'x real time':>12}")
    for name, (path, params) in models.items():
        for threads in args.threads:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            input_name = session.get_inputs()[0].name

            def chunked(run: onnxruntime.InferenceSession = session, key: str = input_name) -> None:
                for first in range(0, frames, frame.CHUNK_FRAMES):
                    lo = max(first - frame.CONTEXT_FRAMES, 0)
                    hi = first + frame.CHUNK_FRAMES + frame.CONTEXT_FRAMES
                    run.run(None, {key: features[np.newaxis, lo:hi]})

            chunked()  # the first run plans the graph
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                chunked()
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            size = path.stat().st_size / 1e6
            shown = f"{params:,}" if params is not None else "-"
            print(f"{name[-44:]:44} {shown:>9} {size:8.2f} {threads:7d} {seconds:8.3f} {args.seconds / seconds:12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
