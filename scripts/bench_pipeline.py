"""Benchmark the pipeline: seconds per stage, real-time factor and peak memory, per separator and length.

Each configuration runs in a fresh process that does nothing but the four stages, so its VmHWM is the
pipeline's peak memory. The song, a rendered groove (Hydrogen sampled kit) over a synthetic bass line,
is written beforehand by another process: rendering it takes more memory than transcribing it. Demucs
runs a full-size HTDemucs with random weights saved in demucs' local-repo layout: no weights can be
downloaded here, and speed and memory depend on the architecture, not on the weights' values.

    .venv/bin/python scripts/bench_pipeline.py [--durations 60 180] [--separators none hpss demucs]
        [--repeat N] [--cli] [--runtimes]

`model x` is the drum-hit model's own speed: audio length over a second, warm predict_hits stage
(features, network and peak picking; the model already loaded). `--repeat N` runs each configuration
N times and prints medians, for a shared machine. `--cli` adds, per song, the end-to-end time of a
fresh `drumscribe transcribe SONG --separator none` process (start-up and imports included), its CPU
time (user and system: what a busy machine changes least) and its peak memory, and the start-up time
and peak memory of a heavy-compute worker process (app.worker's load_models, then separate_drums and
predict_hits on the job). `--runtimes` times the bundled model's network alone on each song, in its
two forms side by side in one process (the Keras .h5 in TensorFlow, the .onnx in onnxruntime as a
worker runs it), and the log-mel features it is fed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def main() -> int:
    """Run every configuration in its own process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=float, nargs="+", default=[60.0, 180.0])
    parser.add_argument("--separators", nargs="+", default=["none", "hpss", "demucs"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; medians are printed")
    parser.add_argument("--cli", action="store_true", help="also time `drumscribe transcribe` and a heavy worker")
    parser.add_argument("--runtimes", action="store_true", help="also time the network alone: TensorFlow, onnxruntime")
    parser.add_argument("--one", nargs=2, metavar=("SEPARATOR", "SONG"), help=argparse.SUPPRESS)
    parser.add_argument("--render", nargs=2, metavar=("SECONDS", "SONG"), help="only write the benchmark's song")
    parser.add_argument("--heavy", metavar="JOB", help=argparse.SUPPRESS)
    parser.add_argument(
        "--transcribe", nargs=2, metavar=("SONG", "WORK"), help="only time one `drumscribe transcribe` (JSON line)"
    )
    parser.add_argument("--network", nargs=2, metavar=("REPEAT", "SONG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]))))
        return 0
    if args.render:
        render_song(float(args.render[0]), Path(args.render[1]))
        return 0
    if args.heavy:
        print(json.dumps(run_heavy(Path(args.heavy))))
        return 0
    if args.transcribe:
        print(json.dumps(run_transcribe(Path(args.transcribe[0]), Path(args.transcribe[1]))))
        return 0
    if args.network:
        print(json.dumps(run_network(int(args.network[0]), Path(args.network[1]))))
        return 0
    from app.core.config import Settings

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; drum-hit model {Settings().MODEL_URI} "
          f"(MODEL_URI); medians of {args.repeat} run(s)")  # fmt: skip
    print(f"{'separator':<10}{'audio s':>8}{'ingest':>8}{'separate':>10}{'predict':>9}{'notation':>10}"
          f"{'total':>8}{'x real':>8}{'peak MB':>9}{'model x':>9}")  # fmt: skip
    songs = Path(tempfile.mkdtemp(prefix="drumscribe-bench-songs-"))
    for seconds in args.durations:
        song = songs / f"{seconds:g}.wav"
        subprocess.run([sys.executable, __file__, "--render", str(seconds), str(song)], check=True)
    jobs: dict[float, Path] = {}
    for separator in args.separators:
        for seconds in args.durations:
            runs = [_subprocess_json("--one", separator, str(songs / f"{seconds:g}.wav")) for _ in range(args.repeat)]
            if any(isinstance(r, str) for r in runs):
                print(f"{separator:<10}{seconds:>8.0f}  failed: {next(r for r in runs if isinstance(r, str))}")
                continue
            if separator == "none":
                jobs[seconds] = Path(runs[0]["job"])
            t = {name: _median(r["timings"][name] for r in runs) for name in runs[0]["timings"]}
            total = _median(sum(r["timings"].values()) for r in runs)
            print(f"{separator:<10}{seconds:>8.0f}{t['ingest_audio']:>8.1f}{t['separate_drums']:>10.1f}"
                  f"{t['predict_hits']:>9.1f}{t['transcribe_and_export']:>10.1f}{total:>8.1f}"
                  f"{seconds / total:>8.2f}{_median(r['peak_mb'] for r in runs):>9.0f}"
                  f"{seconds / _median(r['model_s'] for r in runs):>9.0f}")  # fmt: skip
    if args.cli:
        _print_cli_table(args.durations, songs, jobs, args.repeat)
    if args.runtimes:
        print("\nthe bundled model's network alone, warm, chunked as the predictor does (x real)")
        print(f"{'audio s':>8}{'features':>10}{'tensorflow':>12}{'onnxruntime':>13}")
        for seconds in args.durations:
            r = _subprocess_json("--network", str(args.repeat), str(songs / f"{seconds:g}.wav"))
            if isinstance(r, str):
                print(f"{seconds:>8.0f}  failed: {r}")
                continue
            print(f"{seconds:>8.0f}{seconds / r['features']:>10.0f}{seconds / r['tensorflow']:>12.0f}"
                  f"{seconds / r['onnxruntime']:>13.0f}")  # fmt: skip
    return 0


def _print_cli_table(durations: list[float], songs: Path, jobs: dict[float, Path], repeat: int) -> None:
    print("\n`drumscribe transcribe SONG --separator none` in a fresh process, and a heavy worker process")
    print(f"{'audio s':>8}{'seconds':>9}{'x real':>8}{'CPU s':>7}{'peak MB':>9}{'worker start s':>16}"
          f"{'worker peak MB':>16}")  # fmt: skip
    for seconds in durations:
        song = songs / f"{seconds:g}.wav"
        work = Path(tempfile.mkdtemp(prefix="drumscribe-bench-cli-"))
        cli = [_subprocess_json("--transcribe", str(song), str(work)) for _ in range(repeat)]
        heavy = [_subprocess_json("--heavy", str(jobs[seconds])) for _ in range(repeat)] if seconds in jobs else []
        failed = [r for r in [*cli, *heavy] if isinstance(r, str)]
        if failed:
            print(f"{seconds:>8.0f}  failed: {failed[0]}")
            continue
        wall = _median(r["seconds"] for r in cli)
        start = _median(r["startup_s"] for r in heavy) if heavy else float("nan")
        peak = _median(r["peak_mb"] for r in heavy) if heavy else float("nan")
        print(f"{seconds:>8.0f}{wall:>9.1f}{seconds / wall:>8.1f}{_median(r['cpu_s'] for r in cli):>7.1f}"
              f"{_median(r['peak_mb'] for r in cli):>9.0f}"
              f"{start:>16.1f}{peak:>16.0f}")  # fmt: skip


def _subprocess_json(*args: str) -> dict[str, Any] | str:
    """The JSON this script prints in a fresh process run with `args`, or the last line of its error."""
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True, text=True, check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    if proc.returncode != 0:
        return str(proc.stderr.strip().splitlines()[-1:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _median(values: Iterable[float]) -> float:
    return float(statistics.median(values))


def render_song(seconds: float, song: Path) -> None:
    """Write the benchmark's song: a funk groove over a bass line, `seconds` long, stereo."""
    import numpy as np
    import soundfile as sf

    from app.pipeline.constants import SAMPLE_RATE
    from app.synth.grooves import FUNK_SIXTEENTHS, groove_from_pattern
    from app.synth.kits import default_sample_kit, render_groove

    bpm = 100.0
    bars = int(seconds / (4 * 60 / bpm)) + 1
    drums = render_groove(groove_from_pattern(FUNK_SIXTEENTHS, bpm=bpm, bars=bars), default_sample_kit())
    drums = drums[: int(seconds * SAMPLE_RATE)]
    t = np.arange(drums.size) / SAMPLE_RATE
    bass = 0.3 * np.sin(2 * np.pi * 55 * t * (1 + 0.5 * (np.floor(t / 2.4) % 2)))
    sf.write(song, np.stack([drums + bass, drums + bass], axis=1).astype(np.float32), SAMPLE_RATE)


def run_one(separator: str, song: Path) -> dict[str, object]:
    """Run the four stages on `song` and report timings and peak memory."""
    from app.core.config import Settings
    from app.pipeline import stages

    work = Path(tempfile.mkdtemp(prefix="drumscribe-bench-"))
    updates: dict[str, object] = {"SEPARATOR": separator, "MODEL_CACHE_DIR": work / "models"}
    if separator == "demucs":
        updates.update(DEMUCS_MODEL="bench_htdemucs", DEMUCS_REPO=_random_htdemucs(work / "demucs"))
    settings = Settings().model_copy(update=updates)

    timings: dict[str, float] = {}
    job = work / "job"
    job.mkdir()
    for name, call in (
        ("ingest_audio", lambda: stages.ingest_audio(song, job, settings=settings)),
        ("separate_drums", lambda: stages.separate_drums(job, settings=settings)),
        ("predict_hits", lambda: stages.predict_hits(job, settings=settings)),
        ("transcribe_and_export", lambda: stages.transcribe_and_export(job, settings=settings)),
    ):
        start = time.perf_counter()
        call()
        timings[name] = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    start = time.perf_counter()
    stages.predict_hits(job, settings=settings)  # warm: the model alone
    model_s = time.perf_counter() - start
    return {"timings": timings, "peak_mb": peak_mb, "model_s": model_s, "job": str(job)}


def run_heavy(job: Path) -> dict[str, float]:
    """A heavy-compute pool process with SEPARATOR=none: load_models at start-up, then stages 2 and 3 on `job`."""
    os.environ.update(SEPARATOR="none", MODEL_CACHE_DIR=str(job.parent / "models"))
    start = time.perf_counter()
    from app.pipeline import stages
    from app.worker import load_models, settings

    load_models()
    startup_s = time.perf_counter() - start
    stages.separate_drums(job, settings=settings)
    stages.predict_hits(job, settings=settings)
    return {"startup_s": startup_s, "peak_mb": _peak_rss_mb()}


def run_transcribe(song: Path, work: Path) -> dict[str, float]:
    """Wall time and peak memory of one `drumscribe transcribe SONG --separator none` process."""
    env = {**os.environ, "MODEL_CACHE_DIR": str(work / "models"), "XDG_DATA_HOME": str(work / "data")}
    command = [sys.executable, "-m", "app.cli", "transcribe", str(song), "--out", str(work / "out"),
               "--separator", "none", "--force", "--json"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    # This process has waited for nothing else, so its children's figures are the command's (with ffmpeg's).
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def run_network(repeat: int, song: Path) -> dict[str, float]:
    """Median seconds of the log-mel features, and of the bundled network in TensorFlow and in onnxruntime."""
    import numpy as np
    import soundfile as sf

    from app.core.config import BUNDLED_KERAS_MODEL_PATH, get_settings
    from app.pipeline.models import ModelResolver
    from app.pipeline.prediction import frame
    from app.pipeline.prediction.onnx_network import OnnxFrameNetwork

    audio, _sr = sf.read(song, dtype="float32")
    audio = frame.peak_scale(audio.mean(axis=1))
    features = frame.log_mel(audio)
    cache = Path(tempfile.mkdtemp(prefix="drumscribe-bench-net-"))
    networks = {
        "tensorflow": frame.keras_network(ModelResolver(str(BUNDLED_KERAS_MODEL_PATH), "h5", cache).get_keras_model()),
        "onnxruntime": OnnxFrameNetwork(
            ModelResolver(get_settings().MODEL_URI, "onnx", cache).get_onnx_session(get_settings().MODEL_THREADS)
        ),
    }

    def chunked(network: frame.FrameNetwork) -> None:
        for first in range(0, len(features), frame.CHUNK_FRAMES):
            lo = max(first - frame.CONTEXT_FRAMES, 0)
            np.asarray(network(features[np.newaxis, lo : first + frame.CHUNK_FRAMES + frame.CONTEXT_FRAMES]))

    times: dict[str, list[float]] = {"features": [], **{name: [] for name in networks}}
    for network in networks.values():
        chunked(network)  # first calls build kernels and plans
    for _ in range(repeat):  # alternating, so both forms share the machine's load
        start = time.perf_counter()
        frame.log_mel(audio)
        times["features"].append(time.perf_counter() - start)
        for name, network in networks.items():
            start = time.perf_counter()
            chunked(network)
            times[name].append(time.perf_counter() - start)
    return {name: _median(values) for name, values in times.items()}


def _random_htdemucs(repo: Path) -> Path:
    import torch
    import yaml
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"])
    args, kwargs = model._init_args_kwargs
    repo.mkdir(parents=True)
    package = {"klass": HTDemucs, "args": args, "kwargs": kwargs, "state": model.state_dict(), "training_args": {}}
    torch.save(package, repo / "b3nch000.th")
    (repo / "bench_htdemucs.yaml").write_text(yaml.safe_dump({"models": ["b3nch000"]}))
    return repo


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    sys.exit(main())
