// The bidder's key file (docs/bidder-key-file.md) in the browser. Reading: the same checks in the
// same order as bidding/keyfile.py, so a file is refused here exactly when the bid tool refuses it,
// and with the same error code; the private keys are imported into WebCrypto as non-extractable
// keys. Writing (createKeyFile): what keyfile.generate writes, byte for byte for the same inputs.

import { canonical, isInteger, isPlainObject, parseStrict } from "./json.js";
import {
  b64urlDecode, b64urlEncode, bytesToBigInt, fingerprintOfJwk, isOnCurve, N, P, privateJwkOfScalar, publicPart, rememberPublicJwk, scalarBaseMult,
} from "./p256.js";
import { fromHex } from "./sha256.js";
import { pythonFromIsoFormat } from "./isoformat.js";

const subtle = globalThis.crypto.subtle;

export const FORMAT = "etender-bidder-keys";
export const VERSION = 1;
const KDF_NAME = "PBKDF2-SHA256";
const AEAD_NAME = "AES-256-GCM";
export const DEFAULT_ITERATIONS = 600000; // OWASP's figure for PBKDF2-HMAC-SHA256 (2023), as keyfile.py
export const MIN_PASSPHRASE_CHARS = 12;
const MIN_ITERATIONS = 1000;
const MAX_ITERATIONS = 10000000;
const SALT_BYTES = 16;
const MAX_LABEL_CHARS = 200;
const MAX_FILE_BYTES = 64 * 1024;
const NONCE_BYTES = 12;
const AEAD_KEY_INFO = "etender-bidder-keys v1 aead key";
const CHECK_INFO = "etender-bidder-keys v1 passphrase check";
const TOP_FIELDS = ["format", "version", "label", "created", "public", "kdf", "aead", "ciphertext"];
const JWK_FIELDS = ["kty", "crv", "x", "y"];

/**
 * Anything wrong with a key file or a passphrase. `code` is one of 'malformed', 'unsupported',
 * 'tampered', 'wrong_passphrase' (the Python reader's codes; its InvalidJWK, a kind of malformed
 * file, is 'malformed' here), and 'weak_passphrase' from the writer (Python's WeakPassphrase).
 * Messages never contain the passphrase or key material.
 */
export class KeyFileError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "KeyFileError";
    this.code = code;
  }
}

const malformed = (message) => new KeyFileError("malformed", message);

/**
 * The public part, without the passphrase: {label, created, decryption: {publicJwk, fingerprint},
 * signing: {publicJwk, fingerprint}}. `text` is the file's text, or its bytes (Uint8Array or
 * ArrayBuffer). Not authenticated: register public keys only after openKeyFile succeeded.
 */
export function readPublicPart(text) {
  const document = parse(text);
  return {
    label: document.label,
    created: document.created,
    decryption: { publicJwk: document.publicJwks.decryption, fingerprint: document.fingerprints.decryption },
    signing: { publicJwk: document.publicJwks.signing, fingerprint: document.fingerprints.signing },
  };
}

/**
 * Both private keys, as WebCrypto keys: {label, created, decryption: {privateKey (ECDH),
 * publicJwk, fingerprint}, signing: {privateKey (ECDSA), publicJwk, fingerprint}}.
 * `options.extractable` (tests only) imports the private keys as extractable.
 */
