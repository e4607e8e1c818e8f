#!/usr/bin/env node
// Copies verovio's WebAssembly module into public/ (under its version, so browsers may cache it for
// good) instead of letting the bundler re-encode its 7 MB of embedded binary into a 12 MB chunk.
// Runs before `next build` and `next dev`; lib/verovio.ts loads it from VEROVIO_MODULE_URL.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(frontend, "package.json"));
const main = require.resolve("verovio"); // dist/verovio-toolkit-wasm.js
const version = JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")).version;
const target = join(frontend, "public", "vendor");
rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, `verovio-${version}`), { recursive: true });
copyFileSync(join(dirname(main), "verovio-module.mjs"), join(target, `verovio-${version}`, "verovio-module.mjs"));
console.log(`copied verovio ${version} to public/vendor/verovio-${version}/`);
