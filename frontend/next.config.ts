import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";

// scripts/copy-verovio.mjs puts verovio's WebAssembly module in public/vendor/verovio-<version>/.
const verovio = JSON.parse(readFileSync(join(process.cwd(), "node_modules/verovio/package.json"), "utf8")).version;

/**
 * Production: a static export (`out/`) that `drumscribe serve` and `server.mjs` serve next to the API.
 * trailingSlash makes every page a folder with an index.html (`/history/` → out/history/index.html),
 * which is how Starlette's StaticFiles(html=True) finds pages.
 * Development (`next dev`): the same pages, with /api proxied to API_URL (default http://localhost:8000).
 */
export default function nextConfig(phase: string): NextConfig {
  const config: NextConfig = {
    output: "export",
    trailingSlash: true,
    reactStrictMode: true,
    images: { unoptimized: true },
    poweredByHeader: false,
    env: { VEROVIO_MODULE_URL: `/vendor/verovio-${verovio}/verovio-module.mjs` },
  };
  if (phase !== PHASE_DEVELOPMENT_SERVER) return config;
  const api = (process.env.API_URL ?? "http://localhost:8000").replace(/\/$/, "");
  return {
    ...config,
    output: undefined,
    skipTrailingSlashRedirect: true,
    async rewrites() {
      return [{ source: "/api/:path*", destination: `${api}/api/:path*` }];
    },
  };
}
