#!/usr/bin/env node
// Regenerates openapi.json from the backend (scripts/export_openapi.py run in ../backend with ../.venv's
// Python, or $PYTHON) and the typed client's types (lib/api/schema.d.ts) from it. Run it after any change
// to the API. With --check, writes nothing and fails if either committed file is out of date.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { SCHEMA_FILE, TYPES_FILE, typesFor } from "./openapi-types.mjs";

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
const typesText = await typesFor(JSON.parse(schemaText));

if (check) {
  const stale = [
    [SCHEMA_FILE, schemaText],
    [TYPES_FILE, typesText],
  ].filter(([file, text]) => readFileSync(join(frontend, file), "utf8") !== text);
  if (stale.length) {
    console.error(`${stale.map(([f]) => f).join(" and ")} out of date: run \`npm run api:generate\` and commit the result`);
    process.exit(1);
  }
  console.log(`${SCHEMA_FILE} and ${TYPES_FILE} match the API`);
} else {
  writeFileSync(join(frontend, SCHEMA_FILE), schemaText);
  writeFileSync(join(frontend, TYPES_FILE), typesText);
  console.log(`wrote ${SCHEMA_FILE} and ${TYPES_FILE}`);
}
