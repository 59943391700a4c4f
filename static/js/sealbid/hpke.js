// HPKE (RFC 9180) base mode, single shot, for one suite only: DHKEM(P-256, HKDF-SHA256) = 0x0010,
// HKDF-SHA256 = 0x0001, AES-256-GCM = 0x0002. The same steps as bidding/hpke.py, built from
// WebCrypto: ECDH P-256 deriveBits, HMAC-SHA256 for LabeledExtract/LabeledExpand, AES-GCM.
// Each function names the RFC 9180 section it implements. The ephemeral key can be fixed (test
// vectors only), as the Python side's Randomness does.

import { bytesToBigInt, jwkToRaw, N, privateJwkOfScalar, publicJwkOfPrivateKey, publicPart, rememberPublicJwk } from "./p256.js";

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

export const KEM_ID = 0x0010;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0002;
export const MODE_BASE = 0x00;
export const N_SECRET = 32, N_ENC = 65, N_K = 32, N_N = 12, N_H = 32;
export const KEM_SUITE_ID = concat(encoder.encode("KEM"), u16(KEM_ID));

const ECDH = { name: "ECDH", namedCurve: "P-256" };

/** Decapsulation or opening failed: wrong key, or the ciphertext was altered. */
export class HPKEError extends Error {}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u16(n) {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

const bytes = (value) => (typeof value === "string" ? encoder.encode(value) : value);

/** HMAC-SHA256(key, data). */
export async function hmacSha256(key, data) {
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

/** HKDF-Expand (RFC 5869) with SHA-256. */
export async function hkdfExpand(prk, info, length) {
  if (length > 255 * N_H) throw new RangeError("HKDF-Expand: length too large");
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, filled = 0; filled < length; i++) {
    previous = await hmacSha256(prk, concat(previous, info, new Uint8Array([i])));
    out.set(previous.subarray(0, Math.min(N_H, length - filled)), filled);
    filled += N_H;
  }
  return out;
}

/** LabeledExtract, section 4: HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
export async function labeledExtract(suiteId, salt, label, ikm) {
  // An empty salt is HashLen zero bytes (RFC 5869); WebCrypto refuses an empty HMAC key anyway.
  const key = salt.length ? salt : new Uint8Array(N_H);
  return hmacSha256(key, concat(encoder.encode("HPKE-v1"), suiteId, bytes(label), ikm));
}

/** LabeledExpand, section 4: HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
export async function labeledExpand(suiteId, prk, label, info, length) {
  return hkdfExpand(prk, concat(u16(length), encoder.encode("HPKE-v1"), suiteId, bytes(label), info), length);
}

/** DeserializePublicKey, section 7.1.1: an ECDH CryptoKey from the 65-byte uncompressed point. */
export async function deserializePublicKey(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== N_ENC || raw[0] !== 0x04) throw new HPKEError("not an uncompressed P-256 point");
  try {
    return await subtle.importKey("raw", raw, ECDH, true, []);
  } catch {
    throw new HPKEError("not a point on P-256");
  }
}

/** An ECDH key pair from a private scalar (hex, bytes or BigInt): {privateKey, publicRaw}. */
export async function keyPairFromScalar(scalar) {
  const jwk = privateJwkOfScalar(scalar);
  const privateKey = await subtle.importKey("jwk", jwk, ECDH, false, ["deriveBits"]);
  rememberPublicJwk(privateKey, publicPart(jwk));
  return { privateKey, publicRaw: jwkToRaw(jwk) };
}

/** DeriveKeyPair for P-256, section 7.1.3 (rejection sampling with bitmask 0xff). */
export async function deriveKeyPair(ikm) {
  const prk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "dkp_prk", ikm);
  for (let counter = 0; counter < 256; counter++) {
    const candidate = await labeledExpand(KEM_SUITE_ID, prk, "candidate", new Uint8Array([counter]), 32);
    const scalar = bytesToBigInt(candidate);
    if (scalar > 0n && scalar < N) return { ...(await keyPairFromScalar(scalar)), scalar: candidate };
  }
  throw new HPKEError("DeriveKeyPairError");
}

async function extractAndExpand(dh, kemContext) {
  const prk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dh);
  return labeledExpand(KEM_SUITE_ID, prk, "shared_secret", kemContext, N_SECRET);
}

/** Recipient public key as the 65-byte point: from a point, a public JWK or a public CryptoKey. */
export async function publicRaw(key) {
  if (key instanceof Uint8Array) return key;
  if (typeof CryptoKey !== "undefined" && key instanceof CryptoKey) return new Uint8Array(await subtle.exportKey("raw", key));
  return jwkToRaw(key);
}

