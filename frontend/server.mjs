#!/usr/bin/env node
// The `frontend` service of the compose stack: serves the static export (out/) on PORT (3000) and
// passes /api/ on to the API at API_URL (http://api:8000 in compose), so the browser talks to one
// origin and the API's ownership cookie works as it does under `drumscribe serve`.
// Node's standard library only: nothing to install in the image beyond out/ and this file.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, readdirSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(process.env.FRONTEND_DIR ?? fileURLToPath(new URL("./out/", import.meta.url)));
const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? "0.0.0.0";
const API = new URL(process.env.API_URL ?? "http://localhost:8000");
const PROXIED = ["/api/"];

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

// The API's headers (backend/app/api/security_headers.py), on every response: no MIME sniffing, no
// framing, no job addresses leaked in Referer.
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;

/**
 * The pages' Content-Security-Policy, as the API builds it (page_policy in security_headers.py): the
 * site's own files, plus the inline scripts this build's pages start with (allowed by their hashes),
 * verovio's WebAssembly and music font (a data: URL), and drums.wav from the API.
 */
function pagePolicy(root) {
  const hashes = new Set();
  const pages = readdirSync(root, { recursive: true }).filter((name) => name.endsWith(".html"));
  for (const page of pages) {
    for (const [, script] of readFileSync(join(root, page), "utf8").matchAll(INLINE_SCRIPT)) {
      hashes.add(`'sha256-${createHash("sha256").update(script).digest("base64")}'`);
    }
  }
  const scripts = ["'self'", "'wasm-unsafe-eval'", ...[...hashes].sort()].join(" ");
  return (
    `default-src 'self'; script-src ${scripts}; style-src 'self'; font-src 'self' data:; img-src 'self'; ` +
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
    "frame-ancestors 'none'"
  );
}

const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
]); // prettier-ignore

function log(fields) {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), service: "frontend", ...fields }) + "\n");
}

function proxy(req, res) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== "host") headers[name] = value;
  }
  headers.host = API.host;
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-proto"] = req.socket.encrypted ? "https" : "http";
  headers["x-forwarded-for"] = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
  const upstream = (API.protocol === "https:" ? https : http).request(
    {
      protocol: API.protocol,
      hostname: API.hostname,
      port: API.port || (API.protocol === "https:" ? 443 : 80),
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => {
      const out = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => {
    log({ level: "error", event: "api_unreachable", api: API.origin, error: error.message });
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "the DrumScribe API is not reachable right now; try again in a moment" }));
    } else {
      res.destroy();
    }
  });
  req.pipe(upstream);
}

function fileAt(path) {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat : null;
  } catch {
    return null;
  }
}

function send(req, res, path, stat, status = 200) {
  const immutable = req.url.startsWith("/_next/static/") || req.url.startsWith("/vendor/");
  res.writeHead(status, {
    "content-type": TYPES[extname(path)] ?? "application/octet-stream",
    "content-length": stat.size,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    ...(extname(path) === ".html" ? { "content-security-policy": PAGE_POLICY } : {}),
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(path).pipe(res);
}

function serveStatic(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const url = new URL(req.url, "http://frontend");
  let pathname;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const path = normalize(join(ROOT, pathname));
  if (path !== ROOT && !path.startsWith(ROOT + sep)) {
    res.writeHead(404).end();
    return;
  }
  const file = fileAt(path);
  if (file) return send(req, res, path, file);
  // Pages are folders with an index.html (trailingSlash); a folder without its slash is redirected.
  const index = fileAt(join(path, "index.html"));
  if (index) {
    if (!pathname.endsWith("/")) {
      res.writeHead(308, { location: `${url.pathname}/${url.search}` }).end();
      return;
    }
    return send(req, res, join(path, "index.html"), index);
  }
  const notFound = join(ROOT, "404.html");
  const notFoundStat = fileAt(notFound);
  if (notFoundStat) return send(req, res, notFound, notFoundStat, 404);
  res.writeHead(404).end();
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  res.on("finish", () => {
    if (res.statusCode >= 500) log({ level: "error", method: req.method, path: req.url, status: res.statusCode, ms: Date.now() - started });
  });
  if (PROXIED.some((prefix) => req.url?.startsWith(prefix))) proxy(req, res);
  else serveStatic(req, res);
});
// Uploads of up to MAX_UPLOAD_MB may take a while on a slow line.
server.requestTimeout = 0;
server.headersTimeout = 60_000;

if (!fileAt(join(ROOT, "index.html"))) {
  log({ level: "error", event: "no_build", detail: `${ROOT}/index.html is missing: run \`npm run build\` first` });
  process.exit(1);
}
const PAGE_POLICY = pagePolicy(ROOT);
server.listen(PORT, HOST, () => log({ level: "info", event: "listening", url: `http://${HOST}:${PORT}/`, api: API.origin }));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
