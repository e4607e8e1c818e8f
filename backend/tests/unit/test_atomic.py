"""Atomic writes: a failed write leaves neither a partial file nor a temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.pipeline.atomic import atomic_path, write_text_atomic


def test_success_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "out.txt"
    write_text_atomic(target, "old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("complete")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
