// P-256 helpers that WebCrypto does not offer: the point check a key file reader needs, the
// public key of a private scalar (to check a private JWK against its public part, and to import
// the fixed keys of the test vectors), base64url, SubjectPublicKeyInfo and key fingerprints.
// Elliptic-curve arithmetic here is plain BigInt and not constant-time: it runs once per key file
// unlock in the bidder's own browser; all signing, key agreement and encryption is WebCrypto's.

import { sha256, toHex, fromHex } from "./sha256.js";

export const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
export const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

const mod = (a) => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

function inverse(a) {
  // Fermat: a^(p-2) mod p
  let result = 1n;
  let base = mod(a);
  let e = P - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % P;
    base = (base * base) % P;
    e >>= 1n;
  }
  return result;
}

/** True when (x, y) are field elements and the point satisfies y² = x³ − 3x + b. */
export function isOnCurve(x, y) {
  if (x < 0n || y < 0n || x >= P || y >= P) return false;
  return mod(y * y - (x * x * x + A * x + B)) === 0n;
}

// Jacobian coordinates (X, Y, Z) with x = X/Z², y = Y/Z³; Z = 0 is the point at infinity.
function double([X, Y, Z]) {
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const YY = mod(Y * Y);
  const S = mod(4n * X * YY);
  const ZZ = mod(Z * Z);
  const M = mod(3n * (X - ZZ) * (X + ZZ));
  const X3 = mod(M * M - 2n * S);
  return [X3, mod(M * (S - X3) - 8n * YY * YY), mod(2n * Y * Z)];
}

function add(p1, p2) {
  const [X1, Y1, Z1] = p1;
  const [X2, Y2, Z2] = p2;
  if (Z1 === 0n) return p2;
  if (Z2 === 0n) return p1;
  const Z1Z1 = mod(Z1 * Z1);
  const Z2Z2 = mod(Z2 * Z2);
  const U1 = mod(X1 * Z2Z2);
  const U2 = mod(X2 * Z1Z1);
  const S1 = mod(Y1 * Z2 * Z2Z2);
  const S2 = mod(Y2 * Z1 * Z1Z1);
  if (U1 === U2) return S1 === S2 ? double(p1) : [0n, 1n, 0n];
  const H = mod(U2 - U1);
  const R = mod(S2 - S1);
  const HH = mod(H * H);
  const HHH = mod(H * HH);
  const V = mod(U1 * HH);
  const X3 = mod(R * R - HHH - 2n * V);
  return [X3, mod(R * (V - X3) - S1 * HHH), mod(Z1 * Z2 * H)];
}

/** d·G as affine {x, y} BigInts, for 1 ≤ d < n. */
export function scalarBaseMult(d) {
  if (typeof d !== "bigint" || d < 1n || d >= N) throw new RangeError("the scalar must be in [1, n)");
  let result = [0n, 1n, 0n];
  let addend = [GX, GY, 1n];
  for (let k = d; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = double(addend);
  }
  const zInv = inverse(result[2]);
  const zInv2 = mod(zInv * zInv);
  return { x: mod(result[0] * zInv2), y: mod(result[1] * zInv2 * zInv) };
}

// --- encodings -----------------------------------------------------------------------------------

export function bytesToBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

export function bigIntToBytes(value, length = 32) {
  return fromHex(value.toString(16).padStart(2 * length, "0"));
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url (RFC 4648 section 5), as JWK uses. */
export function b64urlEncode(bytes) {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
  }
  return out;
}

/** Strict unpadded base64url: null unless `text` is canonical (no padding, no stray bits). */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    value = (value << 6) | B64URL.indexOf(text[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  if (value & ((1 << bits) - 1)) return null; // stray bits: not the canonical encoding
  return out;
}

// --- keys ----------------------------------------------------------------------------------------

const SPKI_PREFIX = fromHex("3059301306072a8648ce3d020106082a8648ce3d030107034200");

/** The 65-byte uncompressed point of a public JWK (x, y must be 32 bytes of base64url). */
export function jwkToRaw(jwk) {
  const x = b64urlDecode(jwk && jwk.x);
  const y = b64urlDecode(jwk && jwk.y);
  if (!x || !y || x.length !== 32 || y.length !== 32) throw new TypeError("not a P-256 public JWK");
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(x, 1);
  raw.set(y, 33);
  return raw;
}

/** The public JWK {kty, crv, x, y} of a 65-byte uncompressed point. */
export function rawToJwk(raw) {
  if (raw.length !== 65 || raw[0] !== 4) throw new TypeError("not an uncompressed P-256 point");
  return { kty: "EC", crv: "P-256", x: b64urlEncode(raw.subarray(1, 33)), y: b64urlEncode(raw.subarray(33)) };
}

/** SubjectPublicKeyInfo DER of a public JWK: byte for byte what WebCrypto's exportKey("spki") gives. */
export function spkiOfJwk(jwk) {
  const out = new Uint8Array(SPKI_PREFIX.length + 65);
  out.set(SPKI_PREFIX, 0);
  out.set(jwkToRaw(jwk), SPKI_PREFIX.length);
  return out;
}

/** Key fingerprint: lower-case hex SHA-256 of the SubjectPublicKeyInfo DER. */
export function fingerprintOfJwk(jwk) {
  return toHex(sha256(spkiOfJwk(jwk)));
}

/** A scalar given as hex, bytes or BigInt, as a BigInt in [1, n). */
export function scalarOf(value) {
  let d;
  if (typeof value === "bigint") d = value;
  else if (typeof value === "string") d = bytesToBigInt(fromHex(value));
  else if (value instanceof Uint8Array) d = bytesToBigInt(value);
  else throw new TypeError("a private scalar must be hex, a Uint8Array or a BigInt");
  if (d < 1n || d >= N) throw new RangeError("the private scalar is out of range");
  return d;
}

/** The private JWK {kty, crv, x, y, d} of a scalar (hex, bytes or BigInt). */
export function privateJwkOfScalar(value) {
  const d = scalarOf(value);
  const { x, y } = scalarBaseMult(d);
  return {
    kty: "EC",
    crv: "P-256",
    x: b64urlEncode(bigIntToBytes(x)),
    y: b64urlEncode(bigIntToBytes(y)),
    d: b64urlEncode(bigIntToBytes(d)),
  };
}

/** The public half {kty, crv, x, y} of a JWK. */
export function publicPart(jwk) {
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

// A non-extractable private CryptoKey does not reveal its public key, which HPKE's Decap needs
// (and a key's fingerprint names it). Whoever imports a private key records its public JWK here.
const publicOfPrivate = new WeakMap();

export function rememberPublicJwk(privateKey, publicJwk) {
  publicOfPrivate.set(privateKey, publicPart(publicJwk));
}

/** The public JWK of a private CryptoKey imported by these modules (or any extractable one). */
export async function publicJwkOfPrivateKey(privateKey) {
  const known = publicOfPrivate.get(privateKey);
  if (known) return known;
  if (privateKey && privateKey.extractable) return publicPart(await globalThis.crypto.subtle.exportKey("jwk", privateKey));
  throw new TypeError("the public key of this private CryptoKey is unknown: pass {privateKey, publicJwk}");
}
