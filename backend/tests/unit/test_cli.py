"""The command line's own logic: options become settings, usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from app.cli import _parser, _settings, main


def test_model_option_sets_the_uri_and_a_version_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_VERSION", "v1.0.0")
    args = _parser().parse_args(["transcribe", "song.mp3", "--out", "o", "--model", "file:///m/a.h5"])
    first = _settings(args)
    args.model = "file:///m/b.h5"
    second = _settings(args)
    assert first.MODEL_URI == "file:///m/a.h5"
    # Two models must never share a cache entry, whatever MODEL_VERSION says.
    assert first.MODEL_VERSION != second.MODEL_VERSION
    assert first.MODEL_VERSION.startswith("uri-")


def test_without_options_the_environment_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEPARATOR", "hpss")
    monkeypatch.setenv("MODEL_VERSION", "v2")
    settings = _settings(_parser().parse_args(["transcribe", "song.mp3", "--out", "o"]))
    assert (settings.SEPARATOR, settings.MODEL_VERSION) == ("hpss", "v2")


def test_separator_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEPARATOR", "demucs")
    args = _parser().parse_args(["transcribe", "x.wav", "--out", "o", "--separator", "none"])
    assert _settings(args).SEPARATOR == "none"


@pytest.mark.parametrize(
    "argv",
    [
        ["transcribe", "x.wav"],  # --out is required
        ["transcribe", "x.wav", "--out", "o", "--separator", "spleeter"],
        ["transcribe", "x.wav", "--out", "o", "--quiet", "--json"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_download_models_fills_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "model.h5"
    with h5py.File(source, "w") as f:
        f["weights"] = [1.0, 2.0]
    monkeypatch.setenv("MODEL_URI", str(source))
    monkeypatch.setenv("MODEL_VERSION", "v9")
    assert main(["download-models", str(tmp_path / "cache"), "--skip-demucs"]) == 0
    cached = tmp_path / "cache" / "complete_network" / "v9" / "complete_network.h5"
    assert cached.read_bytes() == source.read_bytes()
    assert str(cached) in capsys.readouterr().out


def test_auto_is_the_default_separator_and_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEPARATOR", raising=False)
    assert _settings(_parser().parse_args(["transcribe", "x.wav", "--out", "o"])).SEPARATOR == "auto"
    monkeypatch.setenv("SEPARATOR", "none")
    args = _parser().parse_args(["evaluate", "dir", "--separator", "auto"])
    assert _settings(args).SEPARATOR == "auto"