export async function openKeyFile(text, passphrase, { extractable = false } = {}) {
  if (typeof passphrase !== "string") throw new TypeError("the passphrase must be a string");
  const document = parse(text);
  const normalised = passphrase.normalize("NFC");
  if (/\p{Cs}/u.test(normalised)) throw new KeyFileError("wrong_passphrase", "the passphrase is wrong"); // not encodable, as in Python
  const { aeadKey, check } = await derive(new TextEncoder().encode(normalised), document.salt, document.iterations);
  if (!constantTimeEqual(check, document.check)) throw new KeyFileError("wrong_passphrase", "the passphrase is wrong");
  let plaintext;
  try {
    const key = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["decrypt"]);
    plaintext = new Uint8Array(
      await subtle.decrypt({ name: "AES-GCM", iv: document.nonce, additionalData: document.associatedData }, key, document.ciphertext),
    );
  } catch {
    throw new KeyFileError("tampered", "the key file was altered after it was written");
  }
  const jwks = privateJwks(plaintext);
  for (const role of ["decryption", "signing"]) {
    if (fingerprintOfJwk(jwks[role]) !== document.fingerprints[role]) {
      throw malformed("the private keys do not belong to the public keys of the file");
    }
  }
  const result = { label: document.label, created: document.created };
  for (const [role, algorithm, usages] of [
    ["decryption", { name: "ECDH", namedCurve: "P-256" }, ["deriveBits"]],
    ["signing", { name: "ECDSA", namedCurve: "P-256" }, ["sign"]],
  ]) {
    const jwk = jwks[role];
    let privateKey;
    try {
      privateKey = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d }, algorithm, extractable, usages);
    } catch {
      throw malformed(`the private ${role} key is not valid`);
    }
    const publicJwk = document.publicJwks[role];
    rememberPublicJwk(privateKey, publicJwk);
    result[role] = { privateKey, publicJwk, fingerprint: document.fingerprints[role] };
  }
  return result;
}

// --- writing, as bidding/keyfile.py's generate and _seal ------------------------------------------

/**
 * The UTF-8 bytes of a new passphrase (NFC), or KeyFileError 'weak_passphrase' for one the writer
 * refuses: fewer than MIN_PASSPHRASE_CHARS characters (code points after NFC), or not valid text
 * (a lone surrogate). keyfile._new_passphrase's rule, checked in the same order.
 */
export function checkNewPassphrase(passphrase) {
  if (typeof passphrase !== "string") throw new TypeError("the passphrase must be a string");
  const normalised = passphrase.normalize("NFC");
  if (/\p{Cs}/u.test(normalised)) throw new KeyFileError("weak_passphrase", "the passphrase is not valid text");
  if (Array.from(normalised).length < MIN_PASSPHRASE_CHARS) {
    throw new KeyFileError("weak_passphrase", `the passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  return new TextEncoder().encode(normalised);
}

/** Throws RangeError (Python: ValueError) for a label a key file cannot hold. */
export function checkNewLabel(label) {
  if (typeof label !== "string") throw new TypeError("the label must be a string");
  const problem = labelProblem(label);
  if (problem) throw new RangeError(problem);
}

/**
 * A new key file, as its text (UTF-8 JSON, indented, ending in a newline): fresh decryption (ECDH
 * P-256) and signing (ECDSA P-256) keys made by WebCrypto, under `passphrase`, with a fresh 16-byte
 * salt and 12-byte nonce. Checks in keyfile.generate's order: the passphrase (KeyFileError
 * 'weak_passphrase'), `iterations` (TypeError, RangeError), `label` (TypeError, RangeError).
 * `created` is a Date (written in UTC, whole seconds, "Z") or such a string; default now.
 *
 * The private keys exist only inside this call: generated extractable just so their JWK can be
 * encrypted into the file, then dropped. Nothing but the returned text leaves it.
 *
 * Test vectors only: `decryptionScalar`, `signingScalar` (hex, bytes or BigInt), `salt` and `nonce`
 * (hex or bytes) replace the random ones, so bidding/vectors/keyfile-v1.json is rebuilt exactly.
 */
export async function createKeyFile(passphrase, {
  label = "", iterations = DEFAULT_ITERATIONS, created = new Date(),
  decryptionScalar = null, signingScalar = null, salt = null, nonce = null,
} = {}) {
  const secret = checkNewPassphrase(passphrase);
  if (!Number.isInteger(iterations)) throw new TypeError("iterations must be an integer");
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`);
  }
  checkNewLabel(label);
  const createdText = createdString(created);
  const saltBytes = salt === null ? crypto.getRandomValues(new Uint8Array(SALT_BYTES)) : fixedBytes(salt, "salt", 16, 64);
  const nonceBytes = nonce === null ? crypto.getRandomValues(new Uint8Array(NONCE_BYTES)) : fixedBytes(nonce, "nonce", NONCE_BYTES, NONCE_BYTES);
  const decryption = decryptionScalar === null ? await newPrivateJwk({ name: "ECDH", namedCurve: "P-256" }, ["deriveBits"]) : privateJwkOfScalar(decryptionScalar);
  const signing = signingScalar === null ? await newPrivateJwk({ name: "ECDSA", namedCurve: "P-256" }, ["sign"]) : privateJwkOfScalar(signingScalar);
  if (decryption.x === signing.x && decryption.y === signing.y) throw new RangeError("the decryption and signing keys must be different keys");
  return seal(secret, { decryption, signing, label, created: createdText, iterations, salt: saltBytes, nonce: nonceBytes });
}

