// Sealed-bid format v1 in the browser: writer and reader, byte-compatible with bidding/sealing/
// (the format is docs/sealed-bid-format.md; bidding/vectors/sealed-v1-*.json are its vectors).
//
//     preamble (14 bytes) | header (canonical JSON) | signature (64 bytes) | segments
//
// Streaming: the plaintext is read one segment at a time with blob.slice(...).arrayBuffer(), the
// encrypted segments are hashed as they are made and kept as Blob parts; the header and signature
// are built last and put in front. No function here holds a whole bid in one ArrayBuffer.
// Chromium keeps Blobs made in a page in memory, and past about 500 MiB in all they cannot be read
// (NotReadableError). So output above SPOOL_THRESHOLD is spooled to a file in the origin private
// file system (OPFS) instead, and the Blob returned is that file behind the header; clearSpool()
// deletes such files when the caller is done with them. Every failure a reader can meet is a SealedBidError whose `code`
// names the Python exception: not_sealed, unsupported_version, truncated, tampered,
// malformed_header, size_mismatch, bad_signature, binding_mismatch, wrong_key.

import { Sha256, sha256, toHex, fromHex } from "./sha256.js";
import { canonical, isPlainObject, parseStrict } from "./json.js";
import { HPKEError, openBase, sealBase } from "./hpke.js";
import { fingerprintOfJwk, publicJwkOfPrivateKey, publicPart } from "./p256.js";

const subtle = globalThis.crypto.subtle;

export const FORMAT_NAME = "etender-sealed-bid";
export const FORMAT_VERSION = 1;
export const MAGIC = Uint8Array.of(0x89, 0x45, 0x54, 0x42, 0x49, 0x44, 0x0d, 0x0a); // \x89ETBID\r\n
export const PREAMBLE_SIZE = 14;
export const SIGNATURE_SIZE = 64;
export const TAG_SIZE = 16;
export const MAX_HEADER_SIZE = 65536;
export const SEGMENT_SIZE = 1048576;
export const MIN_SEGMENT_SIZE = 1 << 6;
export const MAX_SEGMENT_SIZE = 1 << 24;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SEGMENTS = 2 ** 32;
const TEXT_LIMIT = 200;
const DATA_KEY_SIZE = 32, SALT_SIZE = 32, NONCE_PREFIX_SIZE = 7;
const READ_CHUNK = 1 << 22;
export const SPOOL_THRESHOLD = 64 * 1048576;
const SPOOL_DIRECTORY = "etender-sealbid-spool";
const SPOOL_STALE_MS = 6 * 3600 * 1000;
const COMMITMENT_LABEL = new TextEncoder().encode("etender-sealed-bid v1 key commitment\x00");

/** The files whose SHA-256 make the default tool fingerprint (all modules of static/js/sealbid/). */
export const SOURCE_FILES = ["hpke.js", "isoformat.js", "json.js", "keyfile.js", "p256.js", "sealing.js", "sha256.js"];

export class SealedBidError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SealedBidError";
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new SealedBidError(code, message);
};

// --- key derivations (docs/sealed-bid-format.md, "Keys and derivations") ---------------------------

/** binding_info(purpose): canonical JSON tying a derived key to one tender, lot and bidder. */
export function bindingInfo(binding, purpose) {
  return canonical({
    bidder: binding.bidder, format: FORMAT_NAME, lot: binding.lot, purpose, tender: binding.tender, version: FORMAT_VERSION,
  });
}

/** The segment key's bytes: HKDF-SHA256(salt, IKM = data key, info = binding_info("segment key"), 32). */
export async function segmentKey(dataKey, salt, binding) {
  const ikm = await subtle.importKey("raw", dataKey, "HKDF", false, ["deriveBits"]);
  const info = bindingInfo(binding, "segment key");
  return new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, ikm, 256));
}

async function segmentCipher(dataKey, salt, binding, usage) {
  return subtle.importKey("raw", await segmentKey(dataKey, salt, binding), "AES-GCM", false, [usage]);
}

/** SHA-256("etender-sealed-bid v1 key commitment" ‖ 0x00 ‖ salt ‖ data key). */
export function keyCommitment(dataKey, salt) {
  return new Sha256().update(COMMITMENT_LABEL).update(salt).update(dataKey).digest();
}

