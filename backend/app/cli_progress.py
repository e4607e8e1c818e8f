"""The terminal progress display of `drumscribe transcribe`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from app.pipeline.runner import StageProgress
from app.pipeline.stage_table import STAGES

LABELS = {stage.name: stage.label for stage in STAGES}


@contextlib.contextmanager
def progress_reporter(*, enabled: bool) -> Iterator[StageProgress]:
    """Yield a stage-progress callback: a live bar per stage on a terminal, a line per stage otherwise."""
    if not enabled:
        yield lambda _stage, _fraction: None
        return
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        started: set[str] = set()

        def plain(stage: str, _fraction: float) -> None:
            if stage not in started:
                started.add(stage)
                print(f"{LABELS.get(stage, stage)}…", file=sys.stderr, flush=True)

        yield plain
        return
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def live(stage: str, fraction: float) -> None:
            if stage not in tasks:
                for other in tasks.values():
                    bars.update(other, completed=100)
                tasks[stage] = bars.add_task(LABELS.get(stage, stage), total=100)
            bars.update(tasks[stage], completed=max(0.0, min(1.0, fraction)) * 100)

        yield live
        for task in tasks.values():
            bars.update(task, completed=100)
