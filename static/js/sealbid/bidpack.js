// The bid package in the browser: the same ZIP, byte for byte, that bidding/bidpack.py's `pack`
// writes for the same documents and opening summary (docs/bid-package.md), so the opening reads
// a browser-made bid exactly like one made by the bid tool.
//
//   const { blob, bid } = await packDocuments(fileList, {
//     tender: "5", lot: "12", bidder: "91441900000000001X", price_fen: 123456789,
//     price_capital: "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分", duration_days: 180, quality: "合格",
//     project_manager: { name: "张三", certificate: "粤144000000001" },
//   }, { onProgress: (done, total) => ... });
//
// Documents are File objects, read in slices to compute their SHA-256 and CRC-32; the ZIP is a
// Blob made of the ZIP's own small records and the File objects themselves, so no document is ever
// copied into one ArrayBuffer. Layout (as Python's zipfile writes to an unseekable stream): stored
// entries sorted by name (code point, NFC), bid.json last; time 1980-01-01 00:00; Unix mode
// -rw-r--r--; UTF-8 flag on non-ASCII names; a data descriptor after every entry; ZIP64 where
// zipfile uses it. Every refusal is a BidPackError whose `code` names it (the page translates it).

import { Sha256, toHex } from "./sha256.js";
import { CapitalNumeralError, UPPER_BOUND_FEN, parseCapital } from "./capital_numerals.js";

export const FORMAT_NAME = "etender-bid";
export const FORMAT_VERSION = 1;
export const SUMMARY_NAME = "bid.json";
export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER; // 2^53 - 1
export const MAX_ENTRIES = 10000;
export const MAX_TOTAL_SIZE = 4 * 1024 ** 3;
export const MAX_NAME_BYTES = 1024;
export const MAX_DURATION_DAYS = 3650;
export const SUMMARY_KEYS = ["format", "version", "tender", "lot", "bidder", "price_fen", "price_capital",
  "duration_days", "quality", "project_manager", "documents"];
const TEXT_LIMITS = { tender: 200, lot: 200, quality: 200, name: 50, certificate: 100 };
const READ_SLICE = 4 * 1024 * 1024;
const CONTROL = /[\p{Cc}\p{Cf}\p{Cs}]/u;
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/u;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export class BidPackError extends Error {
  // code: "invalid_summary" (with `field`), "price_mismatch" (with `price_fen`, `in_words`),
  // "unsafe_path" (with `path`), "duplicate_entry", "reserved_name", "empty", "too_many_entries",
  // "too_large", "file_changed", "not_a_file".
  constructor(code, message, details = {}) {
    super(message);
    this.name = "BidPackError";
    this.code = code;
    Object.assign(this, details);
  }
}

const invalid = (field, message) => new BidPackError("invalid_summary", `bid.json: ${message}`, { field });
const codePoints = (text) => Array.from(text).length;
const utf8 = new TextEncoder();

// ---------------------------------------------------------------- names and the summary schema