/** nonce prefix ‖ u32be(index) ‖ (0x01 for the last segment, else 0x00). */
export function segmentNonce(noncePrefix, index, last) {
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * {count, ciphertextSize, lastSize}. Every segment but the last is full; the last holds
 * 1..segmentSize bytes, or 0 when the plaintext is empty. Throws RangeError when impossible.
 */
export function segmentLayout(plaintextSize, segmentSize) {
  if (!Number.isInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE || (segmentSize & (segmentSize - 1))) {
    throw new RangeError(`segment size ${segmentSize} is not a power of two from 64 bytes to 16 MiB`);
  }
  if (!Number.isInteger(plaintextSize) || plaintextSize < 0 || plaintextSize > MAX_SAFE) {
    throw new RangeError(`plaintext size ${plaintextSize} is out of range`);
  }
  const count = Math.max(1, Math.ceil(plaintextSize / segmentSize)); // exact: segmentSize is a power of two
  if (count > MAX_SEGMENTS) throw new RangeError(`${count} segments exceed the 2^32 the nonce counter allows`);
  // In BigInt: the sum can pass 2^53, and must then differ from every header value.
  const ciphertextSize = BigInt(plaintextSize) + 16n * BigInt(count);
  return { count, ciphertextSize, lastSize: plaintextSize - (count - 1) * segmentSize };
}

function preamble(headerLength) {
  const out = new Uint8Array(PREAMBLE_SIZE);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, FORMAT_VERSION);
  view.setUint32(10, headerLength);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const codePoints = (text) => Array.from(text).length;

function checkText(value, what) {
  if (typeof value !== "string" || codePoints(value) === 0 || codePoints(value) > TEXT_LIMIT) {
    throw new TypeError(`${what} must be a non-empty string of at most ${TEXT_LIMIT} characters`);
  }
  return value;
}

function bindingOf(value) {
  if (!value || typeof value !== "object") throw new TypeError("binding must be {tender, lot, bidder}");
  return { tender: checkText(value.tender, "tender"), lot: checkText(value.lot, "lot"), bidder: checkText(value.bidder, "bidder") };
}

const bytesOf = (value, what) => {
  const out = typeof value === "string" ? fromHex(value) : value;
  if (!(out instanceof Uint8Array)) throw new TypeError(`${what} must be bytes or hex`);
  return out;
};

async function readBytes(blob, start, end) {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

/** A read started ahead of its use: its failure surfaces when awaited, never as an unhandled rejection. */
function prefetch(promise) {
  promise.catch(() => {});
  return promise;
}

// --- where large output goes ----------------------------------------------------------------------

const spooledHere = new Set(); // OPFS spool files made by this page

function opfsAvailable() {
  return typeof navigator !== "undefined" && !!navigator.storage && typeof navigator.storage.getDirectory === "function" &&
    typeof FileSystemFileHandle !== "undefined" && typeof FileSystemFileHandle.prototype.createWritable === "function";
}

async function spoolDirectory() {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(SPOOL_DIRECTORY, { create: true });
}

async function removeSpoolFiles(directory, wanted) {
  const names = [];
  for await (const [name, handle] of directory.entries()) {
    if (handle.kind === "file" && (await wanted(name, handle))) names.push(name);
  }
  for (const name of names) {
    try {
      await directory.removeEntry(name);
      spooledHere.delete(name);
    } catch {
      // still being written by another page: its turn comes later
    }
  }
}

const staleElsewhere = async (name, handle) => !spooledHere.has(name) && Date.now() - (await handle.getFile()).lastModified > SPOOL_STALE_MS;

/**
 * Where the parts of an output Blob go: memory for small output, an OPFS file for large (mode
 * "auto"), or as forced by mode "memory" / "opfs". {append(bytes), finish(headParts, type) -> Blob, abort()}.
 */
async function openSpool(totalBytes, mode) {
  if (!["auto", "memory", "opfs"].includes(mode)) throw new TypeError('spool must be "auto", "memory" or "opfs"');
  const toDisk = mode === "opfs" || (mode === "auto" && totalBytes > SPOOL_THRESHOLD && opfsAvailable());
  if (!toDisk) {
    const parts = [];
    return {
      append: async (bytes) => void parts.push(new Blob([bytes])),
      finish: async (head, type) => new Blob([...head, ...parts], { type }),
      abort: async () => {},
    };
  }
  if (!opfsAvailable()) throw new Error("this browser has no origin private file system to hold a large sealed bid");
  const directory = await spoolDirectory();
  await removeSpoolFiles(directory, staleElsewhere);
  const name = `${Date.now()}-${toHex(crypto.getRandomValues(new Uint8Array(8)))}.part`;
  const handle = await directory.getFileHandle(name, { create: true });
  spooledHere.add(name);
  const writable = await handle.createWritable();
  return {
    append: (bytes) => writable.write(bytes),
    finish: async (head, type) => {
      await writable.close();
      return new Blob([...head, await handle.getFile()], { type });
    },
    abort: async () => {
      await writable.abort().catch(() => {});
      await directory.removeEntry(name).catch(() => {});
      spooledHere.delete(name);
    },
  };
}

/**
 * Deletes the spool files behind the large Blobs this page's sealBlob/openSealedBlob returned
 * (call it when they are downloaded, uploaded or no longer needed: they become unreadable), and
 * those other pages left more than six hours ago.
 */
export async function clearSpool() {
  if (!opfsAvailable()) return;
  const directory = await spoolDirectory();
  await removeSpoolFiles(directory, async (name, handle) => spooledHere.has(name) || (await staleElsewhere(name, handle)));
}

/** The names of the spool files now in the origin private file system (for tests and diagnostics). */
export async function spoolFiles() {
  if (!opfsAvailable()) return [];
  const names = [];
  for await (const name of (await spoolDirectory()).keys()) names.push(name);
  return names.sort();
}

// --- the tool fingerprint ------------------------------------------------------------------------

let toolFingerprintPromise = null;

/**
 * SHA-256 over the SHA-256 of each file of SOURCE_FILES, in that order (as bidding/sealing's
 * default_tool does for its sources), fetched next to this module. Computed once per page.
 */
export function toolFingerprint() {
  if (!toolFingerprintPromise) {
    toolFingerprintPromise = (async () => {
      const outer = new Sha256();
      for (const name of SOURCE_FILES) {
        const response = await fetch(new URL(`./${name}`, import.meta.url), { cache: "no-store" });
        if (!response.ok) throw new Error(`cannot read ${name} to fingerprint the sealing tool; pass tool.fingerprint`);
        outer.update(sha256(new Uint8Array(await response.arrayBuffer())));
      }
      return toHex(outer.digest());
    })();
    toolFingerprintPromise.catch(() => (toolFingerprintPromise = null));
  }
  return toolFingerprintPromise;
}

// --- writing -------------------------------------------------------------------------------------

const CREATED = /^\p{Nd}{4}-\p{Nd}{2}-\p{Nd}{2}T\p{Nd}{2}:\p{Nd}{2}:\p{Nd}{2}Z$/u;

/**
 * Seals `plaintextBlob` (a Blob or File) and returns the sealed file as a Blob.
 * keys: as returned by openKeyFile (decryption.publicJwk is the recipient, signing.privateKey signs).
 * randomness (test vectors only): {dataKey, salt, noncePrefix, ephemeralPrivateKeys} as bytes or hex;
 * the ephemeral keys are private scalars (hex, bytes) or CryptoKeyPairs, one per recipient.
 */
export async function sealBlob(plaintextBlob, {
  binding,
  keys,
  custodialPublicJwk = null,
  tool = null,
  created = null,
  randomness = null,
  segmentSize = SEGMENT_SIZE,
  onProgress = () => {},
  spool = "auto",
} = {}) {
  const bound = bindingOf(binding);
  const size = plaintextBlob.size;
  const layout = segmentLayout(size, segmentSize);
  const theTool = {
    name: checkText(tool?.name ?? "etender-web-sealer", "tool name"),
    version: checkText(tool?.version ?? String(FORMAT_VERSION), "tool version"),
    fingerprint: checkText(tool?.fingerprint ?? (await toolFingerprint()), "tool fingerprint"),
  };
  const when = created ?? new Date().toISOString().slice(0, 19) + "Z";
  if (typeof when !== "string" || !CREATED.test(when)) throw new TypeError("created must be a UTC time like 2025-01-31T08:00:00Z");
  const recipientKeys = [keys.decryption.publicJwk, ...(custodialPublicJwk ? [custodialPublicJwk] : [])].map(publicPart);

  const rnd = randomness ?? {};
  const random = (n) => crypto.getRandomValues(new Uint8Array(n));
  const dataKey = rnd.dataKey ? bytesOf(rnd.dataKey, "dataKey") : random(DATA_KEY_SIZE);
  const salt = rnd.salt ? bytesOf(rnd.salt, "salt") : random(SALT_SIZE);
  const noncePrefix = rnd.noncePrefix ? bytesOf(rnd.noncePrefix, "noncePrefix") : random(NONCE_PREFIX_SIZE);
  if (dataKey.length !== DATA_KEY_SIZE || salt.length !== SALT_SIZE || noncePrefix.length !== NONCE_PREFIX_SIZE) {
    throw new RangeError("randomness has the wrong sizes");
  }
  const ephemerals = rnd.ephemeralPrivateKeys ?? recipientKeys.map(() => null);
  if (ephemerals.length !== recipientKeys.length) throw new RangeError("randomness needs one ephemeral key per recipient");

  const info = bindingInfo(bound, "data key");
  const recipients = [];
  for (let i = 0; i < recipientKeys.length; i++) {
    const { enc, ciphertext } = await sealBase(recipientKeys[i], info, new Uint8Array(0), dataKey, { ephemeral: ephemerals[i] });
    recipients.push({ enc: toHex(enc), key_fingerprint: fingerprintOfJwk(recipientKeys[i]), role: ["bidder", "custodial"][i], wrapped_key: toHex(ciphertext) });
  }

  // Segments: encrypt while the next one is read, hash, keep as Blob parts (or in a spool file).
  const cipher = await segmentCipher(dataKey, salt, bound, "encrypt");
  const digest = new Sha256();
  const output = await openSpool(Number(layout.ciphertextSize), spool);
  try {
    return await sealSegments();
  } catch (error) {
    await output.abort();
    throw error;
  }

  async function sealSegments() {
    const read = (i) => readBytes(plaintextBlob, i * segmentSize, i * segmentSize + (i === layout.count - 1 ? layout.lastSize : segmentSize));
    let next = prefetch(read(0));
    let done = 0;
    onProgress(0, size);
    for (let i = 0; i < layout.count; i++) {
      const last = i === layout.count - 1;
      const chunk = await next;
      if (chunk.length !== (last ? layout.lastSize : segmentSize)) throw new Error("the plaintext changed while it was being sealed");
      if (!last) next = prefetch(read(i + 1));
      const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: segmentNonce(noncePrefix, i, last), tagLength: 128 }, cipher, chunk));
      digest.update(sealed);
      await output.append(sealed);
      done += chunk.length;
      onProgress(done, size);
    }

    const header = {
      binding: bound,
      ciphertext_sha256: toHex(digest.digest()),
      ciphertext_size: Number(layout.ciphertextSize),
      created: when,
      format: FORMAT_NAME,
      key_commitment: toHex(keyCommitment(dataKey, salt)),
      nonce_prefix: toHex(noncePrefix),
      plaintext_size: size,
      recipients,
      salt: toHex(salt),
      segment_count: layout.count,
      segment_size: segmentSize,
      signer_key_fingerprint: fingerprintOfJwk(keys.signing.publicJwk),
      tool: theTool,
      version: FORMAT_VERSION,
    };
    const raw = canonical(header);
    if (raw.length > MAX_HEADER_SIZE) throw new RangeError("the header exceeds 64 KiB");
    const signed = concat(preamble(raw.length), raw);
    const signature = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.signing.privateKey, signed));
    return output.finish([signed, signature], "application/octet-stream");
  }
}

