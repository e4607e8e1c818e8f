"""Audio constants, stated once."""

SAMPLE_RATE = 44_100
"""Every stage works at 44.1 kHz (Demucs' own rate)."""

# File names inside a job's work folder, as the operations manual lists the artifacts.
INPUT_AUDIO = "input.wav"
DRUMS_AUDIO = "drums.wav"
HITS_JSON = "hits.json"
MUSICXML = "sheet_music.musicxml"
PDF = "sheet_music.pdf"
MIDI = "drums.mid"
