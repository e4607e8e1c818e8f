import { NewJob } from "@/components/NewJob";

export default function HomePage() {
  return (
    <div className="page page--narrow">
      <h1 className="page__title">Turn a song into drum sheet music</h1>
      <p className="lead">
        Upload a song or paste a YouTube link. DrumScribe separates the drums, detects every hit and writes the
        sheet for you to read, play along and download as PDF, MusicXML or MIDI.
      </p>
      <NewJob />
      <section className="how" aria-labelledby="how-title">
        <h2 id="how-title" className="how__title">
          How it works
        </h2>
        <ol className="how__steps">
          <li>
            <strong>Separating drums</strong> — the drum track is isolated from the rest of the mix.
          </li>
          <li>
            <strong>Predicting hits</strong> — every kick, snare, hi-hat, tom and cymbal hit is detected.
          </li>
          <li>
            <strong>Writing the sheet</strong> — tempo, bars and notation, ready to read and download.
          </li>
        </ol>
      </section>
    </div>
  );
}
