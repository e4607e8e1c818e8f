"""Time the learned beat tracker on a 3-minute song: features, network (onnxruntime, the bundled
ONNX file) and decoding, and their memory.

The song is a rock groove at 123 bpm with a fill every 4 bars, rendered with the synthesised kit, so
the figure needs no sample files. Each step is timed on its own (wall and CPU seconds, best of
--repeat runs) after one warm-up run; peak memory is Python's (tracemalloc) for the step.

    .venv/bin/python scripts/bench_beats.py [--seconds 180] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from app.pipeline.beats.decode import decode
from app.pipeline.beats.features import beat_features, peak_scale
from app.pipeline.beats.tracker import load_beat_model
from app.synth.grooves import ROCK_BEAT, TOM_FILL, groove_from_pattern
from app.synth.kits import SynthKit, render_groove


def _measure(step: Callable[[], Any], repeat: int) -> tuple[Any, float, float, float]:
    result = step()
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return result, best_wall, best_cpu, peak


def main() -> int:
    """Print the time and memory of each step of the learned beat tracker on one song."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bars = int(args.seconds * 123 / 60 / 4)
    rock = groove_from_pattern(ROCK_BEAT, bpm=123, bars=bars, start_s=0.5, fill=TOM_FILL)
    audio = peak_scale(render_groove(rock, SynthKit()))
    network = load_beat_model()
    features, *feature_cost = _measure(lambda: beat_features(audio), args.repeat)
    out, *network_cost = _measure(lambda: network(features[np.newaxis]), args.repeat)
    activations = [None if a is None else a[0] for a in out]
    track, *decode_cost = _measure(lambda: decode(*activations), args.repeat)
    # The same decoding without the tempo output: what that output costs, side by side.
    _, *untimed_cost = _measure(lambda: decode(*activations[:2]), args.repeat)
    print(f"{len(audio) / 44100:.0f} s of audio, {len(features)} frames")
    costs = (
        ("features", feature_cost),
        ("network", network_cost),
        ("decode", decode_cost),
        ("decode without tempo output", untimed_cost),
    )
    for name, (wall, cpu, peak) in costs:
        print(f"{name:>9}: {wall:.3f} s wall, {cpu:.3f} s CPU, peak {peak:.0f} MB (Python allocations)")
    truth = 0.5 + np.arange(bars * 4) * 60 / 123
    matched = np.sum(np.min(np.abs(track.times[:, None] - truth[None, :]), axis=1) < 0.07)
    print(f"tracked {len(track.times)} beats of {len(truth)}, {matched} within 70 ms")
    print(f"metre {track.metre}, tempo {track.tempo_bpm} bpm (played: 123)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
