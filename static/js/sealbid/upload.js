// The browser's client of the resumable bid upload (docs/bid-upload-api.md), the counterpart of
// the bid tool's `upload` command (bidding/tool/upload.py), with the same steps:
//
//   1. read the sealed file's first bytes (preamble, header, signature) and their SHA-256;
//   2. find this file's open upload on the platform (same header_sha256), or create one;
//   3. send the ranges the platform still misses, cut at its chunk_size, each with Content-Range;
//      a failed chunk is sent again after a growing pause; if the network stays down, it stops
//      with code "network": what arrived stays on the platform, and calling again resumes;
//   4. finalise, and check the signed receipt describes this very file.
//
//   const { bid, receipt, verified } = await uploadSealed(sealedBlob, {
//     lot: 12, onProgress: (sent, total, bytesPerSecond) => ..., onStage: (stage) => ... });
//
// Requests carry the session cookie and the CSRF token (from the csrftoken cookie unless given).
// Every failure is an UploadError: `code` is the platform's code (docs/bid-upload-api.md) or
// "network", "not_sealed", "changed", "http_<status>"; `detail` is the platform's message, already
// in the user's language, when it sent one.

import { Sha256, toHex } from "./sha256.js";
import { canonical } from "./json.js";

export const API = "/api/v1/";
const PREAMBLE = 14, SIGNATURE = 64, MAGIC = [0x89, 0x45, 0x54, 0x42, 0x49, 0x44, 0x0d, 0x0a];
const MAX_HEADER = 65536;
const RETRYABLE_STATUS = new Set([0, 408, 425, 429, 500, 502, 503, 504]);
// A finalisation refused with one of these closed the upload for good (bidding/tool/upload.py).
export const REFUSING = new Set(["tampered", "truncated", "size_mismatch", "bad_signature", "binding_mismatch",
  "key_not_usable", "deadline_passed", "upload_closed"]);

export class UploadError extends Error {
  constructor(code, message, { status = 0, detail = "", upload = null } = {}) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.upload = upload;
  }
}

export function csrfFromCookie(cookies = typeof document === "undefined" ? "" : document.cookie) {
  for (const part of cookies.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(value.join("="));
  }
  return "";
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal && signal.aborted) return reject(signal.reason);
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
});

// ---------------------------------------------------------------- the sealed file's first bytes

// {prefix, headerSha256, header}: the bytes the platform checks before any segment, their SHA-256
// (an upload's header_sha256) and the parsed header. Throws UploadError "not_sealed".
export async function sealedPrefix(blob) {
  const start = new Uint8Array(await blob.slice(0, PREAMBLE).arrayBuffer());
  if (start.length < PREAMBLE || MAGIC.some((byte, i) => start[i] !== byte)) {
    throw new UploadError("not_sealed", "this is not a sealed bid file (format v1)");
  }
  const view = new DataView(start.buffer);
  const length = view.getUint32(10, false);
  if (view.getUint16(8, false) !== 1 || length < 1 || length > MAX_HEADER) {
    throw new UploadError("not_sealed", "the sealed file's header length or version is not v1");
  }
  const prefix = new Uint8Array(await blob.slice(0, PREAMBLE + length + SIGNATURE).arrayBuffer());
  if (prefix.length !== PREAMBLE + length + SIGNATURE) throw new UploadError("not_sealed", "the sealed file ends inside its header");
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(prefix.subarray(PREAMBLE, PREAMBLE + length)));
  } catch (error) {
    throw new UploadError("not_sealed", `the sealed file's header is not JSON: ${error.message}`);
  }
  return { prefix, headerSha256: toHex(new Sha256().update(prefix).digest()), header };
}

// ---------------------------------------------------------------- requests

// One HTTP request with the session; resolves {status, body} (JSON parsed when it is JSON) for any
// answer, rejects only on a network failure or abort. XMLHttpRequest, for the upload progress.
function send(method, url, { body = null, headers = {}, onSent = null, signal = null } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onSent) xhr.upload.onprogress = (event) => onSent(event.loaded);
    xhr.onload = () => {
      let parsed = xhr.responseText;
      if ((xhr.getResponseHeader("Content-Type") || "").includes("json")) {
        try { parsed = JSON.parse(xhr.responseText); } catch (error) { parsed = null; }
      }
      resolve({ status: xhr.status, body: parsed });
    };
    xhr.onerror = () => reject(new UploadError("network", `${method} ${url}: the platform could not be reached`));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(signal && signal.reason ? signal.reason : new DOMException("aborted", "AbortError"));
    if (signal) {
      if (signal.aborted) { xhr.abort(); return; }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(body);
  });
}

