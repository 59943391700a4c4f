// Answering a clarification (评标澄清) in the bidder's browser: templates/evaluation/clarification_detail.html.
//
// The statement signed is evaluation/clarification_statement.py's: the platform builds it (POST
// .../statement/ with the answer text and each attachment's name, size and SHA-256, computed here
// with WebCrypto; nothing is stored), so the browser never has to reproduce the canonical JSON.
// The page then signs the statement's SHA-256 (its 64 ASCII hex characters, ECDSA P-256 / SHA-256,
// raw r ‖ s as base64) with the key file's signing key, puts the signature in the form and submits
// the form itself: answer, the same files, signature. The server recomputes the statement from what
// it received and stores the answer only if the signature verifies. The key file and passphrase
// never leave the page. Every message comes from the page's configuration, in the user's language.

import { KeyFileError, openKeyFile } from "../sealbid/keyfile.js";

const config = JSON.parse(document.getElementById("clarification-sign-config").textContent);
const M = config.messages;
const $ = (id) => document.getElementById(id);
const form = $("answer-form");

function fmt(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
}

function say(text, kind = "") {
  const element = $("sign-status");
  element.textContent = text;
  element.className = kind === "error" ? "check-error" : "";
}

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function csrfToken() {
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

/** The answer as the platform normalises it: "\r\n" and "\r" become "\n", outer white space dropped. */
export function normaliseAnswer(text) {
  return text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").trim();
}

/** The 64 ASCII characters of the statement hash: what is signed. */
export function signedMessage(hashHex) {
  if (!/^[0-9a-f]{64}$/.test(hashHex)) throw new RangeError("the statement hash must be 64 lowercase hex digits");
  return new TextEncoder().encode(hashHex);
}

async function attachmentEntries(files) {
  const entries = [];
  for (const file of files) {
    entries.push({ name: file.name, size: file.size, sha256: hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer())) });
  }
  return entries;
}

async function statementHash(answer, attachments) {
  const response = await fetch(config.statement_url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ answer, attachments }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && (body.detail || JSON.stringify(body))) || String(response.status));
  return body.sha256;
}

let busy = false;
form.addEventListener("submit", async (event) => {
  if ($("signature").value) return; // signed: let the browser submit the form
  event.preventDefault();
  if (busy) return;
  if (!globalThis.crypto || !crypto.subtle) return say(M.no_webcrypto, "error");
  const answer = normaliseAnswer($("answer").value);
  if (!answer) return say(M.need_answer, "error");
  const keyFile = $("key-file").files[0];
  const passphrase = $("passphrase").value;
  if (!keyFile || !passphrase) return say(M.need_key_file, "error");
  const files = Array.from($("attachments").files);
  if (files.length > config.max_attachments) return say(fmt(M.failed, { reason: `> ${config.max_attachments}` }), "error");
  busy = true;
  $("sign-submit").disabled = true;
  try {
    say(M.opening_key);
    let keys;
    try {
      keys = await openKeyFile(await keyFile.text(), passphrase);
    } catch (error) {
      if (error instanceof KeyFileError && error.code === "wrong_passphrase") return say(M.wrong_passphrase, "error");
      return say(fmt(M.key_file_bad, { reason: error.message }), "error");
    }
    if (config.fingerprint && keys.signing.fingerprint !== config.fingerprint) {
      return say(fmt(M.wrong_key, { fingerprint: keys.signing.fingerprint.slice(0, 16) }), "error");
    }
    say(M.hashing);
    const attachments = await attachmentEntries(files);
    say(M.statement);
    const sha256 = await statementHash(answer, attachments);
    $("statement-hash").textContent = sha256;
    $("statement-hash-row").hidden = false;
    say(fmt(M.signing, { sha256 }));
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.signing.privateKey, signedMessage(sha256));
    $("signature").value = base64(signature);
    say(M.submitting);
    $("passphrase").value = "";
    form.submit();
  } catch (error) {
    say(fmt(M.failed, { reason: error.message }), "error");
  } finally {
    busy = false;
    $("sign-submit").disabled = false;
  }
});

document.body.dataset.clarificationSign = "ready";