// --- reading -------------------------------------------------------------------------------------

const HEADER_KEYS = [
  "binding", "ciphertext_sha256", "ciphertext_size", "created", "format", "key_commitment", "nonce_prefix",
  "plaintext_size", "recipients", "salt", "segment_count", "segment_size", "signer_key_fingerprint", "tool", "version",
];

function exactKeys(value, keys, what) {
  if (!isPlainObject(value)) throw new Error(`${what} must be an object`);
  const names = Object.keys(value);
  if (names.length !== keys.length || !keys.every((k) => names.includes(k))) throw new Error(`${what} must have exactly the keys ${keys.join(", ")}`);
  return value;
}

function checkInt(value, what) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_SAFE) throw new Error(`${what} must be a non-negative integer`);
}

function checkHex(value, size, what) {
  if (typeof value !== "string" || value.length !== 2 * size || !/^[0-9a-f]*$/.test(value)) throw new Error(`${what} must be ${size} bytes in lower-case hex`);
}

/** The header object from its bytes, refusing exactly what bidding.sealing.header.parse_header refuses. */
export function parseHeader(raw) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
    const obj = exactKeys(parseStrict(text), HEADER_KEYS, "the header");
    if (obj.format !== FORMAT_NAME || obj.version !== FORMAT_VERSION) throw new Error("format and version must be etender-sealed-bid and 1");
    const recipients = obj.recipients;
    if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > 2) throw new Error("recipients must list the bidder and at most one custodial key");
    if (typeof obj.created !== "string" || !CREATED.test(obj.created)) throw new Error("created must be a UTC time like 2025-01-31T08:00:00Z");
    const binding = exactKeys(obj.binding, ["tender", "lot", "bidder"], "binding");
    const tool = exactKeys(obj.tool, ["name", "version", "fingerprint"], "tool");
    for (const name of ["tender", "lot", "bidder"]) checkText(binding[name], name);
    for (const name of ["plaintext_size", "segment_size", "segment_count", "ciphertext_size"]) checkInt(obj[name], name);
    checkHex(obj.ciphertext_sha256, 32, "ciphertext_sha256");
    checkHex(obj.salt, 32, "salt");
    checkHex(obj.nonce_prefix, 7, "nonce_prefix");
    checkHex(obj.key_commitment, 32, "key_commitment");
    recipients.forEach((r, index) => {
      exactKeys(r, ["role", "key_fingerprint", "enc", "wrapped_key"], `recipient ${index}`);
      if (r.role !== ["bidder", "custodial"][index]) throw new Error(`recipient ${index} has the wrong role`);
      checkHex(r.enc, 65, "enc");
      if (!r.enc.startsWith("04")) throw new Error("enc must be an uncompressed P-256 point");
      checkHex(r.key_fingerprint, 32, "key_fingerprint");
      checkHex(r.wrapped_key, 48, "wrapped_key");
    });
    checkHex(obj.signer_key_fingerprint, 32, "signer_key_fingerprint");
    for (const name of ["name", "version", "fingerprint"]) checkText(tool[name], `tool ${name}`);
    const again = canonical(obj);
    if (again.length !== raw.length || !again.every((b, i) => b === raw[i])) throw new Error("it is not in canonical form");
  } catch (error) {
    fail("malformed_header", `the header is malformed: ${error.message}`);
  }
  const header = JSON.parse(text);
  let layout;
  try {
    layout = segmentLayout(header.plaintext_size, header.segment_size);
  } catch (error) {
    fail("size_mismatch", `the header's sizes are impossible: ${error.message}`);
  }
  if (header.segment_count !== layout.count || BigInt(header.ciphertext_size) !== layout.ciphertextSize) {
    fail("size_mismatch",
      `the header declares ${header.segment_count} segments and ${header.ciphertext_size} ciphertext bytes, but ${header.plaintext_size} ` +
      `plaintext bytes in segments of ${header.segment_size} make ${layout.count} and ${layout.ciphertextSize}`);
  }
  return header;
}