async function ephemeralOf(ephemeral) {
  if (ephemeral == null) {
    const pair = await subtle.generateKey(ECDH, false, ["deriveBits"]);
    return { privateKey: pair.privateKey, publicRaw: new Uint8Array(await subtle.exportKey("raw", pair.publicKey)) };
  }
  if (ephemeral.privateKey && ephemeral.publicKey) {
    return { privateKey: ephemeral.privateKey, publicRaw: await publicRaw(ephemeral.publicKey) };
  }
  if (ephemeral.privateKey && ephemeral.publicRaw) return ephemeral;
  return keyPairFromScalar(ephemeral);
}

/** Encap, section 4.1, with the ephemeral key given ({privateKey, publicRaw}). Returns {sharedSecret, enc}. */
export async function encap(pkR, ephemeral) {
  const pkRm = await publicRaw(pkR);
  const pkRKey = await deserializePublicKey(pkRm);
  const dh = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: pkRKey }, ephemeral.privateKey, 256));
  const enc = ephemeral.publicRaw;
  return { sharedSecret: await extractAndExpand(dh, concat(enc, pkRm)), enc };
}

/** Decap, section 4.1. `recipient` is {privateKey, publicJwk | publicRaw} or a private CryptoKey. */
export async function decap(enc, recipient) {
  const { privateKey, pkRm } = await recipientOf(recipient);
  const pkE = await deserializePublicKey(enc);
  let dh;
  try {
    dh = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: pkE }, privateKey, 256));
  } catch {
    throw new HPKEError("key agreement failed");
  }
  return extractAndExpand(dh, concat(enc, pkRm));
}

async function recipientOf(recipient) {
  if (typeof CryptoKey !== "undefined" && recipient instanceof CryptoKey) {
    const jwk = await publicJwkOfPrivateKey(recipient);
    return { privateKey: recipient, pkRm: jwkToRaw(jwk) };
  }
  if (recipient && recipient.privateKey) {
    const pkRm = recipient.publicRaw || (recipient.publicJwk ? jwkToRaw(recipient.publicJwk) : jwkToRaw(await publicJwkOfPrivateKey(recipient.privateKey)));
    return { privateKey: recipient.privateKey, pkRm };
  }
  throw new TypeError("the recipient must be a private ECDH CryptoKey or {privateKey, publicJwk}");
}

/** KeySchedule, section 5.1, base mode. aeadId and keySize are parameters only for RFC 9180 A.3 (AES-128-GCM). */
export async function keyScheduleBase(sharedSecret, info, { aeadId = AEAD_ID, keySize = N_K } = {}) {
  const suiteId = concat(encoder.encode("HPKE"), u16(KEM_ID), u16(KDF_ID), u16(aeadId));
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(suiteId, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(suiteId, empty, "info_hash", info);
  const context = concat(new Uint8Array([MODE_BASE]), pskIdHash, infoHash);
  const secret = await labeledExtract(suiteId, sharedSecret, "secret", empty);
  return {
    key: await labeledExpand(suiteId, secret, "key", context, keySize),
    baseNonce: await labeledExpand(suiteId, secret, "base_nonce", context, N_N),
    exporterSecret: await labeledExpand(suiteId, secret, "exp", context, N_H),
  };
}

async function aesGcm(operation, key, nonce, aad, data) {
  const k = await subtle.importKey("raw", key, "AES-GCM", false, [operation]);
  return new Uint8Array(await subtle[operation]({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, k, data));
}

/**
 * Single-shot SealBase, section 6.1: returns {enc, ciphertext}. `recipientPublic` is the 65-byte
 * point, a public JWK or a public ECDH CryptoKey. `ephemeral` (test vectors only) is a private
 * scalar (hex, bytes, BigInt), a CryptoKeyPair, or {privateKey, publicRaw}; fresh when omitted.
 */
export async function sealBase(recipientPublic, info, aad, plaintext, { ephemeral = null, aeadId = AEAD_ID, keySize = N_K } = {}) {
  const { sharedSecret, enc } = await encap(recipientPublic, await ephemeralOf(ephemeral));
  const ctx = await keyScheduleBase(sharedSecret, info, { aeadId, keySize });
  return { enc, ciphertext: await aesGcm("encrypt", ctx.key, ctx.baseNonce, aad, plaintext) };
}

/** Single-shot OpenBase, section 6.1. Throws HPKEError for a wrong key or altered input. */
export async function openBase(enc, recipient, info, aad, ciphertext, { aeadId = AEAD_ID, keySize = N_K } = {}) {
  const ctx = await keyScheduleBase(await decap(enc, recipient), info, { aeadId, keySize });
  try {
    return await aesGcm("decrypt", ctx.key, ctx.baseNonce, aad, ciphertext);
  } catch {
    throw new HPKEError("HPKE open failed: wrong recipient key, or the wrapped key was altered");
  }
}
