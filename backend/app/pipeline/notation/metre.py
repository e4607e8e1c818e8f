"""Time signatures as the notation stage counts them: simple metres count quarter notes (or halves, eighths:
one beat of the denominator), compound metres (6/8, 12/8) count dotted quarters of three 8ths."""

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
