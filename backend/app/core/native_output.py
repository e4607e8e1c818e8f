"""Keeping native libraries' start-up chatter out of DrumScribe's own output."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration of the block.

    TensorFlow's C++ runtime prints banners (oneDNN, CPU features, absl) straight to fd 2 when it is
    imported, whatever TF_CPP_MIN_LOG_LEVEL says; they would break the CLI's progress display and the
    workers' JSON log lines. Python-level errors still propagate as exceptions.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
