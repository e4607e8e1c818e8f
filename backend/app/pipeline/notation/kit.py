"""How each DrumScribe instrument is written and played: staff position, notehead, voice, GM note."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drum:
    """One drum or cymbal of the kit as the sheet and the MIDI file know it."""

    name: str
    """Instrument name shown in MusicXML (and by notation programs that import it)."""
    abbreviation: str
    display: str
    """Staff position as a treble-clef pitch name: the percussion-clef convention of MusicXML."""
    notehead: str
    """music21 notehead: 'normal' for drums, 'x' for cymbals, 'circle-x' for the open hi-hat (which
    the score also marks with an "o" above, the sign most drummers look for)."""
    hands: bool
    """True: upper voice, stems up (hands). False: lower voice, stems down (feet)."""
    gm_note: int
    """General MIDI percussion key (channel 10)."""


KIT: dict[str, Drum] = {
    # Positions follow the common drum-set key (Weinberg / PAS): kick in the bottom space, snare in the
    # third space, toms descending from the fourth space, cymbals with x noteheads on and above the staff.
    "kick": Drum("Bass Drum", "BD", "F4", "normal", hands=False, gm_note=36),
    "snare": Drum("Snare Drum", "SD", "C5", "normal", hands=True, gm_note=38),
    "hihat_closed": Drum("Closed Hi-Hat", "HH", "G5", "x", hands=True, gm_note=42),
    "hihat_open": Drum("Open Hi-Hat", "HH o", "G5", "circle-x", hands=True, gm_note=46),
    "ride": Drum("Ride Cymbal", "Ride", "F5", "x", hands=True, gm_note=51),
    "crash": Drum("Crash Cymbal", "Crash", "A5", "x", hands=True, gm_note=49),
    "tom_high": Drum("High Tom", "T1", "E5", "normal", hands=True, gm_note=50),
    "tom_mid": Drum("Mid Tom", "T2", "D5", "normal", hands=True, gm_note=47),
    "tom_low": Drum("Floor Tom", "FT", "A4", "normal", hands=True, gm_note=43),
}
"""Every instrument of `app.pipeline.hits.INSTRUMENTS`, in that order (a unit test holds it to that)."""
