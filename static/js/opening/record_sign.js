// Signing the opening record (开标记录表) in the bidder's browser, as opening/record_signing.py
// specifies: ECDSA P-256 / SHA-256 over the ASCII text of the record hash (64 lowercase hex
// digits), the signature as raw r ‖ s (64 bytes, which is what WebCrypto produces), sent as hex in
// the room command confirm_record {signature}. The private key never leaves the page.
//
//   import { openKeyFile } from "/static/js/sealbid/keyfile.js";
//   import { signRecordHash } from "/static/js/opening/record_sign.js";
//   const keys = await openKeyFile(text, passphrase);
//   const signature = await signRecordHash(keys, event.payload.sha256);   // from record_drafted

const HASH = /^[0-9a-f]{64}$/;

function toHex(bytes) {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** The bytes a bidder signs for a record hash (the hash's 64 ASCII characters). */
export function signedMessage(hashHex) {
  if (typeof hashHex !== "string" || !HASH.test(hashHex)) throw new RangeError("the record hash must be 64 lowercase hex digits");
  return new TextEncoder().encode(hashHex);
}

/**
 * Sign the record hash with the key file's signing key. `keys` is what openKeyFile returns
 * (keys.signing.privateKey, an ECDSA P-256 CryptoKey). Resolves to the signature as 128 lowercase
 * hex digits.
 */
export async function signRecordHash(keys, hashHex) {
  const privateKey = keys && keys.signing && keys.signing.privateKey;
  if (!privateKey || privateKey.algorithm.name !== "ECDSA" || privateKey.algorithm.namedCurve !== "P-256") {
    throw new TypeError("the key file's ECDSA P-256 signing key is required");
  }
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, signedMessage(hashHex));
  return toHex(new Uint8Array(signature));
}