/**
 * Reads preamble, header and signature: {header, headerBytes (preamble + header + signature),
 * signature, segmentsOffset}. Checks the header's form and sizes, not the signature.
 */
export async function readHeader(blob) {
  const head = await readBytes(blob, 0, PREAMBLE_SIZE);
  const notSealed = "this is not a sealed bid (the file does not start with the sealed-bid magic bytes)";
  if (head.length < PREAMBLE_SIZE) {
    const prefix = head.subarray(0, MAGIC.length);
    if (head.length === 0 || !prefix.every((b, i) => b === MAGIC[i])) fail("not_sealed", notSealed);
    fail("truncated", `the file ends inside the preamble (${head.length} of ${PREAMBLE_SIZE} bytes)`);
  }
  if (!MAGIC.every((b, i) => head[i] === b)) fail("not_sealed", notSealed);
  const view = new DataView(head.buffer);
  const version = view.getUint16(8);
  if (version !== FORMAT_VERSION) fail("unsupported_version", `sealed-bid format version ${version} is not supported (this reader knows version 1)`);
  const length = view.getUint32(10);
  if (length < 1 || length > MAX_HEADER_SIZE) fail("malformed_header", `declared header length ${length} is outside 1..65536`);
  const raw = await readBytes(blob, PREAMBLE_SIZE, PREAMBLE_SIZE + length);
  if (raw.length !== length) fail("truncated", `the file ends inside the header (${raw.length} of ${length} bytes)`);
  const header = parseHeader(raw);
  const start = PREAMBLE_SIZE + length;
  const signature = await readBytes(blob, start, start + SIGNATURE_SIZE);
  if (signature.length !== SIGNATURE_SIZE) fail("truncated", `the file ends inside the signature (${signature.length} of ${SIGNATURE_SIZE} bytes)`);
  return { header, headerBytes: concat(head, raw, signature), signature, segmentsOffset: start + SIGNATURE_SIZE };
}

