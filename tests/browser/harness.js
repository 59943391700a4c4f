// Test harness: puts the sealbid modules on window.sb and small helpers on window.h, so that
// page.evaluate() in tests/browser/test_sealbid_interop.py can drive them. Bytes cross between
// Python and the page as base64.
import * as sha256 from "/static/js/sealbid/sha256.js";
import * as p256 from "/static/js/sealbid/p256.js";
import * as json from "/static/js/sealbid/json.js";
import * as hpke from "/static/js/sealbid/hpke.js";
import * as keyfile from "/static/js/sealbid/keyfile.js";
import * as sealing from "/static/js/sealbid/sealing.js";
import * as isoformat from "/static/js/sealbid/isoformat.js";

const subtle = crypto.subtle;

function fromB64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function toB64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function blobToB64(blob) {
  return toB64(new Uint8Array(await blob.arrayBuffer()));
}

/** Bidder keys shaped as openKeyFile returns them, from two private scalars (hex). */
async function keysFromScalars(decryptionHex, signingHex) {
  const keys = {};
  for (const [role, hex, algorithm, usages] of [
    ["decryption", decryptionHex, { name: "ECDH", namedCurve: "P-256" }, ["deriveBits"]],
    ["signing", signingHex, { name: "ECDSA", namedCurve: "P-256" }, ["sign"]],
  ]) {
    const jwk = p256.privateJwkOfScalar(hex);
    const publicJwk = p256.publicPart(jwk);
    const privateKey = await subtle.importKey("jwk", jwk, algorithm, false, usages);
    p256.rememberPublicJwk(privateKey, publicJwk);
    keys[role] = { privateKey, publicJwk, fingerprint: p256.fingerprintOfJwk(publicJwk) };
  }
  return keys;
}

/** The plaintext of a vector: hex, or byte i = i mod 251. */
function vectorPlaintext(inputs) {
  if ("plaintext_hex" in inputs) return sha256.fromHex(inputs.plaintext_hex);
  const out = new Uint8Array(inputs.plaintext_pattern_mod251_size);
  for (let i = 0; i < out.length; i++) out[i] = i % 251;
  return out;
}

/** "ok" when the promise resolves, else the error's code (or its name and message). */
async function outcome(promiseOrFunction) {
  try {
    await (typeof promiseOrFunction === "function" ? promiseOrFunction() : promiseOrFunction);
    return "ok";
  } catch (error) {
    return error.code || `${error.name}: ${error.message}`;
  }
}

window.sb = { sha256, p256, json, hpke, keyfile, sealing, isoformat };
window.h = { fromB64, toB64, blobToB64, keysFromScalars, vectorPlaintext, outcome };
window.harnessReady = true;
