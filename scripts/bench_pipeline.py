"""Benchmark the pipeline: seconds per stage, real-time factor and peak memory, per separator and length.

Each configuration runs in a fresh process that does nothing but the four stages, so its VmHWM is the
pipeline's peak memory. The song, a rendered groove (Hydrogen sampled kit) over a synthetic bass line,
is written beforehand by another process: rendering it takes more memory than transcribing it. Demucs runs a full-size HTDemucs with random
weights saved in demucs' local-repo layout: no weights can be downloaded here, and speed and memory
depend on the architecture, not on the weights' values.

    .venv/bin/python scripts/bench_pipeline.py [--durations 60 180] [--separators none hpss demucs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    """Run every configuration in its own process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=float, nargs="+", default=[60.0, 180.0])
    parser.add_argument("--separators", nargs="+", default=["none", "hpss", "demucs"])
    parser.add_argument("--one", nargs=2, metavar=("SEPARATOR", "SONG"), help=argparse.SUPPRESS)
    parser.add_argument("--render", nargs=2, metavar=("SECONDS", "SONG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]))))
        return 0
    if args.render:
        render_song(float(args.render[0]), Path(args.render[1]))
        return 0
    from app.core.config import Settings

    print(f"{os.cpu_count()} CPUs; drum-hit model {Settings().MODEL_URI} (MODEL_URI)")
    print(f"{'separator':<10}{'audio s':>8}{'ingest':>8}{'separate':>10}{'predict':>9}{'notation':>10}"
          f"{'total':>8}{'x real':>8}{'peak MB':>9}")  # fmt: skip
    songs = Path(tempfile.mkdtemp(prefix="drumscribe-bench-songs-"))
    for seconds in args.durations:
        subprocess.run([sys.executable, __file__, "--render", str(seconds), str(songs / f"{seconds:g}.wav")], check=True)
    for separator in args.separators:
        for seconds in args.durations:
            proc = subprocess.run(
                [sys.executable, __file__, "--one", separator, str(songs / f"{seconds:g}.wav")],
                capture_output=True, text=True, check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )  # fmt: skip
            if proc.returncode != 0:
                print(f"{separator:<10}{seconds:>8.0f}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            t = r["timings"]
            total = sum(t.values())
            print(f"{separator:<10}{seconds:>8.0f}{t['ingest_audio']:>8.1f}{t['separate_drums']:>10.1f}"
                  f"{t['predict_hits']:>9.1f}{t['transcribe_and_export']:>10.1f}{total:>8.1f}"
                  f"{seconds / total:>8.2f}{r['peak_mb']:>9.0f}")  # fmt: skip
    return 0


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
    return {"timings": timings, "peak_mb": _peak_rss_mb()}


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