/** keyfile._seal: deterministic for its inputs. */
async function seal(secret, { decryption, signing, label, created, iterations, salt, nonce }) {
  const { aeadKey, check } = await derive(secret, salt, iterations);
  secret.fill(0);
  // Members in keyfile._seal's order: JSON.stringify keeps it, and the indented text below is then
  // Python's json.dumps(document, ensure_ascii=False, indent=2) (the values are strings and
  // integers; a label has no control characters or lone surrogates, the only characters either
  // side escapes beyond " and \).
  const document = {
    format: FORMAT,
    version: VERSION,
    label,
    created,
    public: {
      decryption: publicPart(decryption),
      signing: publicPart(signing),
      fingerprints: { decryption: fingerprintOfJwk(decryption), signing: fingerprintOfJwk(signing) },
    },
    kdf: { name: KDF_NAME, iterations, salt: b64urlEncode(salt), check: b64urlEncode(check) },
    aead: { name: AEAD_NAME, nonce: b64urlEncode(nonce) },
  };
  const plaintext = canonical({ decryption: privateJwk(decryption), signing: privateJwk(signing) });
  try {
    const key = await subtle.importKey("raw", aeadKey, "AES-GCM", false, ["encrypt"]);
    const sealed = await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: canonical(document) }, key, plaintext);
    document.ciphertext = b64urlEncode(new Uint8Array(sealed));
  } finally {
    plaintext.fill(0);
    aeadKey.fill(0);
  }
  return JSON.stringify(document, null, 2) + "\n";
}

/** A fresh WebCrypto key pair's private JWK {kty, crv, x, y, d}; the CryptoKeys are not kept. */
async function newPrivateJwk(algorithm, usages) {
  const pair = await subtle.generateKey(algorithm, true, usages);
  const jwk = await subtle.exportKey("jwk", pair.privateKey);
  const d = b64urlDecode(jwk.d);
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !d || d.length !== 32) throw new Error("WebCrypto returned an unexpected P-256 key");
  return privateJwk(jwk);
}

function privateJwk(jwk) {
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d };
}

function createdString(created) {
  if (created instanceof Date) {
    if (Number.isNaN(created.getTime())) throw new RangeError("created is not a valid time");
    const iso = created.toISOString(); // UTC, milliseconds
    if (!/^\d{4}-/.test(iso) || created.getUTCFullYear() < 1) throw new RangeError("created must be between the years 1 and 9999");
    return iso.replace(/\.\d{3}Z$/, "Z");
  }
  if (typeof created !== "string") throw new TypeError("created must be a Date or a string");
  const parsed = pythonFromIsoFormat(created);
  if (Array.from(created).length > 64 || !parsed || !parsed.aware) throw new RangeError("created must be an ISO 8601 time with a zone");
  return created;
}

function fixedBytes(value, what, min, max) {
  const bytes = typeof value === "string" ? fromHex(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length < min || bytes.length > max) {
    throw new RangeError(`${what} must be ${min === max ? min : `${min} to ${max}`} bytes`);
  }
  return Uint8Array.from(bytes);
}

