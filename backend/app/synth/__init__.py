"""Synthetic drum audio with exact labels: grooves written as patterns, rendered through a drum kit.

Used by the tests (audio with known onsets), the benchmarks and the training-data builder.
"""