async function checkSignature(header, headerBytes, signature, signingPublicJwk) {
  const jwk = publicPart(signingPublicJwk);
  if (header.signer_key_fingerprint !== fingerprintOfJwk(jwk)) {
    fail("bad_signature", `the header says it was signed by key ${header.signer_key_fingerprint}, not by the expected key`);
  }
  const key = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const signed = headerBytes.subarray(0, headerBytes.length - SIGNATURE_SIZE);
  if (!(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, signed))) {
    fail("bad_signature", "the header signature is missing or invalid: the header was altered or not signed by this key");
  }
}

function checkBinding(header, expected) {
  if (expected == null) return;
  const want = bindingOf(expected);
  const got = header.binding;
  if (got.tender !== want.tender || got.lot !== want.lot || got.bidder !== want.bidder) {
    fail("binding_mismatch", `this bid is sealed for tender ${got.tender}, lot ${got.lot}, bidder ${got.bidder}, ` +
      `not for tender ${want.tender}, lot ${want.lot}, bidder ${want.bidder}`);
  }
}

/**
 * Checks signature, binding, sizes, the ciphertext SHA-256 and the end of the file without
 * decrypting; returns the header. Reads the whole file, in chunks.
 */
export async function verifySealedBlob(blob, { signingPublicJwk, expectedBinding = null, onProgress = () => {} } = {}) {
  const { header, headerBytes, signature, segmentsOffset } = await readHeader(blob);
  await checkSignature(header, headerBytes, signature, signingPublicJwk);
  checkBinding(header, expectedBinding);
  const end = segmentsOffset + header.ciphertext_size;
  if (blob.size < end) fail("truncated", `the file ends inside the segments (${blob.size - segmentsOffset} of ${header.ciphertext_size} bytes)`);
  if (blob.size > end) fail("size_mismatch", `bytes follow the ${header.ciphertext_size} bytes of segments the header declares`);
  const digest = new Sha256();
  const total = header.ciphertext_size;
  onProgress(0, total);
  let next = prefetch(readBytes(blob, segmentsOffset, Math.min(end, segmentsOffset + READ_CHUNK)));
  for (let offset = segmentsOffset; offset < end; offset += READ_CHUNK) {
    const chunk = await next;
    if (offset + READ_CHUNK < end) next = prefetch(readBytes(blob, offset + READ_CHUNK, Math.min(end, offset + 2 * READ_CHUNK)));
    digest.update(chunk);
    onProgress(offset + chunk.length - segmentsOffset, total);
  }
  if (toHex(digest.digest()) !== header.ciphertext_sha256) fail("tampered", "the segments do not match the ciphertext SHA-256 in the header");
  return header;
}