// --- reading, in bidding/keyfile.py's order -------------------------------------------------------

function parse(input) {
  let text;
  if (typeof input === "string") {
    if (new TextEncoder().encode(input).length > MAX_FILE_BYTES) throw malformed("not a bidder key file (too large)");
    text = input.startsWith("\ufeff") ? input.slice(1) : input;
  } else if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (bytes.length > MAX_FILE_BYTES) throw malformed("not a bidder key file (too large)");
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // strips one byte-order mark, as utf-8-sig
    } catch {
      throw malformed("not a bidder key file (not JSON)");
    }
  } else {
    throw new TypeError("key file contents must be a string or bytes");
  }
  let document;
  try {
    document = parseStrict(text);
  } catch {
    throw malformed("not a bidder key file (not JSON)");
  }
  if (!isPlainObject(document) || document.format !== FORMAT) throw malformed("not a bidder key file");
  const version = document.version;
  if (!isInteger(version) || version < 1) throw malformed("the key file has no valid version");
  if (version !== VERSION) {
    throw new KeyFileError("unsupported", `the key file has version ${version}; this tool reads version ${VERSION}, please update it`);
  }
  requireFields(document, TOP_FIELDS, "key file");

  const kdf = object(document.kdf, "kdf");
  if (kdf.name !== KDF_NAME) throw new KeyFileError("unsupported", `the key file uses an unknown key derivation; this tool knows ${KDF_NAME}`);
  requireFields(kdf, ["name", "iterations", "salt", "check"], "kdf");
  const iterations = kdf.iterations;
  if (!isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw malformed(`kdf.iterations must be an integer between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`);
  }
  const salt = b64(kdf.salt, "kdf.salt", 16, 64);
  const check = b64(kdf.check, "kdf.check", 32, 32);

  const aead = object(document.aead, "aead");
  if (aead.name !== AEAD_NAME) throw new KeyFileError("unsupported", `the key file uses an unknown cipher; this tool knows ${AEAD_NAME}`);
  requireFields(aead, ["name", "nonce"], "aead");
  const nonce = b64(aead.nonce, "aead.nonce", NONCE_BYTES, NONCE_BYTES);
  const ciphertext = b64(document.ciphertext, "ciphertext", 17, MAX_FILE_BYTES);

  const label = document.label;
  if (typeof label !== "string" || labelProblem(label)) throw malformed("the key file's label is not valid");
  const created = document.created;
  if (typeof created !== "string" || Array.from(created).length > 64) throw malformed("the key file's creation time is not valid");
  const parsed = pythonFromIsoFormat(created);
  if (!parsed) throw malformed("the key file's creation time is not valid");
  if (!parsed.aware) throw malformed("the key file's creation time has no time zone");

  const { publicJwks, fingerprints } = publicPartOf(document.public);
  const withoutCiphertext = Object.create(null);
  for (const name of Object.keys(document)) if (name !== "ciphertext") withoutCiphertext[name] = document[name];
  let associatedData;
  try {
    associatedData = canonical(withoutCiphertext);
  } catch {
    throw malformed("the key file cannot be encoded"); // Python raises UnicodeEncodeError here
  }
  return { label, created, iterations, salt, check, nonce, ciphertext, associatedData, publicJwks, fingerprints };
}

