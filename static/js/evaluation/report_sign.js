// Signing the evaluation report (评标报告) in a member's browser, as evaluation/report_signing.py
// specifies: ECDSA P-256 / SHA-256 over the ASCII text of the report hash (64 lowercase hex
// digits) with the signing key of the member's key file (the bidder key-file format,
// docs/evaluation-report.md), the raw r ‖ s signature sent as base64 to
// POST /api/v1/evaluation/lots/<lot_id>/report/signature/. The key file is opened in the page; the
// passphrase and the private key never leave it.
//
//   import { signReportHash } from "/static/js/evaluation/report_sign.js";
//   const keys = await openKeyFile(text, passphrase);
//   const signature = await signReportHash(keys, sha256);   // base64

import { openKeyFile, KeyFileError } from "../sealbid/keyfile.js";
import { signRecordHash } from "../opening/record_sign.js";
import { csrfToken, fmt } from "./page.js";

function hexToBase64(hex) {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

/** The base64 signature (raw r ‖ s) of the report hash by the key file's signing key. */
export async function signReportHash(keys, hashHex) {
  return hexToBase64(await signRecordHash(keys, hashHex));
}

async function signClicked(config, event) {
  event.preventDefault();
  const M = config.messages;
  const status = document.getElementById("sign-status");
  const say = (text, kind = "") => { status.textContent = text; status.className = kind ? `message ${kind}` : ""; };
  const file = document.getElementById("sign-key-file").files[0];
  const passphrase = document.getElementById("sign-passphrase").value;
  if (!file || !passphrase) return say(M.choose_file, "error");
  const button = document.getElementById("sign-button");
  button.disabled = true;
  try {
    say(M.unlocking);
    let keys;
    try {
      keys = await openKeyFile(new Uint8Array(await file.arrayBuffer()), passphrase);
    } catch (error) {
      return say(error instanceof KeyFileError && error.code === "wrong_passphrase" ? M.wrong_passphrase : M.file_bad, "error");
    }
    if (config.fingerprint && keys.signing.fingerprint !== config.fingerprint) {
      return say(fmt(M.wrong_key, { fingerprint: config.fingerprint.slice(0, 16) + "…" }), "error");
    }
    say(M.signing);
    const signature = await signReportHash(keys, config.sha256);
    let response;
    try {
      response = await fetch(config.api, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ signature, version: config.version }),
      });
    } catch {
      return say(M.network, "error");
    }
    const body = await response.json().catch(() => null);
    if (response.status !== 201) return say(fmt(M.refused, { reason: (body && body.detail) || `HTTP ${response.status}` }), "error");
    document.getElementById("sign-passphrase").value = "";
    say(M.signed, "success");
    window.location.reload();
  } finally {
    button.disabled = false;
  }
}

const configElement = typeof document !== "undefined" && document.getElementById("report-sign-config");
if (configElement) {
  const config = JSON.parse(configElement.textContent);
  document.getElementById("sign-form").addEventListener("submit", (event) => signClicked(config, event));
  document.body.dataset.reportSign = "ready";
}
