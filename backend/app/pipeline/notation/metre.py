"""Time signatures as the notation stage counts them: simple metres count quarter notes (or halves, eighths:
one beat of the denominator), compound metres (6/8, 12/8) count dotted quarters of three 8ths.

A sheet's rhythm is written beat by beat, each beat on its own grid (8ths, 16ths, triplets). That written
beat is the counted one, except in x/2 metres (2/2, cut time), where a half note is counted but its two
quarters are written as the same bar in 4/4 would write them: cut time changes the count, not the notes.
"""

from __future__ import annotations

from fractions import Fraction


def is_compound(time_signature: str) -> bool:
    """Whether the beat is a dotted quarter of three 8ths: 6/8, 12/8 (any x/8 with x a multiple of 3)."""
    numerator, denominator = (int(x) for x in time_signature.split("/"))
    return denominator == 8 and numerator % 3 == 0


def counted_beats(time_signature: str) -> int:
    """The beats a drummer counts in a bar: the numerator, or its third in compound metres."""
    numerator = int(time_signature.split("/")[0])
    return numerator // 3 if is_compound(time_signature) else numerator


def beat_quarters(time_signature: str) -> Fraction:
    """Quarter notes in one counted beat: 3/2 in compound metres, else one beat of the denominator."""
    if is_compound(time_signature):
        return Fraction(3, 2)
    return Fraction(4, int(time_signature.split("/")[1]))


def written_beat_quarters(time_signature: str) -> Fraction:
    """Quarter notes in one written beat: a quarter in x/2 metres, else the counted beat."""
    if is_compound(time_signature):
        return Fraction(3, 2)
    return min(beat_quarters(time_signature), Fraction(1))


def written_per_counted(time_signature: str) -> int:
    """Written beats in one counted beat: 2 in x/2 metres, else 1."""
    return int(beat_quarters(time_signature) / written_beat_quarters(time_signature))


def written_beats(time_signature: str) -> int:
    """Written beats in a bar: the counted beats, or two quarters to each counted half in x/2 metres."""
    return counted_beats(time_signature) * written_per_counted(time_signature)
