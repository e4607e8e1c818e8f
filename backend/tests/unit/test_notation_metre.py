"""How the notation stage counts and writes each metre (app.pipeline.notation.metre)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.pipeline.notation.metre import (
    beat_quarters,
    counted_beats,
    is_compound,
    written_beat_quarters,
    written_beats,
    written_per_counted,
)


@pytest.mark.parametrize(
    ("metre", "compound", "counted", "quarters", "written", "written_quarters"),
    [
        ("4/4", False, 4, 1, 4, 1),
        ("3/4", False, 3, 1, 3, 1),
        ("2/2", False, 2, 2, 4, 1),
        ("3/2", False, 3, 2, 6, 1),
        ("6/8", True, 2, Fraction(3, 2), 2, Fraction(3, 2)),
        ("12/8", True, 4, Fraction(3, 2), 4, Fraction(3, 2)),
        ("5/8", False, 5, Fraction(1, 2), 5, Fraction(1, 2)),
    ],
)
def test_counted_and_written_beats(
    metre: str, compound: bool, counted: int, quarters: Fraction, written: int, written_quarters: Fraction
) -> None:
    assert is_compound(metre) is compound
    assert (counted_beats(metre), beat_quarters(metre)) == (counted, quarters)
    assert (written_beats(metre), written_beat_quarters(metre)) == (written, written_quarters)
    # A bar lasts as long counted as written.
    assert counted * quarters == written * written_quarters
    assert written_per_counted(metre) == written // counted