// A document path as the package stores it (bidpack.check_path); returns it or throws unsafe_path.
export function checkPath(name) {
  const refuse = (why) => new BidPackError("unsafe_path", `the entry name ${JSON.stringify(name)} ${why}`, { path: name, reason: why });
  if (!name) throw refuse("is empty");
  if (utf8.encode(name).length > MAX_NAME_BYTES) throw refuse(`is longer than ${MAX_NAME_BYTES} bytes`);
  const bad = CONTROL.exec(name);
  if (bad) throw refuse(`contains the control character U+${bad[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
  if (name.includes("\\")) throw refuse("contains a backslash");
  if (name.startsWith("/")) throw refuse("is an absolute path");
  if (/^[A-Za-z]:/.test(name)) throw refuse("starts with a drive letter");
  if (name.includes(":")) throw refuse("contains ':'");
  if (name.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw refuse("has an empty, '.' or '..' component");
  }
  return name;
}

function text(value, where, limit) {
  if (typeof value !== "string" || PY_SPACE.test(value) || codePoints(value) > limit) {
    throw invalid(where, `${where} must be a non-empty string of at most ${limit} characters`);
  }
  if (CONTROL.test(value)) throw invalid(where, `${where} contains a control character`);
  return value;
}

function integer(value, where, low, high) {
  if (typeof value !== "number" || !Number.isInteger(value) || !(low <= value && value <= high)) {
    throw invalid(where, `${where} must be an integer from ${low} to ${high}`);
  }
  return value;
}

function keys(value, expected, where) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid(where, `${where} must be an object`);
  const missing = expected.filter((key) => !Object.hasOwn(value, key));
  const extra = Object.keys(value).filter((key) => !expected.includes(key));
  if (missing.length || extra.length) {
    throw invalid(where, `${where} lacks [${missing}] / has unknown [${extra}]; schema v1 has exactly [${expected}]`);
  }
  return value;
}

// Unified social credit code, GB 32100-2015 (accounts/credit_code.py): 18 characters, the check
// character last. Returns whether `code` is one, written as the platform stores it.
const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
export function isCreditCode(code) {
  if (typeof code !== "string" || code.length !== 18 || !/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false;
  let total = 0, weight = 1;
  for (let i = 0; i < 17; i++) {
    total += CREDIT_ALPHABET.indexOf(code[i]) * weight;
    weight = (weight * 3) % 31;
  }
  return code[17] === CREDIT_ALPHABET[(31 - (total % 31)) % 31];
}

// Check `data` against bid.json schema v1 (bidpack.validate_summary); return it or throw
// invalid_summary naming the field. The words may differ from the figures here, but must be readable.
export function validateSummary(data, { maxDocuments = MAX_ENTRIES - 1 } = {}) {
  keys(data, SUMMARY_KEYS, "summary");
  if (data.format !== FORMAT_NAME || data.version !== FORMAT_VERSION) {
    throw invalid("format", `format must be "${FORMAT_NAME}" version ${FORMAT_VERSION}`);
  }
  text(data.tender, "tender", TEXT_LIMITS.tender);
  text(data.lot, "lot", TEXT_LIMITS.lot);
  if (!isCreditCode(data.bidder)) throw invalid("bidder", "bidder must be a unified social credit code");
  integer(data.price_fen, "price_fen", 1, MAX_SAFE_INTEGER);
  if (typeof data.price_capital !== "string") throw invalid("price_capital", "price_capital must be a string");
  try {
    parseCapital(data.price_capital);
  } catch (error) {
    if (!(error instanceof CapitalNumeralError)) throw error;
    throw Object.assign(invalid("price_capital", `price_capital is not readable: ${error.message}`), { cause: error });
  }
  integer(data.duration_days, "duration_days", 1, MAX_DURATION_DAYS);
  text(data.quality, "quality", TEXT_LIMITS.quality);
  const manager = keys(data.project_manager, ["name", "certificate"], "project_manager");
  text(manager.name, "project_manager.name", TEXT_LIMITS.name);
  text(manager.certificate, "project_manager.certificate", TEXT_LIMITS.certificate);
  const documents = data.documents;
  if (!Array.isArray(documents) || documents.length < 1 || documents.length > maxDocuments) {
    throw invalid("documents", `documents must be a list of 1 to ${maxDocuments} documents`);
  }
  const seen = new Set();
  documents.forEach((document, index) => {
    const where = `documents[${index}]`;
    keys(document, ["path", "size", "sha256"], where);
    if (typeof document.path !== "string") throw invalid("documents", `${where}.path must be a string`);
    try {
      checkPath(document.path);
    } catch (error) {
      throw invalid("documents", `${where}.path: ${error.message}`);
    }
    if (document.path === SUMMARY_NAME) throw invalid("documents", `${where} may not be ${SUMMARY_NAME} itself`);
    const key = document.path.normalize("NFC");
    if (seen.has(key)) throw invalid("documents", `${JSON.stringify(document.path)} is listed twice`);
    seen.add(key);
    integer(document.size, `${where}.size`, 0, MAX_SAFE_INTEGER);
    if (typeof document.sha256 !== "string" || !SHA256_HEX.test(document.sha256)) {
      throw invalid("documents", `${where}.sha256 must be 64 lower-case hex digits`);
    }
  });
  return data;
}

// bid.json's bytes: Python's json.dumps(bid, ensure_ascii=False, indent=2) + "\n". JSON.stringify
// with indent 2 writes the same separators and escapes (the schema admits no control characters).
export function summaryJson(bid) {
  return utf8.encode(JSON.stringify(bid, null, 2) + "\n");
}

// Python sorts names by code point; JavaScript's default sort compares UTF-16 units, which
// differs for characters beyond U+FFFF against U+E000..U+FFFF.
export function compareCodePoints(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

// ---------------------------------------------------------------- CRC-32 and the ZIP records

const CRC_TABLE = (() => {
  const table = new Uint32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 4; t++) table[t * 256 + n] = (table[(t - 1) * 256 + n] >>> 8) ^ table[table[(t - 1) * 256 + n] & 0xff];
  }
  return table;
})();

// CRC-32 (ISO-HDLC, as zlib.crc32) of `bytes`, continuing from `crc`.
export function crc32(bytes, crc = 0) {
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length, end4 = n - (n % 4), t = CRC_TABLE;
  for (; i < end4; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const ZIP64_LIMIT = 2 ** 31 - 1; // zipfile.ZIP64_LIMIT: above this, ZIP64 records
const DEFAULT_VERSION = 20, ZIP64_VERSION = 45;
const FLAG_DATA_DESCRIPTOR = 0x08, FLAG_UTF8 = 0x800;
const DOS_DATE = (0 << 9) | (1 << 5) | 1, DOS_TIME = 0; // 1980-01-01 00:00:00
const EXTERNAL_ATTR = ((0o100000 | 0o644) << 16) >>> 0; // regular file, -rw-r--r--

class Bytes {
  constructor(size) { this.view = new DataView(new ArrayBuffer(size)); this.at = 0; }
  u8(v) { this.view.setUint8(this.at, v); this.at += 1; return this; }
  u16(v) { this.view.setUint16(this.at, v, true); this.at += 2; return this; }
  u32(v) { this.view.setUint32(this.at, v, true); this.at += 4; return this; }
  u64(v) { this.view.setBigUint64(this.at, BigInt(v), true); this.at += 8; return this; }
  raw(bytes) { new Uint8Array(this.view.buffer).set(bytes, this.at); this.at += bytes.length; return this; }
  get bytes() { return new Uint8Array(this.view.buffer); }
}

const encodeName = (name) => {
  const ascii = /^[\x00-\x7f]*$/.test(name);
  return { bytes: utf8.encode(name), flags: FLAG_DATA_DESCRIPTOR | (ascii ? 0 : FLAG_UTF8) };
};

// What zipfile decides before writing an entry: ZIP64 local records when the announced size,
// with 5 % headroom for compression, may pass the limit (zipfile's `file_size * 1.05`).
export const zip64Local = (size) => size * 1.05 > ZIP64_LIMIT;

// The local file header, written before the data (CRC and sizes follow in the data descriptor).
export function localHeader(name, size) {
  const { bytes, flags } = encodeName(name);
  const zip64 = zip64Local(size);
  const out = new Bytes(30 + bytes.length + (zip64 ? 20 : 0));
  out.u32(0x04034b50).u8(zip64 ? ZIP64_VERSION : DEFAULT_VERSION).u8(0).u16(flags).u16(0).u16(DOS_TIME).u16(DOS_DATE)
    .u32(0).u32(zip64 ? 0xffffffff : 0).u32(zip64 ? 0xffffffff : 0).u16(bytes.length).u16(zip64 ? 20 : 0).raw(bytes);
  if (zip64) out.u16(1).u16(16).u64(0).u64(0);
  return out.bytes;
}

export function dataDescriptor(size, crc) {
  if (zip64Local(size)) return new Bytes(24).u32(0x08074b50).u32(crc).u64(size).u64(size).bytes;
  return new Bytes(16).u32(0x08074b50).u32(crc).u32(size).u32(size).bytes;
}

// The central directory and end records for `entries` ({name, size, crc, offset}) when the
// directory starts at `start`.
export function centralDirectory(entries, start) {
  const parts = [];
  let size = 0;
  for (const entry of entries) {
    const { bytes, flags } = encodeName(entry.name);
    const extra = [];
    if (entry.size > ZIP64_LIMIT) extra.push(entry.size, entry.size);
    if (entry.offset > ZIP64_LIMIT) extra.push(entry.offset);
    const version = extra.length || zip64Local(entry.size) ? ZIP64_VERSION : DEFAULT_VERSION;
    const extraSize = extra.length ? 4 + 8 * extra.length : 0;
    const out = new Bytes(46 + bytes.length + extraSize);
    out.u32(0x02014b50).u8(version).u8(3).u8(version).u8(0).u16(flags).u16(0).u16(DOS_TIME).u16(DOS_DATE).u32(entry.crc)
      .u32(entry.size > ZIP64_LIMIT ? 0xffffffff : entry.size).u32(entry.size > ZIP64_LIMIT ? 0xffffffff : entry.size)
      .u16(bytes.length).u16(extraSize).u16(0).u16(0).u16(0).u32(EXTERNAL_ATTR)
      .u32(entry.offset > ZIP64_LIMIT ? 0xffffffff : entry.offset).raw(bytes);
    if (extra.length) {
      out.u16(1).u16(8 * extra.length);
      for (const value of extra) out.u64(value);
    }
    parts.push(out.bytes);
    size += out.bytes.length;
  }
  const end = start + size;
  const count = entries.length;
  if (count > 0xffff || start > ZIP64_LIMIT || size > ZIP64_LIMIT) {
    parts.push(new Bytes(56).u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count).u64(size).u64(start).bytes);
    parts.push(new Bytes(20).u32(0x07064b50).u32(0).u64(end).u32(1).bytes);
  }
  parts.push(new Bytes(22).u32(0x06054b50).u16(0).u16(0).u16(Math.min(count, 0xffff)).u16(Math.min(count, 0xffff))
    .u32(Math.min(size, 0xffffffff)).u32(Math.min(start, 0xffffffff)).u16(0).bytes);
  return parts;
}

// ---------------------------------------------------------------- packing

// The documents to pack, by their name in the package (NFC), sorted by code point; each
// checked as bidpack._collect checks a folder's files.
function collect(files, { maxEntries, maxTotalSize }) {
  const seen = new Set();
  const documents = [];
  let total = 0;
  for (const item of files) {
    const blob = item instanceof Blob ? item : item && item.blob;
    const rawName = item instanceof Blob ? item.name : item && item.name;
    if (!(blob instanceof Blob) || typeof rawName !== "string") {
      throw new BidPackError("not_a_file", "each document must be a File (or {name, blob})");
    }
    const name = rawName.normalize("NFC");
    checkPath(name);
    if (name === SUMMARY_NAME) {
      throw new BidPackError("reserved_name", `a document may not be named ${SUMMARY_NAME}; the package writes that file`, { path: name });
    }
    if (seen.has(name)) {
      throw new BidPackError("duplicate_entry", `two documents are both named ${JSON.stringify(name)} (after Unicode normalisation)`, { path: name });
    }
    seen.add(name);
    total += blob.size;
    documents.push({ name, blob, size: blob.size });
  }
  if (!documents.length) throw new BidPackError("empty", "no documents to pack");
  if (documents.length + 1 > maxEntries) {
    throw new BidPackError("too_many_entries", `${documents.length} documents; a package holds at most ${maxEntries - 1}`, { limit: maxEntries - 1 });
  }
  if (total > maxTotalSize) {
    throw new BidPackError("too_large", `the documents total ${total} bytes; a package holds at most ${maxTotalSize}`, { size: total, limit: maxTotalSize });
  }
  return documents.sort((a, b) => compareCodePoints(a.name, b.name));
}

// The documents of a folder chosen with <input type="file" webkitdirectory>: each File with its
// path relative to the chosen folder, as bidpack.pack names a folder's files ("技术标/方案.pdf").
export function documentsFromFolder(files) {
  return Array.from(files, (file) => {
    const relative = file.webkitRelativePath || file.name;
    const cut = relative.indexOf("/");
    return { name: cut < 0 ? relative : relative.slice(cut + 1), blob: file };
  });
}

// Check the summary and the price before a byte is read (bidpack.pack's checks, in its order).
export function checkSummary(summary, documents = [{ path: "document", size: 0, sha256: "0".repeat(64) }]) {
  if (summary === null || typeof summary !== "object" || Array.isArray(summary)) {
    throw invalid("summary", "the opening summary must be an object");
  }
  if (Object.hasOwn(summary, "documents")) {
    throw invalid("documents", "the opening summary must not list documents: packing lists and hashes them");
  }
  const fields = { format: FORMAT_NAME, version: FORMAT_VERSION, ...summary };
  validateSummary({ ...fields, documents });
  if (!(fields.price_fen < UPPER_BOUND_FEN)) {
    throw invalid("price_fen", `price_fen ${fields.price_fen} cannot be written in capital numerals (below 万亿元)`);
  }
  const inWords = parseCapital(fields.price_capital);
  if (inWords !== fields.price_fen) {
    throw new BidPackError("price_mismatch",
      `the price in words ${JSON.stringify(fields.price_capital)} is ${inWords} fen but the price in figures (price_fen) is ${fields.price_fen} fen; correct one of them`,
      { price_fen: fields.price_fen, in_words: inWords });
  }
  return fields;
}

async function hashDocument(document, onBytes, signal) {
  const digest = new Sha256();
  let crc = 0, read = 0;
  while (read < document.size) {
    if (signal && signal.aborted) throw signal.reason || new DOMException("aborted", "AbortError");
    let chunk;
    try {
      chunk = new Uint8Array(await document.blob.slice(read, Math.min(read + READ_SLICE, document.size)).arrayBuffer());
    } catch (error) {
      throw Object.assign(new BidPackError("file_changed", `${document.name} cannot be read any more (changed or removed since it was chosen): ${error.message}`, { path: document.name }), { cause: error });
    }
    if (!chunk.length) break;
    digest.update(chunk);
    crc = crc32(chunk, crc);
    read += chunk.length;
    onBytes(chunk.length);
  }
  if (read !== document.size) {
    throw new BidPackError("file_changed", `${document.name} changed while it was being packed`, { path: document.name });
  }
  return { sha256: toHex(digest.digest()), crc };
}

// Pack `files` (File objects, or {name, blob}) with the opening `summary` (every bid.json field
// but format, version and documents). Resolves to {blob, bid}: the package as a Blob
// (application/zip) and its bid.json. onProgress(doneBytes, totalBytes) follows the reading.
export async function packDocuments(files, summary, {
  onProgress = null, signal = null, maxEntries = MAX_ENTRIES, maxTotalSize = MAX_TOTAL_SIZE,
} = {}) {
  const documents = collect(Array.from(files), { maxEntries, maxTotalSize });
  const provisional = documents.map((d) => ({ path: d.name, size: d.size, sha256: "0".repeat(64) }));
  const fields = checkSummary(summary, provisional);
  const total = documents.reduce((sum, d) => sum + d.size, 0);
  let done = 0;
  if (onProgress) onProgress(0, total);
  const parts = [], entries = [], listed = [];
  let offset = 0;
  const add = (name, size, crc, data) => {
    const header = localHeader(name, size), descriptor = dataDescriptor(size, crc);
    entries.push({ name, size, crc, offset });
    parts.push(header, data, descriptor);
    offset += header.length + size + descriptor.length;
  };
  for (const document of documents) {
    const { sha256, crc } = await hashDocument(document, (n) => {
      done += n;
      if (onProgress) onProgress(done, total);
    }, signal);
    // The File itself goes into the Blob (no copy); were it changed since, reading the Blob fails.
    add(document.name, document.size, crc, document.blob);
    listed.push({ path: document.name, size: document.size, sha256 });
  }
  const bid = {};
  for (const key of SUMMARY_KEYS) if (key !== "documents") bid[key] = fields[key];
  bid.documents = listed;
  const json = summaryJson(bid);
  add(SUMMARY_NAME, json.length, crc32(json), json);
  parts.push(...centralDirectory(entries, offset));
  return { blob: new Blob(parts, { type: "application/zip" }), bid };
}
