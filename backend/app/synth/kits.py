"""Drum kits that render a Groove to audio: a synthesized kit, and Hydrogen kits from Debian's packages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf
import soxr

from app.pipeline.constants import SAMPLE_RATE
from app.synth.grooves import Groove

HYDROGEN_DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
"""Where Debian's `hydrogen-drumkits` package installs its kits."""


class Kit(Protocol):
    """Anything that returns a one-shot sample for an instrument and a velocity."""

    def sample(self, instrument: str, velocity: int) -> np.ndarray: ...


def render_groove(groove: Groove, kit: Kit, *, sr: int = SAMPLE_RATE, tail_s: float = 1.0) -> np.ndarray:
    """Mix every stroke of `groove` into one mono float32 signal at `sr`, peak-normalised to 0.9."""
    last = max((e.time for e in groove.events), default=0.0)
    length = int((max(groove.duration_s, last) + tail_s) * sr)
    out = np.zeros(length, dtype=np.float32)
    for event in groove.events:
        hit = kit.sample(event.instrument, event.velocity)
        start = round(event.time * sr)
        end = min(length, start + len(hit))
        out[start:end] += hit[: end - start]
    peak = float(np.max(np.abs(out))) or 1.0
    return (out * (0.9 / peak)).astype(np.float32)


def _decay(n: int, sr: int, tau_s: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau_s * sr)).astype(np.float32)


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def _highpass(x: np.ndarray, amount: float = 0.95) -> np.ndarray:
    # A first difference with leak: enough brightness for cymbals without a filter design.
    y = np.empty_like(x)
    y[0] = x[0]
    y[1:] = x[1:] - amount * x[:-1]
    return y


@dataclass
class SynthKit:
    """Drums made from sine sweeps and noise: fast, deterministic and needs no files."""

    sr: int = SAMPLE_RATE

    def sample(self, instrument: str, velocity: int) -> np.ndarray:
        """A one-shot for `instrument`, scaled by `velocity`."""
        sr = self.sr
        gain = velocity / 127.0
        if instrument == "kick":
            n = int(0.8 * sr)
            t = np.arange(n) / sr
            freq = 50 + 90 * np.exp(-t / 0.03)
            x = np.sin(2 * np.pi * np.cumsum(freq) / sr).astype(np.float32) * _decay(n, sr, 0.12)
        elif instrument == "snare":
            n = int(0.5 * sr)
            t = np.arange(n) / sr
            body = np.sin(2 * np.pi * 190 * t).astype(np.float32) * _decay(n, sr, 0.05)
            x = 0.6 * body + 0.5 * _noise(n, 1) * _decay(n, sr, 0.07)
        elif instrument in ("tom_high", "tom_mid", "tom_low"):
            base = {"tom_high": 220.0, "tom_mid": 160.0, "tom_low": 110.0}[instrument]
            n = int(1.0 * sr)
            t = np.arange(n) / sr
            freq = base * (1 + 0.3 * np.exp(-t / 0.05))
            x = np.sin(2 * np.pi * np.cumsum(freq) / sr).astype(np.float32) * _decay(n, sr, 0.15)
        elif instrument in ("hihat_closed", "hihat_open", "ride", "crash"):
            tau, length, seed = {
                "hihat_closed": (0.02, 0.15, 2),
                "hihat_open": (0.25, 1.8, 3),
                "ride": (0.4, 2.8, 4),
                "crash": (0.8, 4.0, 5),
            }[instrument]
            n = int(length * sr)
            x = 0.4 * _highpass(_highpass(_noise(n, seed))) * _decay(n, sr, tau)
        else:
            raise ValueError(f"SynthKit has no sound for {instrument!r}")
        # Every one-shot is long enough to decay about 60 dB; the last 20 ms fade to silence so its end is
        # not a click an onset detector would rightly report.
        fade = min(len(x), int(0.02 * sr))
        x[len(x) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return (gain * x).astype(np.float32)


# Hydrogen instrument names, lower-cased, that map onto DrumScribe's vocabulary (first match wins).
_HYDROGEN_NAMES: dict[str, tuple[str, ...]] = {
    "kick": ("kick", "bass drum", "bd"),
    "snare": ("snare rock", "snare", "sd"),
    "hihat_closed": ("closed hh", "hihat closed", "closed hi-hat", "hh closed", "closed hat"),
    "hihat_open": ("open hh", "hihat open", "open hi-hat", "hh open", "open hat"),
    "ride": ("ride rock", "ride"),
    "crash": ("crash",),
    "tom_high": ("tom hi", "tom high", "high tom", "hi tom"),
    "tom_mid": ("tom mid", "mid tom"),
    "tom_low": ("tom low", "low tom", "floor tom"),
}


@dataclass
class _Layer:
    low: float
    high: float
    gain: float
    audio: np.ndarray


class HydrogenKit:
    """A sampled kit in Hydrogen's drumkit.xml format, with its velocity layers."""

    def __init__(self, folder: Path, sr: int = SAMPLE_RATE) -> None:
        self.folder = Path(folder)
        self.sr = sr
        xml = self.folder / "drumkit.xml"
        if not xml.is_file():
            raise FileNotFoundError(f"{xml} not found: install Debian's hydrogen-drumkits package")
        root = ET.parse(xml).getroot()
        ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
        by_name = {}
        for inst in root.iter(f"{ns}instrument"):
            name = (inst.findtext(f"{ns}name") or "").strip().lower()
            by_name[name] = inst
        self._ns = ns
        self._instruments: dict[str, ET.Element] = {}
        for instrument, candidates in _HYDROGEN_NAMES.items():
            for candidate in candidates:
                match = next((el for n, el in by_name.items() if n == candidate), None) or next(
                    (el for n, el in by_name.items() if n.startswith(candidate)), None
                )
                if match is not None:
                    self._instruments[instrument] = match
                    break
        self._layers: dict[str, list[_Layer]] = {}

    @property
    def instruments(self) -> set[str]:
        """The DrumScribe instruments this kit can play."""
        return set(self._instruments)

    def _load_layers(self, instrument: str) -> list[_Layer]:
        if instrument not in self._layers:
            ns = self._ns
            layers = []
            for layer in self._instruments[instrument].iter(f"{ns}layer"):
                audio, sr = sf.read(self.folder / (layer.findtext(f"{ns}filename") or ""), dtype="float32")
                if audio.ndim == 2:
                    audio = audio.mean(axis=1)
                if sr != self.sr:
                    audio = soxr.resample(audio, sr, self.sr).astype(np.float32)
                layers.append(
                    _Layer(
                        low=float(layer.findtext(f"{ns}min") or 0.0),
                        high=float(layer.findtext(f"{ns}max") or 1.0),
                        gain=float(layer.findtext(f"{ns}gain") or 1.0),
                        audio=audio,
                    )
                )
            self._layers[instrument] = layers
        return self._layers[instrument]

    def sample(self, instrument: str, velocity: int) -> np.ndarray:
        """The velocity layer that covers `velocity`, scaled by it."""
        if instrument not in self._instruments:
            raise ValueError(f"kit {self.folder.name} has no {instrument}")
        v = velocity / 127.0
        layers = self._load_layers(instrument)
        layer = next((ly for ly in layers if ly.low <= v <= ly.high), layers[-1])
        return (layer.audio * layer.gain * v).astype(np.float32)


def default_sample_kit() -> HydrogenKit:
    """An acoustic multi-layer kit from hydrogen-drumkits that plays all nine instruments."""
    return HydrogenKit(HYDROGEN_DRUMKITS / "Millo_MultiLayered2")