/**
 * The 32-byte data key, unwrapped with the bidder's (or the custodian's) private decryption key:
 * a private ECDH CryptoKey from openKeyFile, or {privateKey, publicJwk}. Checks the key commitment.
 */
export async function unwrapDataKey(header, decryptionPrivateKey) {
  const recipient = decryptionPrivateKey && decryptionPrivateKey.privateKey ? decryptionPrivateKey : { privateKey: decryptionPrivateKey };
  const publicJwk = recipient.publicJwk ? publicPart(recipient.publicJwk) : await publicJwkOfPrivateKey(recipient.privateKey);
  const wanted = fingerprintOfJwk(publicJwk);
  const entry = header.recipients.find((r) => r.key_fingerprint === wanted);
  if (!entry) fail("wrong_key", `this bid is not sealed to decryption key ${wanted}`);
  let dataKey;
  try {
    dataKey = await openBase(fromHex(entry.enc), { privateKey: recipient.privateKey, publicJwk }, bindingInfo(header.binding, "data key"), new Uint8Array(0), fromHex(entry.wrapped_key));
  } catch (error) {
    if (error instanceof HPKEError) fail("tampered", `the data key wrapped to ${wanted} does not open: the header was altered`);
    throw error;
  }
  if (dataKey.length !== DATA_KEY_SIZE || toHex(keyCommitment(dataKey, fromHex(header.salt))) !== header.key_commitment) {
    fail("tampered", `the data key wrapped to ${wanted} is not the key the segments were sealed with`);
  }
  return dataKey;
}

