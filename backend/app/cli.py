"""The `drumscribe` command line: transcribe a song, or score the pipeline on annotated recordings."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import DrumScribeError
from app.core.logging import configure_logging

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `drumscribe` console command."""
    # TensorFlow's C++ start-up chatter would bury the progress display.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    configure_logging("DEBUG" if args.verbose else "WARNING", json=False)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("drumscribe: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drumscribe", description="Automatic drum transcription: a song in, drum sheet music out."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens inside the stages")
    commands = parser.add_subparsers(dest="command", required=True)

    transcribe = commands.add_parser(
        "transcribe",
        help="transcribe a song file or a link",
        description="Writes drums.wav, hits.json, sheet_music.musicxml, sheet_music.pdf and drums.mid to --out.",
    )
    transcribe.add_argument("source", help="an audio or video file, or an http(s) link (YouTube and others)")
    transcribe.add_argument("--out", required=True, type=Path, help="folder for the results (created)")
    _add_model_options(transcribe)
    transcribe.add_argument("--force", action="store_true", help="replace the results already in --out")
    output = transcribe.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print nothing but errors")
    output.add_argument("--json", action="store_true", help="print one JSON summary line")
    transcribe.set_defaults(handler=_transcribe)

    evaluate = commands.add_parser(
        "evaluate",
        help="score transcription accuracy on annotated recordings",
        description="DIR holds audio/NAME.wav and midi/NAME.mid pairs; prints per-class onset precision, recall "
        "and F-measure (±50 ms, micro-averaged over tracks) for the five standard classes and, beside them, closed "
        "and open hi-hat, ride and crash. Where DIR also has beats/NAME.beats (human beats: time in seconds "
        "and beat number in the bar, 1 = downbeat), the sheet is written and scored too: beat and downbeat "
        "F-measure (±70 ms), CMLt/AMLt, the tempo reading, and the notes in bars (sheet F).",
    )
    evaluate.add_argument("directory", type=Path)
    _add_model_options(evaluate)
    evaluate.add_argument(
        "--beats-from",
        type=Path,
        metavar="BEATS_DIR",
        help="write each sheet on the beats in BEATS_DIR/NAME.beats (same format; bars of 3 or 4 beats) instead "
        "of the beat tracker's, e.g. madmom's from scripts/madmom_beats.py",
    )
    evaluate.add_argument("--json", action="store_true", help="print the scores as one JSON line")
    evaluate.set_defaults(handler=_evaluate)

    serve = commands.add_parser(
        "serve",
        help="run the web app, the API and the workers on this machine",
        description="Runs the whole system with SQLite and an embedded broker: no PostgreSQL, Redis or Docker. "
        "DATABASE_URL and CELERY_BROKER_URL point it elsewhere.",
    )
    serve.add_argument("--host", help="address to listen on (default: API_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: API_PORT or 8000)")
    serve.add_argument(
        "--concurrency", type=int, default=2, help="processes for the light queue (ingest, notation); default 2"
    )
    serve.set_defaults(handler=_serve)

    download = commands.add_parser(
        "download-models",
        help="pre-seed the drum-hit model and the Demucs weights (needs internet once)",
        description="Fetches MODEL_URI into MODEL_DIR/complete_network/MODEL_VERSION/ and the Demucs model "
        "DEMUCS_MODEL into MODEL_DIR/demucs/, so workers start without downloading.",
    )
    download.add_argument("model_dir", type=Path, help="the MODEL_CACHE_DIR to fill")
    download.add_argument("--skip-demucs", action="store_true", help="only fetch the drum-hit model")
    download.set_defaults(handler=_download_models)
    return parser


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--separator",
        choices=("auto", "demucs", "hpss", "none"),
        help="drum separation; auto: Demucs where its weights are here or can be downloaded, else none "
        "(default: SEPARATOR or auto)",
    )
    parser.add_argument("--model", metavar="URI", help="drum-hit model: file://, plain path, http(s):// or s3://")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    updates: dict[str, Any] = {}
    if args.separator:
        updates["SEPARATOR"] = args.separator
    if args.model:
        # The cache is keyed by version: a model named on the command line gets a version of its own.
        digest = hashlib.sha256(args.model.encode()).hexdigest()[:12]
        updates.update(MODEL_URI=args.model, MODEL_VERSION=f"uri-{digest}")
    return settings.model_copy(update=updates)


def _transcribe(args: argparse.Namespace) -> int:
    from app.cli_progress import progress_reporter
    from app.pipeline.runner import run_pipeline

    settings = _settings(args)
    show = not (args.quiet or args.json)
    try:
        with progress_reporter(enabled=show) as on_progress:
            result = run_pipeline(args.source, args.out, settings=settings, force=args.force, on_progress=on_progress)
    except DrumScribeError as exc:
        return _fail(exc, as_json=args.json)
    doc = result.document
    summary = {
        "ok": True,
        "out": str(result.out_dir),
        "title": result.title,
        "duration_s": round(doc.duration_s, 3),
        "tempo_bpm": doc.tempo_bpm,
        "time_signature": doc.time_signature,
        "separator": doc.separator,
        "separator_reason": doc.separator_reason,
        "model": doc.model,
        "hits": len(doc.hits),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
    }
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(
            f"{result.title}: {len(doc.hits)} hits, {doc.tempo_bpm} bpm, {doc.time_signature}, "
            f"separator {doc.separator} ({doc.separator_reason}), model {doc.model}\nResults in {result.out_dir}"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.evaluation.runner import evaluate_directory, format_report

    settings = _settings(args)
    try:
        report = evaluate_directory(args.directory, settings=settings, beats_from=args.beats_from)
    except DrumScribeError as exc:
        return _fail(exc, as_json=args.json)
    print(json.dumps(report.to_dict()) if args.json else format_report(report))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from app.serve import ServeOptions, serve

    settings = Settings()
    configure_logging(settings.LOG_LEVEL, json=settings.LOG_JSON)
    options = ServeOptions(
        host=args.host or settings.API_HOST, port=args.port or settings.API_PORT, default_concurrency=args.concurrency
    )
    return serve(settings, options)


def _download_models(args: argparse.Namespace) -> int:
    from app.pipeline.models import ModelResolver
    from app.pipeline.separation.demucs_weights import seed_demucs_weights

    settings = Settings().model_copy(update={"MODEL_CACHE_DIR": args.model_dir.absolute(), "DEMUCS_REPO": None})
    try:
        path = ModelResolver.from_settings(settings).get_model_path()
        print(f"drum-hit model: {path}")
        if not args.skip_demucs:
            seed_demucs_weights(settings.DEMUCS_MODEL, settings.demucs_repo)
            print(f"Demucs {settings.DEMUCS_MODEL}: {settings.demucs_repo}")
    except DrumScribeError as exc:
        return _fail(exc, as_json=False)
    return 0


def _fail(exc: DrumScribeError, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"ok": False, "stage": exc.stage, "error": str(exc)}))
    else:
        print(f"drumscribe: {exc}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
