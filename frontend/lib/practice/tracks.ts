/**
 * The practice player's tracks, found among a job's files by name (all three are audio/wav): the original
 * song, the separated drums, and the band without the drums. A job made before song.wav existed, or by a
 * separator that keeps no rest of the band, has fewer; the player offers what there is.
 */
export type TrackName = "song" | "drums" | "band";

export type TrackSpec = { name: TrackName; label: string; url: string; audible: boolean };

const FILES: readonly { name: TrackName; file: string; label: string }[] = [
  { name: "song", file: "song.wav", label: "Song" },
  { name: "drums", file: "drums.wav", label: "Drums" },
  { name: "band", file: "band.wav", label: "Band" },
];

/**
 * The tracks a job has, in the mixer's order. With the band present, the band and the drums together are
 * the song, so the original starts muted: switching the drums off then leaves the band to play along to.
 */
export function practiceTracks(artifacts: readonly { name: string; url: string }[]): TrackSpec[] {
  const urls = new Map(artifacts.map((a) => [a.name, a.url]));
  const hasBand = urls.has("band.wav") && urls.has("drums.wav");
  return FILES.filter((f) => urls.has(f.file)).map((f) => ({
    name: f.name,
    label: f.label,
    url: urls.get(f.file)!,
    audible: !(f.name === "song" && hasBand),
  }));
}
