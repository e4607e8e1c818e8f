"""Render the e2e tests' song: four bars of a 120 BPM rock beat on DrumScribe's sample kit (WAV, 44.1 kHz).

Run from backend/ with the project's Python: `python ../frontend/e2e/render_song.py OUT.wav`.
"""

import sys

import soundfile as sf

from app.synth.grooves import ROCK_BEAT, groove_from_pattern
from app.synth.kits import default_sample_kit, render_groove

audio = render_groove(groove_from_pattern(ROCK_BEAT, bpm=120, bars=4, start_s=0.5), default_sample_kit())
sf.write(sys.argv[1], audio, 44100)
