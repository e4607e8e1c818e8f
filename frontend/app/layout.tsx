import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";

import { SiteHeader } from "@/components/SiteHeader";

import "./globals.css";

export const metadata: Metadata = {
  title: "DrumScribe — drum sheet music from any song",
  description: "Upload a song or paste a YouTube link: DrumScribe separates the drums, detects every hit and writes the drum sheet.",
  icons: { icon: "/icon.svg" },
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#1d3fb8",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <SiteHeader />
        <main id="main" className="main" tabIndex={-1}>
          {children}
        </main>
        <footer className="site-footer">
          <p>DrumScribe · automatic drum transcription. Results are kept for a limited time; download what you need.</p>
        </footer>
      </body>
    </html>
  );
}
