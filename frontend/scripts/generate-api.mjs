#!/usr/bin/env node
// Regenerates openapi.json from the backend (scripts/export_openapi.py run in ../backend with ../.venv's
// Python, or $PYTHON), and from it the typed client's types (lib/api/schema.d.ts), the pipeline's
// description (lib/api/pipeline.ts) and what a revision may fix (lib/api/revision.ts). Run it after any
// change to the API or to the backend's stage table.
// With --check, writes nothing and fails if any committed file is out of date.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { PIPELINE_FILE, REVISION_FILE, SCHEMA_FILE, TYPES_FILE, pipelineFor, revisionFor, typesFor } from "./openapi-types.mjs";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const backend = resolve(frontend, "../backend");
const python = process.env.PYTHON ?? resolve(frontend, "../.venv/bin/python");
const check = process.argv.includes("--check");

const scratch = mkdtempSync(join(tmpdir(), "drumscribe-openapi-"));
let raw;
try {
  raw = execFileSync(python, [join(frontend, "scripts/export_openapi.py")], {
    cwd: backend,
    // A throwaway database so importing the app never touches a real one.
    env: { ...process.env, DATABASE_URL: `sqlite:///${join(scratch, "schema.sqlite")}`, LOG_JSON: "false" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const schemaText = JSON.stringify(JSON.parse(raw), null, 2) + "\n";
const files = [
  [SCHEMA_FILE, schemaText],
  [TYPES_FILE, await typesFor(JSON.parse(schemaText))],
  [PIPELINE_FILE, pipelineFor(JSON.parse(schemaText))],
  [REVISION_FILE, revisionFor(JSON.parse(schemaText))],
];
const names = files.map(([f]) => f).join(", ");

if (check) {
  const stale = files.filter(([file, text]) => readFileSync(join(frontend, file), "utf8") !== text);
  if (stale.length) {
    console.error(`${stale.map(([f]) => f).join(", ")} out of date: run \`npm run api:generate\` and commit the result`);
    process.exit(1);
  }
  console.log(`${names} match the API`);
} else {
  for (const [file, text] of files) writeFileSync(join(frontend, file), text);
  console.log(`wrote ${names}`);
}