function publicPartOf(value) {
  const pub = object(value, "public");
  requireFields(pub, ["decryption", "signing", "fingerprints"], "public");
  const publicJwks = {};
  for (const role of ["decryption", "signing"]) {
    const jwk = object(pub[role], `public.${role}`);
    requireFields(jwk, JWK_FIELDS, `public.${role}`);
    publicKey(jwk, `public.${role}`);
    publicJwks[role] = publicPart(jwk);
  }
  const given = object(pub.fingerprints, "public.fingerprints");
  requireFields(given, ["decryption", "signing"], "public.fingerprints");
  const fingerprints = {};
  for (const role of ["decryption", "signing"]) {
    if (typeof given[role] !== "string" || !/^[0-9a-f]{64}$/.test(given[role])) {
      throw malformed(`public.fingerprints.${role} must be 64 lowercase hex digits`);
    }
    if (given[role] !== fingerprintOfJwk(publicJwks[role])) {
      throw new KeyFileError("tampered", `the ${role} key's fingerprint does not match the key: the file was altered`);
    }
    fingerprints[role] = given[role];
  }
  if (fingerprints.decryption === fingerprints.signing) throw malformed("the decryption and signing keys must be different keys");
  return { publicJwks, fingerprints };
}

/** Checks a public JWK {kty, crv, x, y}; returns the point as BigInts. */
function publicKey(jwk, where) {
  if (jwk.kty !== "EC") throw malformed(`${where}: not an elliptic-curve key (kty must be EC)`);
  if (jwk.crv !== "P-256") throw malformed(`${where}: the curve must be P-256`);
  const x = bytesToBigInt(b64(jwk.x, `${where}.x`, 32, 32));
  const y = bytesToBigInt(b64(jwk.y, `${where}.y`, 32, 32));
  if (x >= P || y >= P || !isOnCurve(x, y)) throw malformed(`${where}: the point is not on the curve`);
  return { x, y };
}

function privateJwks(plaintext) {
  let keys;
  try {
    keys = parseStrict(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plaintext));
  } catch {
    throw malformed("the encrypted part of the key file is not JSON");
  }
  keys = object(keys, "private keys");
  requireFields(keys, ["decryption", "signing"], "private keys");
  const out = {};
  for (const role of ["decryption", "signing"]) {
    const jwk = object(keys[role], `private ${role} key`);
    requireFields(jwk, [...JWK_FIELDS, "d"], `private ${role} key`);
    const point = publicKey(jwk, `private ${role} key`);
    const d = bytesToBigInt(b64(jwk.d, `private ${role} key`, 32, 32));
    if (d < 1n || d >= N) throw malformed(`the private ${role} key is not valid`);
    const derived = scalarBaseMult(d);
    if (derived.x !== point.x || derived.y !== point.y) throw malformed(`the private ${role} key does not match its public key`);
    out[role] = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d };
  }
  return out;
}

// --- helpers -------------------------------------------------------------------------------------

async function derive(secret, salt, iterations) {
  const base = await subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
  const master = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256);
  const hkdf = await subtle.importKey("raw", master, "HKDF", false, ["deriveBits"]);
  const expand = async (info) =>
    new Uint8Array(
      await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) }, hkdf, 256),
    );
  return { aeadKey: await expand(AEAD_KEY_INFO), check: await expand(CHECK_INFO) };
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function labelProblem(label) {
  if (Array.from(label).length > MAX_LABEL_CHARS) return `the label must have at most ${MAX_LABEL_CHARS} characters`;
  if (/[\p{Cc}\p{Cs}]/u.test(label)) return "the label must not contain control characters";
  return null;
}

function requireFields(value, fields, where) {
  const names = Object.keys(value);
  const missing = fields.filter((f) => !names.includes(f));
  if (missing.length) throw malformed(`${where}: missing ${missing.sort().join(", ")}`);
  const unknown = names.filter((n) => !fields.includes(n));
  if (unknown.length) throw malformed(`${where}: unknown members ${unknown.sort().join(", ")}`.slice(0, 300));
}

function object(value, where) {
  if (!isPlainObject(value)) throw malformed(`${where} must be a JSON object`);
  return value;
}

function b64(text, where, min, max) {
  const raw = b64urlDecode(text);
  if (raw === null) throw malformed(`${where} must be canonical unpadded base64url`);
  if (raw.length < min || raw.length > max) throw malformed(`${where} must be ${min === max ? min : `${min} to ${max}`} bytes`);
  return raw;
}
