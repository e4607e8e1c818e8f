import { NewJob } from "@/components/NewJob";
import { PipelineSteps } from "@/components/PipelineSteps";

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
        <PipelineSteps />
      </section>
    </div>
  );
}
