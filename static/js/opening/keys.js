// The bidder's key file at the opening, entirely in the browser: unlock it with the passphrase,
// check that the bid was sealed to its decryption key, and unwrap the bid's data key from the
// sealed header (the room snapshot gives the bidder its own bid's header). Only the 32-byte data
// key is sent to the platform (room command release_key); the private keys never leave the page.

import { openKeyFile } from "../sealbid/keyfile.js";
import { unwrapDataKey } from "../sealbid/sealing.js";

export class RecipientMismatch extends Error {
  constructor(fileFingerprint, headerFingerprint) {
    super(`the bid is sealed to decryption key ${headerFingerprint}, not to the key file's ${fileFingerprint}`);
    this.name = "RecipientMismatch";
    this.fileFingerprint = fileFingerprint;
    this.headerFingerprint = headerFingerprint;
  }
}

export function toHex(bytes) {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** The key file's keys (openKeyFile), from a File chosen by the user. */
export async function unlockKeyFile(file, passphrase) {
  const text = await file.text();
  return openKeyFile(text, passphrase);
}

/** The bidder's recipient entry of the header (the first; a second is the custodial copy). */
export function bidderRecipient(header) {
  const recipients = (header && header.recipients) || [];
  return recipients.find((entry) => entry.role === "bidder") || recipients[0] || null;
}

/**
 * The bid's data key as 64 hex digits, unwrapped with the key file's decryption key. Throws
 * RecipientMismatch when the bid was sealed to another key, or sealing.js's SealedBidError.
 */
export async function dataKeyHex(header, keys) {
  const recipient = bidderRecipient(header);
  const fileFingerprint = keys.decryption.fingerprint;
  if (!recipient || recipient.key_fingerprint !== fileFingerprint) {
    throw new RecipientMismatch(fileFingerprint, recipient ? recipient.key_fingerprint : "");
  }
  const dataKey = await unwrapDataKey(header, keys.decryption);
  try {
    return toHex(dataKey);
  } finally {
    dataKey.fill(0);
  }
}
