/**
 * What the end-to-end tests run against: a real `drumscribe serve` (API, workers, SQLite and the
 * embedded broker) serving this build's static export, and Debian's Chromium driven by playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const FRONTEND = resolve(import.meta.dirname, "..");
export const REPO = resolve(FRONTEND, "..");
export const BACKEND = join(REPO, "backend");
export const PYTHON = process.env.DRUMSCRIBE_PYTHON ?? join(REPO, ".venv", "bin", "python");
export const MODEL = process.env.DRUMSCRIBE_TEST_MODEL ?? resolve(REPO, "..", "shared", "models", "annoteator", "complete_network.h5");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const OUT = join(FRONTEND, "out");
export const SHOTS = process.env.UI_SHOTS_DIR ?? "/tmp/ui-shots";

/** Flags that keep Chromium off the network in this closed environment (and quiet). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--autoplay-policy=no-user-gesture-required",
];

/** Why the e2e tests cannot run here, or null. */
export function missingPrerequisite(): string | null {
  if (!existsSync(MODEL)) return `the reference CNN is not at ${MODEL} (../shared/models/annoteator)`;
  if (!existsSync(CHROMIUM)) return `Chromium is not at ${CHROMIUM} (apt-get install chromium)`;
  if (!existsSync(PYTHON)) return `the backend's Python is not at ${PYTHON} (scripts/bootstrap.sh)`;
  if (!existsSync(join(OUT, "index.html"))) return `${OUT}/index.html is missing: run \`npm run build\` first`;
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Renders the test song (e2e/render_song.py) into `path`. */
export function renderSong(path: string): void {
  const run = spawnSync(PYTHON, [join(FRONTEND, "e2e", "render_song.py"), path], { cwd: BACKEND, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`render_song.py failed: ${run.stderr}`);
}

export type Serve = { base: string; dataDir: string; log: string; stop: () => Promise<number | null> };

/** The input limits the test deployment runs with. */
export const E2E_LIMITS = { max_upload_mb: 50, max_duration_seconds: 600 };

const INHERITED_STATE = ["DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ARTIFACTS_DIR", "MODEL_CACHE_DIR"];

/** Starts `drumscribe serve` on a free port, with all its state in a fresh folder. */
export async function startServe(): Promise<Serve> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "drumscribe-e2e-"));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !INHERITED_STATE.includes(k)),
  ) as NodeJS.ProcessEnv;
  Object.assign(env, {
    XDG_DATA_HOME: join(dataDir, "data"),
    SEPARATOR: "none",
    MODEL_URI: `file://${MODEL}`,
    FRONTEND_DIR: OUT,
    LOG_JSON: "false",
    TF_CPP_MIN_LOG_LEVEL: "2",
    // Limits other than the defaults, so the tests see the page take them from /api/v1/limits.
    MAX_UPLOAD_MB: String(E2E_LIMITS.max_upload_mb),
    MAX_DURATION_SECONDS: String(E2E_LIMITS.max_duration_seconds),
    // The failing-link test fetches from this machine; links to private addresses are refused otherwise.
    LINK_ALLOWED_NETWORKS: "127.0.0.0/8",
  });
  const log = join(dataDir, "serve.log");
  const child: ChildProcess = spawn(PYTHON, ["-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: BACKEND,
    env,
    stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
  });
  const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  try {
    await Promise.race([
      waitFor(async () => (await fetch(`${base}/api/v1/health`)).ok, 120_000, "drumscribe serve to answer"),
      exited.then((code) => {
        throw new Error(`drumscribe serve exited with ${code}; see ${log}`);
      }),
    ]);
  } catch (exc) {
    await stop();
    throw exc;
  }
  return { base, dataDir, log, stop };
}

/** Starts the compose `frontend` service's command (server.mjs) in front of `apiUrl`. */
export async function startFrontendServer(apiUrl: string): Promise<{ base: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(FRONTEND, "server.mjs")], {
    cwd: FRONTEND,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", API_URL: apiUrl },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/`)).ok, 15_000, "server.mjs to answer");
  return {
    base,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
