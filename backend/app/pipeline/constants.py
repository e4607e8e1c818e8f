"""Audio constants, stated once."""

SAMPLE_RATE = 44_100
"""Every stage works at 44.1 kHz (Demucs' own rate)."""

# File names inside a job's work folder, as the operations manual lists the artifacts.
INPUT_AUDIO = "input.wav"
SONG_AUDIO = "song.wav"
"""The song as decoded, in 16-bit PCM: what the practice player plays (input.wav is the 32-bit working copy)."""
DRUMS_AUDIO = "drums.wav"
BAND_AUDIO = "band.wav"
"""The song without its drums, where the separator produces that (Demucs, HPSS)."""
HITS_JSON = "hits.json"
MUSICXML = "sheet_music.musicxml"
PDF = "sheet_music.pdf"
MIDI = "drums.mid"
