"""Measuring transcription accuracy the way the field does: per-class onset F-measure."""
