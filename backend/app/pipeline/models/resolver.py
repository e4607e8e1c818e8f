"""ModelResolver: fetch the drum-hit model once, keep it on disk by version, load it once per process.

The manual's resolution flow:

1. MODEL_CACHE_DIR/complete_network/{MODEL_VERSION}/complete_network.h5 — used as is when present
   (complete_network.onnx for an ONNX model).
2. On a miss, fetch MODEL_URI by scheme: http(s):// with a streaming httpx download, s3://bucket/key
   with boto3 (AWS_ENDPOINT_URL and the usual AWS_* variables apply), file:// or a plain path with
   shutil.copy2.
3. Load it once per process: a Keras .h5 with TensorFlow, a .onnx with onnxruntime. The format is
   the one MODEL_URI's file name ends in (.onnx, anything else is a Keras .h5), so the runtime that
   loads a model is known before anything is fetched, and an ONNX model never imports TensorFlow.

A fetch always goes to a temporary file beside the cache path and is renamed into place only after it
is complete and reads as the expected format, so a broken download is never cached and two processes
filling the same cache cannot see each other's half-written file.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

import h5py
import httpx

from app.core.config import Settings, get_settings
from app.core.errors import ModelUnavailableError
from app.core.logging import get_logger
from app.core.native_output import native_stderr_silenced
from app.pipeline.atomic import atomic_path

if TYPE_CHECKING:
    import keras
    import onnxruntime

MODEL_NAME = "complete_network"
MODEL_FILENAME = f"{MODEL_NAME}.h5"
ONNX_MODEL_FILENAME = f"{MODEL_NAME}.onnx"

ModelFormat = Literal["keras", "onnx"]

_ONNX_FIRST_BYTE = b"\x08"
"""An ONNX ModelProto starts with its field 1 (ir_version, a varint): tag byte 0x08."""

_PRESEED = "(or pre-seed the cache with scripts/download_models.sh)"
_CHUNK_BYTES = 1 << 20

log = get_logger(__name__)


def _display_uri(uri: str) -> str:
    """`uri` without a password or query string, which may hold credentials (presigned URLs)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https"):
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def model_format(uri: str) -> ModelFormat:
    """ "onnx" when MODEL_URI's file name ends in .onnx (query string aside), else "keras" (an .h5)."""
    return "onnx" if urlsplit(uri).path.lower().endswith(".onnx") else "keras"


def _received(response: httpx.Response | None) -> int:
    return response.num_bytes_downloaded if response is not None else 0


