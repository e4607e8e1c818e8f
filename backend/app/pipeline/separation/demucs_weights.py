"""Finding, loading and caching Demucs weights, and seeding them into a local folder.

A pre-seeded folder uses demucs' own local-repo layout, so `demucs.pretrained.get_model(name, repo)`
reads it unchanged: one `{signature}[-{sha256 prefix}].th` file per model (a pickled dict with
klass, args, kwargs and state) and a `{name}.yaml` bag listing the signatures under `models:`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import torch
import yaml
from demucs.pretrained import REMOTE_ROOT, _parse_remote_files, get_model
from demucs.repo import ModelLoadingError, check_checksum

from app.core.config import Settings
from app.core.errors import SeparatorUnavailableError
from app.core.logging import get_logger
from app.pipeline.atomic import atomic_path, write_bytes_atomic
from app.pipeline.constants import SAMPLE_RATE
from app.pipeline.separation.weights_folder import hf_offline, holds_model

log = get_logger(__name__)

DRUMS = "drums"

_models: dict[tuple[str, Path], Any] = {}
# One lock for the cache: a worker's threads must not load the same weights twice at once.
_models_lock = threading.Lock()


def load_demucs_model(settings: Settings, *, allow_download: bool = True) -> Any:
    """The Demucs model (a demucs `BagOfModels` or single model) named by DEMUCS_MODEL, in eval mode.

    Looks in `settings.demucs_repo` first; only when the model is not there, and `allow_download` is
    true and HF_HUB_OFFLINE is not set, does it try demucs' own download. The result is cached per
    process, keyed by (model, folder). Raises SeparatorUnavailableError when the weights cannot be had.
    """
    key = (settings.DEMUCS_MODEL, settings.demucs_repo)
    with _models_lock:
        if key not in _models:
            _models[key] = _load(*key, allow_download=allow_download, timeout_s=settings.MODEL_DOWNLOAD_TIMEOUT_SECONDS)
        return _models[key]


def _load(name: str, repo: Path, *, allow_download: bool, timeout_s: float) -> Any:
    started = time.monotonic()
    source = "local"
    # demucs ends the process (sys.exit through its `fatal`) for some problems, such as a quantised
    # model without diffq installed; a worker must report that as an error instead of dying.
    try:
        model = _load_local(name, repo)
    except (Exception, SystemExit) as exc:
        raise SeparatorUnavailableError(
            f"Demucs model '{name}' in {repo} could not be loaded ({exc}). " + _how_to_seed(name)
        ) from exc
    if model is None:
        if not allow_download or hf_offline():
            why = "HF_HUB_OFFLINE is set" if allow_download else "downloads are not allowed here"
            raise SeparatorUnavailableError(f"Demucs model '{name}' is not in {repo} and {why}. " + _how_to_seed(name))
        source = "download"
        try:
            with _socket_timeout(timeout_s):
                model = get_model(name)
        except (Exception, SystemExit) as exc:
            raise SeparatorUnavailableError(
                f"Demucs model '{name}' is not in {repo} and downloading it failed ({exc}). " + _how_to_seed(name)
            ) from exc
    _check_usable(model, name)
    log.info(
        "demucs_model_loaded",
        model=name,
        repo=str(repo),
        source=source,
        elapsed_s=round(time.monotonic() - started, 2),
    )
    return model


def _load_local(name: str, repo: Path) -> Any | None:
    """The model from `repo`, or None when the folder does not hold it."""
    return get_model(name, repo=repo) if holds_model(repo, name) else None


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # demucs' legacy download goes through torch.hub, which opens URLs without a timeout; on a host
    # whose firewall drops packets that would hang the worker for good. A default timeout bounds it.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _how_to_seed(name: str) -> str:
    return (
        "Pre-seed the weights with `scripts/download_models.sh MODEL_DIR` (it downloads into "
        f"MODEL_CACHE_DIR/demucs), or set DEMUCS_REPO to a folder holding {name}.yaml and its .th "
        "files, or choose SEPARATOR=hpss."
    )


def _check_usable(model: Any, name: str) -> None:
    if DRUMS not in model.sources:
        raise SeparatorUnavailableError(
            f"Demucs model '{name}' separates {list(model.sources)}, which has no '{DRUMS}' source; "
            "choose a four- or six-source model such as htdemucs."
        )
    if model.samplerate != SAMPLE_RATE:
        raise SeparatorUnavailableError(
            f"Demucs model '{name}' works at {model.samplerate} Hz; DrumScribe needs {SAMPLE_RATE} Hz."
        )


def download_urls(name: str) -> list[str]:
    """Where `seed_demucs_weights` would fetch model `name` from: its first file in demucs' legacy
    repository (when listed there) and its bag file on the HuggingFace hub (HF_ENDPOINT honoured)."""
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
    from huggingface_hub import hf_hub_url

    urls = []
    legacy = _parse_remote_files(REMOTE_ROOT / "files.txt")
    bag = REMOTE_ROOT / f"{name}.yaml"
    first = yaml.safe_load(bag.read_text())["models"][0] if bag.is_file() else name
    if first in legacy:
        urls.append(legacy[first])
    urls.append(hf_hub_url(f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}", f"{name}.yaml"))
    return urls


def download_weights(settings: Settings) -> None:
    """Seed DEMUCS_MODEL into the weights folder, each network operation bounded by
    MODEL_DOWNLOAD_TIMEOUT_SECONDS. Raises SeparatorUnavailableError when that fails."""
    repo = settings.demucs_repo
    try:
        with _socket_timeout(settings.MODEL_DOWNLOAD_TIMEOUT_SECONDS):
            seed_demucs_weights(settings.DEMUCS_MODEL, repo)
    except OSError as exc:
        raise SeparatorUnavailableError(
            f"Could not write Demucs model '{settings.DEMUCS_MODEL}' into {repo}: {exc}"
        ) from exc


def seed_demucs_weights(name: str, repo: Path) -> None:
    """Download Demucs model `name` into `repo` in demucs' local-repo layout (needs network).

    Tries demucs' legacy file list first, whose `.th` files are stored as published and checked against
    the sha256 prefix in their names, then the HuggingFace hub, whose safetensors are re-packed as `.th`.
    Files already present are kept. The bag file is written last, so a half-seeded folder never looks
    complete. Raises SeparatorUnavailableError when neither source delivers.
    """
    repo.mkdir(parents=True, exist_ok=True)
    try:
        _seed_from_file_list(name, repo)
    except Exception as legacy_exc:  # any failure of the first source is a reason to try the second
        try:
            _seed_from_hf(name, repo)
        except Exception as hf_exc:
            raise SeparatorUnavailableError(
                f"Could not download Demucs model '{name}' into {repo}: "
                f"legacy repository: {legacy_exc}; HuggingFace hub: {hf_exc}"
            ) from hf_exc
    log.info("demucs_weights_seeded", model=name, repo=str(repo))


def _has_signature(repo: Path, sig: str) -> bool:
    return (repo / f"{sig}.th").exists() or any(repo.glob(f"{sig}-*.th"))


def _seed_from_file_list(name: str, repo: Path) -> None:
    urls = _parse_remote_files(REMOTE_ROOT / "files.txt")
    bag = REMOTE_ROOT / f"{name}.yaml"
    if bag.is_file():
        signatures = yaml.safe_load(bag.read_text())["models"]
    elif name in urls:
        signatures = [name]
    else:
        raise KeyError(f"'{name}' is neither a bag nor a signature in demucs' file list")
    for sig in signatures:
        url = urls[sig]
        target = repo / url.rsplit("/", 1)[1]  # "{sig}-{sha256 prefix}.th", as LocalRepo expects
        checksum = target.stem.split("-", 1)[1]
        if target.exists():
            try:
                check_checksum(target, checksum)
                continue
            except ModelLoadingError:
                target.unlink()  # a damaged earlier download: fetch it again
        if not _has_signature(repo, sig):
            # torch.hub writes to a temporary name beside the target and checks the hash before renaming.
            torch.hub.download_url_to_file(url, str(target), hash_prefix=checksum, progress=False)
    if bag.is_file():
        write_bytes_atomic(repo / bag.name, bag.read_bytes())


def _seed_from_hf(name: str, repo: Path) -> None:
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name, load_safetensors_model
    from huggingface_hub import hf_hub_download

    repo_id = f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}"
    bag = Path(hf_hub_download(repo_id, f"{name}.yaml"))
    for sig in yaml.safe_load(bag.read_text())["models"]:
        if _has_signature(repo, sig):
            continue
        model = load_safetensors_model(hf_hub_download(repo_id, f"{sig}.safetensors"))
        args, kwargs = cast(tuple[list[Any], dict[str, Any]], model._init_args_kwargs)
        package = {"klass": type(model), "args": args, "kwargs": kwargs, "state": model.state_dict()}
        with atomic_path(repo / f"{sig}.th") as tmp:
            torch.save(package, tmp)
    write_bytes_atomic(repo / bag.name, bag.read_bytes())
