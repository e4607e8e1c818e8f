#!/usr/bin/env node
// Regenerates openapi.json from the backend (scripts/export_openapi.py run in ../backend with ../.venv's
// Python, or $PYTHON) and the typed client's types (lib/api/schema.d.ts) from it. Run it after any change
// to the API.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { SCHEMA_FILE, TYPES_FILE, typesFor } from "./openapi-types.mjs";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const backend = resolve(frontend, "../backend");
const python = process.env.PYTHON ?? resolve(frontend, "../.venv/bin/python");

const scratch = mkdtempSync(join(tmpdir(), "drumscribe-openapi-"));
let raw;
try {
  raw = execFileSync(
    python,
    [join(frontend, "scripts/export_openapi.py")],
    {
      cwd: backend,
      // A throwaway database so importing the app never touches a real one.
      env: { ...process.env, DATABASE_URL: `sqlite:///${join(scratch, "schema.sqlite")}`, LOG_JSON: "false" },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const schema = JSON.parse(raw);
writeFileSync(join(frontend, SCHEMA_FILE), JSON.stringify(schema, null, 2) + "\n");
writeFileSync(join(frontend, TYPES_FILE), await typesFor(JSON.parse(readFileSync(join(frontend, SCHEMA_FILE), "utf8"))));
console.log(`wrote ${SCHEMA_FILE} and ${TYPES_FILE}`);
