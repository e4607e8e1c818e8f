#!/usr/bin/env bash
# Sourced by the training scripts (train_model.sh, train_beat_model.sh): reads their arguments into
# `step` (all, or train with --skip-build) and `args`, and stops with the install command when a Debian
# package the synthetic songs are rendered from is missing.

step=all
args=()
while (($#)); do
    case "$1" in
        --skip-build) step=train ;;
        *) args+=("$1") ;;
    esac
    shift
done

command -v fluidsynth >/dev/null || { echo "missing fluidsynth: apt-get install fluidsynth" >&2; exit 1; }
[[ -d /usr/share/hydrogen/data/drumkits ]] || { echo "missing Hydrogen kits: apt-get install hydrogen-drumkits" >&2; exit 1; }
[[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]] || { echo "missing FluidR3_GM.sf2: apt-get install fluid-soundfont-gm" >&2; exit 1; }
# The bands of the training songs play MuseScore's font; the held-out songs' bands play TimGM6mb.
[[ -f /usr/share/sounds/sf3/MuseScore_General.sf3 ]] || { echo "missing MuseScore_General.sf3: apt-get install musescore-general-soundfont" >&2; exit 1; }
[[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ]] || { echo "missing TimGM6mb.sf2: apt-get install timgm6mb-soundfont" >&2; exit 1; }