export class Client {
  // retries: attempts after the first for a request that failed on the network or with a
  // temporary status; the pause doubles from backoffMs (with jitter) up to maxBackoffMs.
  constructor({ api = API, csrfToken = null, retries = 5, backoffMs = 1000, maxBackoffMs = 30000, signal = null } = {}) {
    this.api = api;
    this.csrfToken = csrfToken;
    this.retries = retries;
    this.backoffMs = backoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.signal = signal;
    this.onRetry = null;
  }

  url(path) { return path.startsWith("/") ? path : this.api + path; }

  // The answer's body when 2xx; else UploadError with the platform's code and message. Retries
  // network failures and temporary statuses when `retry` (every request here is idempotent but
  // the creation of an upload, which the caller handles).
  async request(method, path, { body = null, headers = {}, onSent = null, retry = true } = {}) {
    const allHeaders = { ...headers };
    if (method !== "GET") allHeaders["X-CSRFToken"] = this.csrfToken ?? csrfFromCookie();
    for (let attempt = 0; ; attempt++) {
      let answer = null, failure = null;
      try {
        answer = await send(method, this.url(path), { body, headers: allHeaders, onSent, signal: this.signal });
      } catch (error) {
        if (!(error instanceof UploadError)) throw error; // aborted
        failure = error;
      }
      if (answer && answer.status >= 200 && answer.status < 300) return answer.body;
      if (answer && !RETRYABLE_STATUS.has(answer.status)) throw this.refusal(answer);
      if (!retry || attempt >= this.retries) throw failure || this.refusal(answer);
      const pause = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt) * (0.75 + Math.random() / 2);
      if (this.onRetry) this.onRetry({ attempt: attempt + 1, of: this.retries, pauseMs: pause, error: failure || this.refusal(answer) });
      await sleep(pause, this.signal);
    }
  }

  refusal(answer) {
    const body = answer.body && typeof answer.body === "object" ? answer.body : {};
    let detail = typeof body.detail === "string" ? body.detail : "";
    if (!detail && !body.code) {
      // DRF's field errors: {"size": ["..."]}
      detail = Object.entries(body).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`).join("; ");
    }
    const code = body.code || `http_${answer.status}`;
    return new UploadError(code, detail || `the platform answered ${answer.status}`, { status: answer.status, detail });
  }

  get(path) { return this.request("GET", path); }

  postJson(path, data, options = {}) {
    return this.request("POST", path, { body: data === undefined ? null : JSON.stringify(data), headers: { "Content-Type": "application/json" }, ...options });
  }
}

// ---------------------------------------------------------------- the upload

// The open uploads of a lot (newest first), for offering to resume one.
export async function openUploads(lot, { client = new Client() } = {}) {
  return client.get(`bid-uploads/?lot=${encodeURIComponent(lot)}&status=open`);
}

async function uploadOf(client, lot, headerSha256, status) {
  const uploads = await client.get(`bid-uploads/?lot=${encodeURIComponent(lot)}&status=${status}`);
  const found = uploads.find((item) => item.header_sha256 === headerSha256 && item.status === status);
  return found ? client.get(`bid-uploads/${found.id}/`) : null;
}

// The missing ranges [start, end) cut at the multiples of chunkSize.
export function* pieces(missing, chunkSize) {
  for (let [start, end] of missing) {
    while (start < end) {
      const stop = Math.min(end, (Math.floor(start / chunkSize) + 1) * chunkSize);
      yield [start, stop];
      start = stop;
    }
  }
}

class Meter {
  // Bytes on the platform (what it confirmed plus the chunk in flight) and the speed over the last seconds.
  constructor(total, onProgress) {
    this.total = total;
    this.onProgress = onProgress;
    this.confirmed = 0;
    this.samples = [];
    this.sentThisSession = 0;
  }

  confirm(received) { this.confirmed = received; this.report(0); }

  report(inFlight) {
    const now = performance.now();
    const sent = this.sentThisSession + inFlight;
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, s0] = this.samples[0];
    const speed = now - t0 > 200 ? ((sent - s0) * 1000) / (now - t0) : 0;
    if (this.onProgress) this.onProgress(Math.min(this.total, this.confirmed + inFlight), this.total, speed);
  }
}

async function sendMissing(client, blob, upload, meter, headerPrefix) {
  const chunkSize = Number(upload.chunk_size);
  let current = upload;
  meter.confirm(upload.size - upload.missing.reduce((sum, [start, end]) => sum + end - start, 0));
  for (const [start, end] of pieces(upload.missing, chunkSize)) {
    const body = blob.slice(start, end);
    if (start === 0) {
      // The file chosen must still be the one the upload was opened with.
      const head = new Uint8Array(await blob.slice(0, Math.min(end, headerPrefix.length)).arrayBuffer());
      if (head.some((byte, i) => byte !== headerPrefix[i])) throw new UploadError("changed", "the sealed file changed during the upload");
    }
    current = await client.request("PUT", `bid-uploads/${upload.id}/`, {
      body,
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `bytes ${start}-${end - 1}/${upload.size}` },
      onSent: (loaded) => meter.report(Math.min(loaded, end - start)),
    });
    meter.sentThisSession += end - start;
    meter.confirm(current.received_bytes);
  }
  return current;
}

// Upload the sealed file `blob` for `lot` (its id), resuming the platform's open upload of the
// same file if there is one. Resolves {bid, receipt, upload, verified, resumed}; `verified` is
// whether the receipt's platform signature and its sizes and hashes checked out against the file.
// onStage(stage): "reading", "creating" | "resuming", "sending", "finalising", "verifying".
export async function uploadSealed(blob, {
  lot, client = null, csrfToken = null, onProgress = null, onStage = null, onRetry = null, signal = null,
  retries = 5, backoffMs = 1000,
} = {}) {
  client = client || new Client({ csrfToken, retries, backoffMs, signal });
  if (onRetry) client.onRetry = onRetry;
  const stage = (name) => onStage && onStage(name);
  stage("reading");
  const local = await sealedPrefix(blob);
  const expectedSize = local.prefix.length + Number(local.header.ciphertext_size);
  if (blob.size !== expectedSize) {
    throw new UploadError("size_mismatch", `the file has ${blob.size} bytes but its header declares ${expectedSize}: incomplete or altered`);
  }
  let upload = await uploadOf(client, lot, local.headerSha256, "open");
  stage(upload ? "resuming" : "creating");
  const resumed = Boolean(upload);
  if (!upload) {
    const payload = { lot: Number(lot), size: blob.size, header: base64(local.prefix) };
    try {
      upload = await client.postJson("bid-uploads/", payload, { retry: false });
    } catch (error) {
      if (error.code === "network") {
        // The request may have arrived although its answer did not: look before creating another.
        upload = await uploadOf(client, lot, local.headerSha256, "open") || await client.postJson("bid-uploads/", payload, { retry: false });
      } else if (error.code === "replay") {
        const accepted = await uploadOf(client, lot, local.headerSha256, "accepted");
        if (!accepted || !accepted.bid) throw error;
        const bid = await client.get(`bids/${accepted.bid}/`);
        const receipt = await client.get(`bids/${accepted.bid}/receipt/`);
        stage("verifying");
        return { bid, receipt, upload: accepted, resumed: true, alreadySubmitted: true, verified: await verifyReceipt(receipt, client, local, blob.size) };
      } else {
        throw error;
      }
    }
  }
  const meter = new Meter(blob.size, onProgress);
  for (let attempt = 0; ; attempt++) {
    stage("sending");
    upload = await sendMissing(client, blob, upload, meter, local.prefix);
    stage("finalising");
    try {
      const answer = await client.postJson(`bid-uploads/${upload.id}/finalise/`);
      stage("verifying");
      const verified = await verifyReceipt(answer.receipt, client, local, blob.size);
      return { bid: answer.bid, receipt: answer.receipt, upload, resumed, alreadySubmitted: false, verified };
    } catch (error) {
      if (error.code === "incomplete" && attempt < 2) {
        upload = await client.get(`bid-uploads/${upload.id}/`);
        continue;
      }
      error.upload = upload;
      throw error;
    }
  }
}

// ---------------------------------------------------------------- the receipt

function fromHexBytes(text) {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// Whether `receipt` is signed by the platform's key (Ed25519 over the canonical JSON of its
// statement) and describes this file: its size, its ciphertext hash and keys as in the header.
export async function verifyReceipt(receipt, client, local, size) {
  try {
    const key = await client.get("platform/key/");
    const statement = receipt.statement;
    if (receipt.key_id !== key.key_id || statement.sealed_size !== size
        || statement.ciphertext_sha256 !== local.header.ciphertext_sha256
        || statement.signer_key_fingerprint !== local.header.signer_key_fingerprint
        || statement.decryption_key_fingerprint !== local.header.recipients[0].key_fingerprint) {
      return false;
    }
    const publicKey = await crypto.subtle.importKey("raw", fromHexBytes(key.public_key), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, publicKey, fromHexBytes(receipt.signature), canonical(statement));
  } catch (error) {
    return false;
  }
}
