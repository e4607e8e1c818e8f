/**
 * A `fetch` for openapi-fetch that sends the request with XMLHttpRequest, because only XHR reports
 * upload progress over HTTP/1.1 (fetch with a streamed body needs HTTP/2 in Chromium).
 */
export type UploadProgress = { loaded: number; total: number };

function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const at = line.indexOf(":");
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return headers;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

export function xhrFetch(onProgress?: (p: UploadProgress) => void): (request: Request) => Promise<Response> {
  return async (request) => {
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.blob();
    return new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, request.url);
      xhr.responseType = "blob";
      xhr.withCredentials = true;
      request.headers.forEach((value, key) => xhr.setRequestHeader(key, value));
      if (onProgress && body) {
        xhr.upload.onprogress = (event) =>
          onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : body.size });
      }
      xhr.onload = () => {
        const status = xhr.status;
        resolve(
          new Response(NULL_BODY.has(status) ? null : (xhr.response as Blob), {
            status,
            statusText: xhr.statusText,
            headers: parseHeaders(xhr.getAllResponseHeaders()),
          }),
        );
      };
      xhr.onerror = () => reject(new TypeError("network error"));
      xhr.ontimeout = () => reject(new TypeError("network timeout"));
      xhr.onabort = () => reject(new DOMException("the upload was cancelled", "AbortError"));
      if (request.signal.aborted) {
        xhr.abort();
        return;
      }
      request.signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  };
}
