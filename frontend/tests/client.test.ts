import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";

import type * as Client from "@/lib/api/client";

const ORIGIN = "http://drumscribe.test";
let client: typeof Client;

beforeAll(async () => {
  vi.stubGlobal("location", { origin: ORIGIN });
  client = await import("@/lib/api/client");
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.stubGlobal("location", { origin: ORIGIN });
});

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

const JOB = {
  id: "j1",
  status: "pending",
  stage_progress: 0,
  error_message: null,
  failed_stage: null,
  source_kind: "url",
  source: "https://youtu.be/x",
  title: null,
  duration_s: null,
  tempo_bpm: null,
  time_signature: null,
  separator: null,
  separator_reason: null,
  model: null,
  hit_count: null,
  timings: {},
  created_at: "2026-11-25T12:00:00Z",
  updated_at: "2026-11-25T12:00:00Z",
  started_at: null,
  finished_at: null,
  artifacts: [],
};

describe("errorMessage", () => {
  test("the API's detail, verbatim", () => {
    const detail = "notes.txt is not an audio or video file DrumScribe can read; upload mp3, wav, flac";
    expect(client.errorMessage({ detail }, 415)).toBe(detail);
  });

  test("FastAPI's validation errors, joined", () => {
    expect(client.errorMessage({ detail: [{ msg: "Input should be a valid URL" }, { msg: "too long" }] }, 422)).toBe(
      "Input should be a valid URL; too long",
    );
  });

  test("a status in words when there is no detail", () => {
    expect(client.errorMessage(null, 0)).toMatch(/Could not reach DrumScribe/);
    expect(client.errorMessage("<html>Bad gateway</html>", 502)).toMatch(/HTTP 502/);
    expect(client.errorMessage(undefined, 429)).toMatch(/Too many transcriptions/);
    expect(client.errorMessage({}, 400)).toBe("The request was refused (HTTP 400).");
  });
});