/**
 * Decrypts a sealed bid (the bidder's own check) and returns the plaintext as a Blob. In order:
 * the header, the data key (unwrapped with keys.decryption, or options.dataKey), the signature
 * (keys.signing.publicJwk, or options.signingPublicJwk), the binding, every segment, the end.
 * After any error nothing is returned.
 */
export async function openSealedBlob(blob, keys, { onProgress = () => {}, expectedBinding = null, dataKey = null, signingPublicJwk = null, spool = "auto" } = {}) {
  const { header, headerBytes, signature, segmentsOffset } = await readHeader(blob);
  const key = dataKey ? bytesOf(dataKey, "dataKey") : await unwrapDataKey(header, keys.decryption);
  const signer = signingPublicJwk ?? keys?.signing?.publicJwk;
  if (signer) await checkSignature(header, headerBytes, signature, signer);
  checkBinding(header, expectedBinding);
  const salt = fromHex(header.salt);
  if (key.length !== DATA_KEY_SIZE || toHex(keyCommitment(key, salt)) !== header.key_commitment) {
    fail("wrong_key", "this data key is not the key this bid was sealed with");
  }
  const cipher = await segmentCipher(key, salt, header.binding, "decrypt");
  const noncePrefix = fromHex(header.nonce_prefix);
  const digest = new Sha256();
  const output = await openSpool(header.plaintext_size, spool);
  try {
    return await openSegments();
  } catch (error) {
    await output.abort();
    throw error;
  }

  async function openSegments() {
    const count = header.segment_count;
    const segmentBytes = (i) => (i < count - 1 ? header.segment_size : header.plaintext_size - i * header.segment_size) + TAG_SIZE;
    const read = (i, at) => readBytes(blob, at, at + segmentBytes(i));
    let offset = segmentsOffset;
    let next = prefetch(read(0, offset));
    onProgress(0, header.ciphertext_size);
    for (let i = 0; i < count; i++) {
      const segment = await next;
      if (segment.length !== segmentBytes(i)) fail("truncated", `the file ends inside segment ${i} (${segment.length} of ${segmentBytes(i)} bytes)`);
      offset += segment.length;
      if (i + 1 < count) next = prefetch(read(i + 1, offset));
      digest.update(segment);
      let plain;
      try {
        plain = await subtle.decrypt({ name: "AES-GCM", iv: segmentNonce(noncePrefix, i, i === count - 1), tagLength: 128 }, cipher, segment);
      } catch {
        fail("tampered", `segment ${i} of ${count} fails authentication: altered, reordered or from another file`);
      }
      await output.append(new Uint8Array(plain));
      onProgress(offset - segmentsOffset, header.ciphertext_size);
    }
    if (blob.size > offset) fail("size_mismatch", `bytes follow the ${header.ciphertext_size} bytes of segments the header declares`);
    if (toHex(digest.digest()) !== header.ciphertext_sha256) fail("tampered", "the segments do not match the ciphertext SHA-256 in the header");
    return output.finish([], "application/zip");
  }
}
