import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expect, test } from "vitest";

import { PIPELINE_FILE, REVISION_FILE, SCHEMA_FILE, TYPES_FILE, pipelineFor, revisionFor, typesFor } from "../scripts/openapi-types.mjs";

const root = join(import.meta.dirname, "..");

// backend/tests/unit/test_openapi_schema.py checks that openapi.json is the API's current schema;
// this checks that the client's types are generated from that very file.
test("lib/api/schema.d.ts is generated from the committed openapi.json (npm run api:generate)", async () => {
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_FILE), "utf8"));
  expect(readFileSync(join(root, TYPES_FILE), "utf8")).toBe(await typesFor(schema));
}, 30_000);

test("lib/api/pipeline.ts is generated from the committed openapi.json (npm run api:generate)", () => {
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_FILE), "utf8"));
  expect(readFileSync(join(root, PIPELINE_FILE), "utf8")).toBe(pipelineFor(schema));
});

test("lib/api/revision.ts is generated from the committed openapi.json (npm run api:generate)", () => {
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_FILE), "utf8"));
  expect(readFileSync(join(root, REVISION_FILE), "utf8")).toBe(revisionFor(schema));
});

test("the schema has what the UI calls", () => {
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_FILE), "utf8"));
  expect(Object.keys(schema.paths)).toEqual(
    expect.arrayContaining([
      "/api/v1/jobs",
      "/api/v1/jobs/{job_id}",
      "/api/v1/jobs/{job_id}/artifacts/{name}",
      "/api/v1/limits",
      "/api/v1/pipeline",
    ]),
  );
  expect(schema.components.schemas.JobStatus.enum).toEqual([
    "pending", "processing", "separating_drums", "predicting", "transcribing", "completed", "failed",
  ]); // prettier-ignore
});
