"""Whether Demucs weights are at hand, answered without importing torch or demucs (seconds of start-up).

The weights folder uses demucs' own local-repo layout: one `{signature}[-{sha256 prefix}].th` file per
model and a `{name}.yaml` bag listing signatures; a name is there when either file is.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.core.config import Settings


def holds_model(repo: Path, name: str) -> bool:
    """Whether `repo` holds Demucs model `name`, as a bag file or as a single model's weights."""
    if not repo.is_dir():
        return False
    if (repo / f"{name}.yaml").is_file():
        return True
    # demucs' LocalRepo: the signature is the stem up to its last "-" (the checksum follows it).
    return any(path.suffix == ".th" and path.stem.rsplit("-", 1)[0] == name for path in repo.iterdir())


def has_local_model(settings: Settings) -> bool:
    """Whether the weights folder (`settings.demucs_repo`) holds DEMUCS_MODEL; nothing is loaded."""
    return holds_model(settings.demucs_repo, settings.DEMUCS_MODEL)


def hf_offline() -> bool:
    """Whether HF_HUB_OFFLINE, the standard switch for air-gapped hosts, is set."""
    # Read now rather than at import, so it can be set late.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