class ModelResolver:
    """Finds the drum-hit model for one MODEL_URI and MODEL_VERSION, fetching it into the cache if needed.

    Thread-safe: one thread fetches while the others wait, and the model is loaded once.
    """

    def __init__(self, uri: str, version: str, cache_dir: Path, *, timeout_s: float = 120.0) -> None:
        if not version or version in (".", "..") or "/" in version or "\\" in version:
            raise ModelUnavailableError(
                f"MODEL_VERSION={version!r} cannot name a cache folder; use a plain name such as v1.0.0"
            )
        self.uri = uri
        self.version = version
        self.cache_dir = Path(cache_dir)
        self.timeout_s = timeout_s
        self._fetch_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._model: keras.Model | None = None
        self._session: onnxruntime.InferenceSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelResolver:
        """A resolver for MODEL_URI, MODEL_VERSION, MODEL_CACHE_DIR and MODEL_DOWNLOAD_TIMEOUT_SECONDS."""
        return cls(
            settings.MODEL_URI,
            settings.MODEL_VERSION,
            settings.MODEL_CACHE_DIR,
            timeout_s=settings.MODEL_DOWNLOAD_TIMEOUT_SECONDS,
        )

    @property
    def model_format(self) -> ModelFormat:
        """The model's file format, from MODEL_URI's file name: "onnx" or "keras"."""
        return model_format(self.uri)

    @property
    def cache_path(self) -> Path:
        """Where this version of the model lives once fetched."""
        filename = ONNX_MODEL_FILENAME if self.model_format == "onnx" else MODEL_FILENAME
        return self.cache_dir / MODEL_NAME / self.version / filename

    @property
    def display_uri(self) -> str:
        """MODEL_URI as it may appear in logs and messages (no password, no query string)."""
        return _display_uri(self.uri)

    def get_model_path(self) -> Path:
        """The cached model file, fetched from MODEL_URI first if this version is not cached yet."""
        path = self.cache_path
        if path.is_file() and not self._stale(path):
            return path
        with self._fetch_lock:
            if path.is_file() and not self._stale(path):  # another thread fetched it while this one waited
                return path
            log.info("model_cache_miss", uri=self.display_uri, version=self.version, cache_path=str(path))
            started = time.monotonic()
            try:
                with atomic_path(path) as tmp:
                    self._fetch(tmp)
                    if self.model_format == "onnx":
                        self._check_onnx(tmp)
                    else:
                        self._check_hdf5(tmp)
            except OSError as exc:  # the cache folder itself: read-only, full, missing permissions
                raise ModelUnavailableError(
                    f"could not write the model cache at {path}: {exc}; make MODEL_CACHE_DIR writable {_PRESEED}"
                ) from exc
            log.info(
                "model_cached",
                uri=self.display_uri,
                version=self.version,
                cache_path=str(path),
                bytes=path.stat().st_size,
                seconds=round(time.monotonic() - started, 2),
            )
        return path

    def get_keras_model(self) -> keras.Model:
        """The Keras model, loaded on first call and shared by every later call in this process."""
        if self.model_format != "keras":
            raise ModelUnavailableError(
                f"MODEL_URI={self.display_uri} names an ONNX model, which onnxruntime runs, not Keras; "
                "point MODEL_URI at the .h5 file for TensorFlow"
            )
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    path = self.get_model_path()
                    # Imported here: TensorFlow takes seconds to import and only predicting processes need it.
                    with native_stderr_silenced():
                        import keras

                    try:
                        with warnings.catch_warnings():
                            # Keras 3 reading a Keras 2 Sequential .h5 warns about `input_shape` on
                            # every load; it is harmless and would fill each worker's start-up log.
                            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
                            self._model = keras.models.load_model(path, compile=False)
                    except Exception as exc:  # Keras raises many kinds for a damaged or foreign file
                        raise ModelUnavailableError(
                            f"Keras could not load the cached model {path} ({type(exc).__name__}: {exc}); "
                            "delete that file so the next start fetches it again from "
                            f"{self.display_uri} (the manual's 'Corrupted Model Cache' procedure)"
                        ) from exc
        return self._model

    def get_onnx_session(self, intra_op_threads: int = 0) -> onnxruntime.InferenceSession:
        """The onnxruntime session of an ONNX model, made on first call and shared in this process.

        `intra_op_threads` threads run each operator (0: onnxruntime's default, one per physical core);
        operators run one after another, since the network is a single chain.
        """
        if self.model_format != "onnx":
            raise ModelUnavailableError(
                f"MODEL_URI={self.display_uri} names a Keras .h5 model, which TensorFlow runs, not onnxruntime; "
                "point MODEL_URI at a .onnx file for onnxruntime"
            )
        if self._session is None:
            with self._load_lock:
                if self._session is None:
                    path = self.get_model_path()
                    # Imported here: the API process never runs a model.
                    import onnxruntime

                    options = onnxruntime.SessionOptions()
                    options.intra_op_num_threads = max(intra_op_threads, 0)
                    options.inter_op_num_threads = 1
                    # Idle threads sleep rather than spin: a worker shares its cores with other stages
                    # and processes, and this network is too small for spinning to pay (measured).
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    options.log_severity_level = 3  # errors only: its warnings name graph internals
                    try:
                        self._session = onnxruntime.InferenceSession(
                            str(path), options, providers=["CPUExecutionProvider"]
                        )
                    except Exception as exc:  # onnxruntime raises its own kinds for a damaged or foreign file
                        raise ModelUnavailableError(
                            f"onnxruntime could not load the cached model {path} ({type(exc).__name__}: {exc}); "
                            "delete that file so the next start fetches it again from "
                            f"{self.display_uri} (the manual's 'Corrupted Model Cache' procedure)"
                        ) from exc
        return self._session

    # Fetching -----------------------------------------------------------------------------------

    def _local_source(self) -> Path | None:
        """The file MODEL_URI names when it is file:// or a plain path; None for remote URIs."""
        parts = urlsplit(self.uri)
        scheme = parts.scheme.lower()
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ModelUnavailableError(
                    f"MODEL_URI={self.uri} names host {parts.netloc!r}; a file:// URI must be local "
                    "(file:///path/to/complete_network.h5)"
                )
            return Path(url2pathname(parts.path))
        return Path(self.uri).expanduser() if scheme == "" else None

    def _stale(self, cached: Path) -> bool:
        """True when MODEL_URI is a local file that changed since it was copied (a new bundled model).

        Remote models are fetched once per MODEL_VERSION, as the operations manual says; a local file
        costs one stat to check, and copy2 keeps its size and modification time on the cached copy.
        """
        source = self._local_source()
        if source is None or not source.is_file():
            return False
        mine, theirs = cached.stat(), source.stat()
        return (mine.st_size, int(mine.st_mtime)) != (theirs.st_size, int(theirs.st_mtime))

    def _fetch(self, dest: Path) -> None:
        parts = urlsplit(self.uri)
        scheme = parts.scheme.lower()
        local = self._local_source()
        if local is not None:
            self._copy_local(local, dest)
        elif scheme in ("http", "https"):
            self._download_http(dest)
        elif scheme == "s3":
            self._download_s3(parts.netloc, parts.path.lstrip("/"), dest)
        else:
            raise ModelUnavailableError(
                f"MODEL_URI={self.display_uri} has the scheme {scheme!r}; use https://, http://, s3://, "
                "file:// or a local path"
            )

    def _download_http(self, dest: Path) -> None:
        uri, path = self.display_uri, self.cache_path
        deadline = time.monotonic() + self.timeout_s
        response: httpx.Response | None = None
        expected: int | None = None
        try:
            # The timeout bounds each connect and read; the deadline below bounds the whole download.
            with httpx.stream("GET", self.uri, timeout=self.timeout_s, follow_redirects=True) as response:
                if response.status_code != 200:
                    raise ModelUnavailableError(
                        f"downloading the drum-hit model from {uri} failed: HTTP {response.status_code} "
                        f"{response.reason_phrase}; nothing was cached at {path}; check MODEL_URI {_PRESEED}"
                    )
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                with dest.open("wb") as out:
                    for chunk in response.iter_bytes(_CHUNK_BYTES):
                        out.write(chunk)
                        if time.monotonic() > deadline:
                            raise ModelUnavailableError(
                                f"downloading the drum-hit model from {uri} took longer than "
                                f"MODEL_DOWNLOAD_TIMEOUT_SECONDS={self.timeout_s:g} "
                                f"({response.num_bytes_downloaded} bytes so far); nothing was cached at {path}; "
                                f"raise the limit {_PRESEED}"
                            )
        except httpx.TimeoutException as exc:
            raise ModelUnavailableError(
                f"downloading the drum-hit model from {uri} timed out after {self.timeout_s:g} s without data "
                f"({_received(response)} bytes received); nothing was cached at {path}; check the network "
                f"{_PRESEED}"
            ) from exc
        except httpx.TransportError as exc:
            if response is not None:
                raise ModelUnavailableError(f"{self._broke_off(_received(response), expected)} ({exc})") from exc
            raise ModelUnavailableError(
                f"could not reach {uri} to download the drum-hit model ({exc}); nothing was cached at {path}; "
                f"check the network and MODEL_URI {_PRESEED}"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ModelUnavailableError(
                f"downloading the drum-hit model from {uri} failed ({exc}); nothing was cached at {path}; "
                f"check MODEL_URI {_PRESEED}"
            ) from exc
        # Content-Length counts the bytes on the wire, as num_bytes_downloaded does.
        if expected is not None and _received(response) != expected:
            raise ModelUnavailableError(self._broke_off(_received(response), expected))

    def _broke_off(self, received: int, expected: int | None) -> str:
        of = f"{received} of {expected}" if expected is not None else f"{received}"
        return (
            f"the download from {self.display_uri} broke off after {of} bytes; nothing was cached at "
            f"{self.cache_path}; check the network {_PRESEED}"
        )

    def _download_s3(self, bucket: str, key: str, dest: Path) -> None:
        # boto3 is imported here: only processes that fetch from S3 need it, and it is slow to import.
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        uri, path = self.uri, self.cache_path
        if not bucket or not key:
            raise ModelUnavailableError(f"MODEL_URI={uri} must name a bucket and a key: s3://bucket/path/model.h5")
        config = Config(connect_timeout=self.timeout_s, read_timeout=self.timeout_s, retries={"max_attempts": 3})
        try:
            boto3.client("s3", config=config).download_file(bucket, key, str(dest))
        except NoCredentialsError as exc:
            raise ModelUnavailableError(
                f"no AWS credentials to fetch {uri}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or give "
                f"the worker an IAM role); nothing was cached at {path} {_PRESEED}"
            ) from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchBucket"):
                reason = "the S3 object was not found; check the bucket and key in MODEL_URI"
            elif code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                reason = "S3 refused access; check the AWS credentials and the bucket policy"
            else:
                reason = f"S3 answered {code or 'an error'}"
            raise ModelUnavailableError(
                f"fetching the drum-hit model from {uri} failed: {reason} ({exc}); nothing was cached at {path} "
                f"{_PRESEED}"
            ) from exc
        except BotoCoreError as exc:
            raise ModelUnavailableError(
                f"fetching the drum-hit model from {uri} failed ({exc}); check the network and "
                f"AWS_ENDPOINT_URL; nothing was cached at {path} {_PRESEED}"
            ) from exc

    def _copy_local(self, source: Path, dest: Path) -> None:
        if not source.is_file():
            raise ModelUnavailableError(
                f"MODEL_URI={self.uri} points to {source}, but there is no such file; check the path "
                f"(nothing was cached at {self.cache_path})"
            )
        try:
            shutil.copy2(source, dest)
        except OSError as exc:
            raise ModelUnavailableError(
                f"could not copy the drum-hit model from {source} to the cache at {self.cache_path}: {exc}"
            ) from exc

    def _check_hdf5(self, fetched: Path) -> None:
        if h5py.is_hdf5(fetched):
            return
        with fetched.open("rb") as f:
            head = f.read(32)
        raise ModelUnavailableError(
            f"what MODEL_URI={self.display_uri} returned is not an HDF5 Keras model "
            f"({os.path.getsize(fetched)} bytes starting {head!r}); nothing was cached at {self.cache_path}; "
            "point MODEL_URI at the .h5 file itself (on GitHub the /raw/ link, not the page)"
        )

    def _check_onnx(self, fetched: Path) -> None:
        with fetched.open("rb") as f:
            head = f.read(32)
        if head[:1] == _ONNX_FIRST_BYTE:
            return
        hint = (
            "it is a Keras .h5 model: name it .h5 in MODEL_URI so TensorFlow loads it"
            if h5py.is_hdf5(fetched)
            else "point MODEL_URI at the .onnx file itself (on GitHub the /raw/ link, not the page)"
        )
        raise ModelUnavailableError(
            f"what MODEL_URI={self.display_uri} returned is not an ONNX model "
            f"({os.path.getsize(fetched)} bytes starting {head!r}); nothing was cached at {self.cache_path}; {hint}"
        )


_resolvers: dict[tuple[str, str, Path, float], ModelResolver] = {}
_resolvers_lock = threading.Lock()


def get_model_resolver(settings: Settings | None = None) -> ModelResolver:
    """The process's one resolver for the settings' model, so the model is fetched and loaded only once."""
    settings = settings or get_settings()
    key = (
        settings.MODEL_URI,
        settings.MODEL_VERSION,
        Path(settings.MODEL_CACHE_DIR),
        settings.MODEL_DOWNLOAD_TIMEOUT_SECONDS,
    )
    with _resolvers_lock:
        if key not in _resolvers:
            _resolvers[key] = ModelResolver.from_settings(settings)
        return _resolvers[key]
