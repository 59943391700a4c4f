// The report-signing key page (/evaluation/keys/, evaluation/views_report.py keys): create a key
// file in the browser with keyfile.js (the bidder key-file format; only its signing key is used),
// offer it for download, and register its signing public key with POST /api/v1/evaluation/expert-keys/;
// or register the signing key of an existing key file, read without the passphrase. Only the public
// JWK {kty, crv, x, y} is sent.

import { createKeyFile, openKeyFile, readPublicPart, checkNewPassphrase } from "../sealbid/keyfile.js";
import { csrfToken, fmt } from "./page.js";

const config = JSON.parse(document.getElementById("expert-keys-config").textContent);
const M = config.messages;
const $ = (id) => document.getElementById(id);
const state = { pending: null, created: null, downloaded: false, busy: false };

function say(id, text, kind = "") {
  $(id).textContent = text;
  $(id).className = kind ? `message ${kind}` : "";
}

function setPending(part) {
  state.pending = part ? part.signing : null;
  $("pending-fingerprint").textContent = part ? part.signing.fingerprint.match(/.{1,4}/g).join(" ") : "—";
  update();
}

function update() {
  const ready = state.pending && (!state.created || state.downloaded);
  $("register-key").disabled = state.busy || !ready || state.pending.fingerprint === config.active_fingerprint;
}

async function createClicked(event) {
  event.preventDefault();
  const passphrase = $("new-passphrase").value;
  try {
    checkNewPassphrase(passphrase);
  } catch {
    return say("create-status", fmt(M.passphrase_short, { min: config.min_passphrase_chars }), "error");
  }
  if (passphrase !== $("new-passphrase-again").value) return say("create-status", M.passphrase_mismatch, "error");
  state.busy = true;
  update();
  try {
    say("create-status", M.creating);
    const text = await createKeyFile(passphrase, { label: $("new-label").value });
    await openKeyFile(text, passphrase); // the file opens with the passphrase as typed
    $("new-passphrase").value = "";
    $("new-passphrase-again").value = "";
    if (state.created) URL.revokeObjectURL(state.created.url);
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const name = `${config.file_name_prefix}-${new Date().toISOString().slice(0, 10)}.json`;
    state.created = { url, name };
    state.downloaded = false;
    $("key-file-download").href = url;
    $("key-file-download").download = name;
    $("created").hidden = false;
    setPending(readPublicPart(text));
    say("create-status", M.created, "success");
  } catch (error) {
    say("create-status", fmt(M.create_error, { reason: error.message }), "error");
  } finally {
    state.busy = false;
    update();
  }
}

async function fileChosen() {
  const file = $("existing-key-file").files[0];
  if (!file) return;
  state.created = null;
  try {
    setPending(readPublicPart(new Uint8Array(await file.arrayBuffer())));
    say("register-status", M.file_read);
  } catch {
    setPending(null);
    say("register-status", M.file_bad, "error");
  }
}

async function registerClicked() {
  if (!state.pending) return;
  if (state.created && !state.downloaded) return say("register-status", M.download_first, "error");
  if (config.active_fingerprint && !window.confirm(M.rotation_confirm)) return;
  const jwk = state.pending.publicJwk;
  state.busy = true;
  update();
  say("register-status", M.registering);
  try {
    const response = await fetch(config.api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } }),
    });
    const body = await response.json().catch(() => null);
    if (response.status !== 201) return say("register-status", fmt(M.register_error, { reason: (body && body.detail) || `HTTP ${response.status}` }), "error");
    say("register-status", M.registered, "success");
    window.location.reload();
  } catch (error) {
    say("register-status", fmt(M.register_error, { reason: error.message }), "error");
  } finally {
    state.busy = false;
    update();
  }
}

$("create-form").addEventListener("submit", createClicked);
$("key-file-download").addEventListener("click", () => { state.downloaded = true; update(); });
$("existing-key-file").addEventListener("change", fileChosen);
$("register-key").addEventListener("click", registerClicked);
if (!globalThis.crypto?.subtle) say("create-status", M.no_webcrypto, "error");
update();
document.body.dataset.expertKeys = "ready";
