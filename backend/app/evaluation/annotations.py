"""Reading reference drum annotations from General MIDI files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import mido

GM_CLASS: dict[int, str] = {
    **dict.fromkeys((35, 36), "KD"),
    **dict.fromkeys((37, 38, 39, 40), "SD"),
    **dict.fromkeys((41, 43, 45, 47, 48, 50), "TT"),
    **dict.fromkeys((42, 44, 46), "HH"),
    **dict.fromkeys((49, 51, 52, 53, 55, 57, 59), "CY"),
}
"""General MIDI drum notes of each standard class (the MDB Drums mapping)."""

GM_FINE_CLASS: dict[int, str] = {
    **dict.fromkeys((42, 44), "CHH"),
    46: "OHH",
    **dict.fromkeys((51, 53, 59), "RD"),
    **dict.fromkeys((49, 52, 55, 57), "CRC"),
}
"""General MIDI notes of the finer classes inside HH and CY (metrics.FINE_CLASSES): closed and pedal
hi-hat, open hi-hat, ride (bow, bell, ride 2), crash (crash 1 and 2, Chinese, splash)."""


def read_midi_onsets(path: Path, classes: Mapping[int, str] = GM_CLASS) -> dict[str, list[float]]:
    """Note-on times in seconds per class of `classes` (GM note → class); other notes are ignored."""
    onsets: dict[str, list[float]] = defaultdict(list)
    now = 0.0
    for message in mido.MidiFile(path):  # iterating a MidiFile yields delta times in seconds
        now += message.time
        if message.type == "note_on" and message.velocity > 0 and message.note in classes:
            onsets[classes[message.note]].append(now)
    return dict(onsets)
