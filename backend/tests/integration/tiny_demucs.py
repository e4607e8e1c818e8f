"""A small HTDemucs with seeded random weights, saved in demucs' local-repo layout (no network)."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from demucs.htdemucs import HTDemucs

SOURCES = ["drums", "bass", "other", "vocals"]


def save_tiny_model(repo: Path, name: str, sig: str, sources: list[str] = SOURCES) -> None:
    """A small seeded HTDemucs in demucs' local-repo layout: `{sig}.th` and a `{name}.yaml` bag."""
    torch.manual_seed(0)
    # 2 s segments so a few seconds of audio already take several of them; depth 3 keeps it fast.
    model = HTDemucs(sources=sources, channels=8, depth=3, t_layers=1, t_heads=2, nfft=2048, segment=2)
    args, kwargs = model._init_args_kwargs
    package = {"klass": HTDemucs, "args": args, "kwargs": kwargs, "state": model.state_dict(), "training_args": {}}
    repo.mkdir(parents=True, exist_ok=True)
    torch.save(package, repo / f"{sig}.th")
    (repo / f"{name}.yaml").write_text(yaml.safe_dump({"models": [sig]}))
