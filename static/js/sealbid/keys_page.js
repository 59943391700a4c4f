// The bidder keys page (templates/bidding/keys.html, bidding/views.py): create a key file in the
// browser (keyfile.js createKeyFile), offer it for download, and register its two public keys with
// POST /api/v1/bidder-keys/; or register the public keys of an existing key file, read without the
// passphrase. Only the public JWKs {kty, crv, x, y} are ever sent: the passphrase and the private
// keys stay in this page (the private keys only inside the encrypted file).
// Every message comes from the page's configuration, in the user's language.

import { KeyFileError, checkNewLabel, checkNewPassphrase, createKeyFile, openKeyFile, readPublicPart } from "./keyfile.js";

const config = JSON.parse(document.getElementById("keys-page-config").textContent);
const M = config.messages;
const $ = (id) => document.getElementById(id);
const MAX_KEY_FILE_BYTES = 64 * 1024;
const REGISTERED_FLAG = "etender-keys-page-registered";
const english = document.documentElement.lang === "en";
const timeFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});
const dateFormat = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });

// created: {text, name, url} of the file made on this page; pending: the public keys to register.
const state = { created: null, downloaded: false, pending: null, busy: false };

function fmt(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
}

const KINDS = { ok: "check-ok", error: "check-error", "message-error": "message error", "message-success": "message success" };
function say(id, text, kind = "") {
  const element = $(id);
  element.textContent = text;
  element.className = KINDS[kind] || "";
}

const blocks = (hex) => (hex || "").match(/.{1,4}/g)?.join(" ") || "—";