describe("typed calls", () => {
  test("submitLink posts the link as JSON and returns the job", async () => {
    const fetch = vi.fn(async (_request: Request) => json(202, JOB));
    vi.stubGlobal("fetch", fetch);
    expect(await client.submitLink("https://youtu.be/x")).toEqual(JOB);
    const request = fetch.mock.calls[0][0];
    expect(request.method).toBe("POST");
    expect(request.url).toBe(`${ORIGIN}/api/v1/jobs`);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(await request.json()).toEqual({ url: "https://youtu.be/x" });
  });

  test("a 429 becomes an ApiError with the detail and Retry-After", async () => {
    const detail = "you already have 3 transcriptions running (MAX_CONCURRENT_JOBS_PER_USER=3)";
    vi.stubGlobal("fetch", vi.fn(async () => json(429, { detail }, { "Retry-After": "30" })));
    const error = await client.submitLink("https://youtu.be/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(client.ApiError);
    expect(error).toMatchObject({ message: detail, status: 429, retryAfterS: 30 });
  });

  test("a network failure becomes an ApiError with status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("fetch failed"))));
    await expect(client.listJobs()).rejects.toMatchObject({ status: 0 });
  });

  test("getJob reads the server's clock from the Date header", async () => {
    const date = "Wed, 25 Nov 2026 12:00:05 GMT";
    const fetch = vi.fn(async (_request: Request) => json(200, JOB, { Date: date }));
    vi.stubGlobal("fetch", fetch);
    const { job, serverNow } = await client.getJob("j 1");
    expect(job.id).toBe("j1");
    expect(serverNow).toBe(Date.parse(date));
    expect(fetch.mock.calls[0][0].url).toBe(`${ORIGIN}/api/v1/jobs/j%201`);
  });

  test("a missing job is a 404 ApiError with the API's words", async () => {
    const detail = "no such job (it may have expired, been deleted, or belong to another browser)";
    vi.stubGlobal("fetch", vi.fn(async () => json(404, { detail })));
    await expect(client.getJob("gone")).rejects.toMatchObject({ status: 404, message: detail });
  });

  test("getLimits reads the deployment's limits", async () => {
    const limits = { max_upload_mb: 40, max_duration_seconds: 300, max_concurrent_jobs_per_user: 2, artifact_ttl_hours: 24 };
    const fetch = vi.fn(async (_request: Request) => json(200, limits));
    vi.stubGlobal("fetch", fetch);
    expect(await client.getLimits()).toEqual(limits);
    expect(fetch.mock.calls[0][0].url).toBe(`${ORIGIN}/api/v1/limits`);
  });

  test("getPipeline reads the stages and artifacts the API describes", async () => {
    const pipeline = {
      stages: [{ name: "ingest_audio", job_status: "processing", label: "Reading audio", detail: "d", failure_label: "ingest" }],
      artifacts: [{ name: "drums.mid", content_type: "audio/midi", label: "MIDI", description: "For a DAW" }],
    };
    const fetch = vi.fn(async (_request: Request) => json(200, pipeline));
    vi.stubGlobal("fetch", fetch);
    expect(await client.getPipeline()).toEqual(pipeline);
    expect(fetch.mock.calls[0][0].url).toBe(`${ORIGIN}/api/v1/pipeline`);
  });

  test("listJobs asks for the newest 100", async () => {
    const fetch = vi.fn(async (_request: Request) => json(200, { jobs: [JOB], total: 1 }));
    vi.stubGlobal("fetch", fetch);
    expect((await client.listJobs()).total).toBe(1);
    expect(fetch.mock.calls[0][0].url).toBe(`${ORIGIN}/api/v1/jobs?limit=100`);
  });

  test("deleteJob: 204 and an already-gone 404 are both fine", async () => {
    const fetch = vi.fn(async (_request: Request) => new Response(null, { status: 204 }));
    vi.stubGlobal("fetch", fetch);
    await client.deleteJob("j1");
    expect(fetch.mock.calls[0][0].method).toBe("DELETE");
    vi.stubGlobal("fetch", vi.fn(async () => json(404, { detail: "no such job" })));
    await client.deleteJob("j1");
  });

  test("artifactText returns the file's text", async () => {
    const fetch = vi.fn(async (_request: Request) => new Response("<score-partwise/>", { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    expect(await client.artifactText("j1", "sheet_music.musicxml")).toBe("<score-partwise/>");
    expect(fetch.mock.calls[0][0].url).toBe(`${ORIGIN}/api/v1/jobs/j1/artifacts/sheet_music.musicxml`);
  });
});

/** Just enough of XMLHttpRequest for xhrFetch: it records what is sent and answers on demand. */
class FakeXhr {
  static last: FakeXhr;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: Blob | null = null;
  status = 0;
  statusText = "";
  response: Blob | null = null;
  responseType = "";
  withCredentials = false;
  responseHeaders = "";
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  aborted = false;

  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getAllResponseHeaders() {
    return this.responseHeaders;
  }
  send(body: Blob | null) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  answer(status: number, body: string, headers: string) {
    this.status = status;
    this.response = new Blob([body]);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

/** The request xhrFetch sends next (it reads the body first, so it sends a moment later). */
async function sent(): Promise<FakeXhr> {
  const before = FakeXhr.last;
  for (let i = 0; i < 100 && (FakeXhr.last === before || !FakeXhr.last.body); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return FakeXhr.last;
}

describe("uploadSong (XMLHttpRequest, for upload progress)", () => {
  test("sends the file as multipart field `file`, reports progress, returns the job", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const file = new File(["RIFF....WAVE"], "Rock Groove.wav", { type: "audio/wav" });
    const progress: { loaded: number; total: number }[] = [];
    const pending = client.uploadSong(file, (p) => progress.push(p));
    const xhr = await sent();
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe(`${ORIGIN}/api/v1/jobs`);
    expect(xhr.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const text = await xhr.body!.text();
    expect(text).toContain('name="file"; filename="Rock Groove.wav"');
    expect(text).toContain("RIFF....WAVE");
    xhr.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true });
    xhr.answer(202, JSON.stringify({ ...JOB, source_kind: "upload" }), "content-type: application/json\r\nlocation: /api/v1/jobs/j1\r\n");
    expect((await pending).source_kind).toBe("upload");
    expect(progress).toEqual([{ loaded: 5, total: 10 }]);
  });

  test("a refusal (413) comes back with the API's detail", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const detail = "the upload is larger than 100 MB (MAX_UPLOAD_MB); upload a compressed file";
    const pending = client.uploadSong(new File(["x"], "big.wav"));
    (await sent()).answer(413, JSON.stringify({ detail }), "content-type: application/json\r\n");
    await expect(pending).rejects.toMatchObject({ status: 413, message: detail });
  });

  test("cancelling aborts the request", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const controller = new AbortController();
    const pending = client.uploadSong(new File(["x"], "a.wav"), undefined, controller.signal);
    const xhr = await sent();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(xhr.aborted).toBe(true);
  });
});