function shanghai(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

function csrfToken() {
  const field = document.querySelector("#create-form input[name=csrfmiddlewaretoken]");
  if (field && field.value) return field.value;
  for (const cookie of document.cookie.split(";")) {
    const [name, ...value] = cookie.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(value.join("="));
  }
  return "";
}

function keyFileMessage(error) {
  if (error instanceof KeyFileError && M[`file_${error.code}`]) return M[`file_${error.code}`];
  return fmt(M.file_unreadable, { reason: error.message });
}

// ---------------------------------------------------------------- the passphrase rule, as typed

function passphraseProblem(passphrase) {
  try {
    checkNewPassphrase(passphrase);
    return null;
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    const count = Array.from(passphrase.normalize("NFC")).length;
    return /\p{Cs}/u.test(passphrase) ? M.passphrase_not_text : fmt(M.passphrase_short, { min: config.min_passphrase_chars, count });
  }
}

function showPassphraseChecks() {
  const passphrase = $("new-passphrase").value;
  const again = $("new-passphrase-again").value;
  if (!passphrase) say("passphrase-check", "");
  else {
    const problem = passphraseProblem(passphrase);
    say("passphrase-check", problem || M.passphrase_ok, problem ? "error" : "ok");
  }
  if (again && again !== passphrase) say("passphrase-again-check", M.passphrase_mismatch, "error");
  else say("passphrase-again-check", "");
}

// ---------------------------------------------------------------- creating the file

function fileName() {
  return `${config.file_name_prefix}-${dateFormat.format(new Date())}.json`;
}

async function createClicked(event) {
  event.preventDefault();
  if (state.busy) return;
  const label = $("new-label").value;
  const passphrase = $("new-passphrase").value;
  const again = $("new-passphrase-again").value;
  try {
    checkNewLabel(label);
  } catch {
    say("create-status", M.label_invalid, "error");
    $("new-label").focus();
    return;
  }
  const problem = passphraseProblem(passphrase);
  if (problem) {
    say("create-status", problem, "error");
    showPassphraseChecks();
    $("new-passphrase").focus();
    return;
  }
  if (!again) {
    say("create-status", M.passphrase_again, "error");
    $("new-passphrase-again").focus();
    return;
  }
  if (again !== passphrase) {
    say("create-status", M.passphrase_mismatch, "error");
    showPassphraseChecks();
    $("new-passphrase-again").focus();
    return;
  }
  setBusy(true);
  try {
    say("create-status", M.creating);
    const text = await createKeyFile(passphrase, { label });
    // The file must open with the passphrase as typed before anyone relies on it.
    say("create-status", M.checking);
    const opened = await openKeyFile(text, passphrase);
    const part = readPublicPart(text);
    if (opened.decryption.fingerprint !== part.decryption.fingerprint || opened.signing.fingerprint !== part.signing.fingerprint) {
      throw new Error("the new key file does not open to its own keys");
    }
    $("new-passphrase").value = "";
    $("new-passphrase-again").value = "";
    showPassphraseChecks();
    offerDownload(text);
    setPending(part, "created");
    say("create-status", M.created, "ok");
  } catch (error) {
    say("create-status", fmt(M.create_error, { reason: error.message }), "error");
  } finally {
    setBusy(false);
  }
}

function offerDownload(text) {
  if (state.created) URL.revokeObjectURL(state.created.url);
  const name = fileName();
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  state.created = { text, name, url };
  state.downloaded = false;
  const link = $("key-file-download");
  link.href = url;
  link.download = name;
  $("key-file-name").textContent = name;
  say("download-status", M.download_first, "");
  $("created").hidden = false;
}

function downloadClicked() {
  if (!state.created) return;
  state.downloaded = true;
  say("download-status", fmt(M.downloaded, { name: state.created.name }), "ok");
  updateRegisterButton();
}

// ---------------------------------------------------------------- the keys to register

async function existingFileChosen() {
  const file = $("existing-key-file").files[0];
  if (!file) return;
  try {
    if (file.size > MAX_KEY_FILE_BYTES) throw new KeyFileError("malformed", "not a bidder key file (too large)");
    setPending(readPublicPart(new Uint8Array(await file.arrayBuffer())), "file");
  } catch (error) {
    setPending(null);
    say("register-source", keyFileMessage(error), "error");
  }
}

function alreadyActive(part) {
  const active = config.active_fingerprints;
  return part.decryption.fingerprint === active.decryption && part.signing.fingerprint === active.signing;
}

function setPending(part, source) {
  state.pending = part ? { ...part, source } : null;
  $("rotation-confirm").hidden = true;
  say("register-status", "");
  for (const role of ["decryption", "signing"]) $(`pending-${role}-fingerprint`).textContent = blocks(part && part[role].fingerprint);
  if (part) {
    say("register-source", fmt(M.file_read, { label: part.label || M.no_label, created: shanghai(part.created) }), "");
    if (alreadyActive(part)) say("register-status", M.already_active, "error");
  } else {
    say("register-source", "");
  }
  updateRegisterButton();
}

function registrable() {
  const pending = state.pending;
  return pending !== null && !alreadyActive(pending) && (pending.source !== "created" || state.downloaded);
}

function updateRegisterButton() {
  $("register-keys").disabled = state.busy || !registrable();
  if (state.pending && state.pending.source === "created" && !state.downloaded) say("register-status", M.download_first, "");
  else if (state.pending && state.pending.source === "created" && $("register-status").textContent === M.download_first) say("register-status", "");
}

function setBusy(busy) {
  state.busy = busy;
  $("create-key-file").disabled = busy || !globalThis.crypto?.subtle;
  $("confirm-rotation").disabled = busy;
  updateRegisterButton();
}

function registerClicked() {
  if (!registrable() || state.busy) return;
  if (config.has_active_keys) {
    $("rotation-confirm").hidden = false;
    $("confirm-rotation").focus();
    return;
  }
  register();
}

async function register() {
  if (!registrable() || state.busy) return;
  const pending = state.pending;
  $("rotation-confirm").hidden = true;
  setBusy(true);
  say("register-status", M.registering);
  try {
    let response;
    try {
      response = await fetch(config.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        // The public halves only: {kty, crv, x, y} of each key.
        body: JSON.stringify({ decryption: publicJwk(pending.decryption.publicJwk), signing: publicJwk(pending.signing.publicJwk) }),
      });
    } catch {
      say("register-status", M.register_network, "error");
      return;
    }
    const body = await response.json().catch(() => null);
    if (response.status !== 201) {
      say("register-status", fmt(M.register_error, { reason: refusalText(body, response) }), "error");
      return;
    }
    if (body?.decryption?.fingerprint !== pending.decryption.fingerprint || body?.signing?.fingerprint !== pending.signing.fingerprint) {
      say("register-status", fmt(M.register_error, { reason: "fingerprint mismatch" }), "error");
      return;
    }
    if (state.created) URL.revokeObjectURL(state.created.url);
    state.created = null;
    sessionStorage.setItem(REGISTERED_FLAG, "1");
    window.location.reload();
  } finally {
    setBusy(false);
  }
}

function publicJwk(jwk) {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function refusalText(body, response) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && typeof body === "object") {
    const parts = Object.values(body).flat().filter((value) => typeof value === "string");
    if (parts.length) return parts.join(" ");
  }
  return `HTTP ${response.status}`;
}

// ---------------------------------------------------------------- wiring

if (sessionStorage.getItem(REGISTERED_FLAG)) {
  sessionStorage.removeItem(REGISTERED_FLAG);
  const note = $("registered-note");
  note.textContent = M.registered;
  note.hidden = false;
}
$("create-form").addEventListener("submit", createClicked);
$("new-passphrase").addEventListener("input", showPassphraseChecks);
$("new-passphrase-again").addEventListener("input", showPassphraseChecks);
$("key-file-download").addEventListener("click", downloadClicked);
$("existing-key-file").addEventListener("change", existingFileChosen);
$("register-keys").addEventListener("click", registerClicked);
$("confirm-rotation").addEventListener("click", register);
$("cancel-rotation").addEventListener("click", () => { $("rotation-confirm").hidden = true; $("register-keys").focus(); });
window.addEventListener("beforeunload", (event) => {
  if (state.created && !state.downloaded) {
    event.preventDefault();
    event.returnValue = M.not_downloaded_warning;
  }
});
if (!globalThis.crypto?.subtle) say("create-status", M.no_webcrypto, "error");
setBusy(false);
document.body.dataset.keysPage = "ready";
