// The sealer page (templates/bidding/seal.html): opening summary, documents and key file in, one
// button: pack (bidpack.js) -> seal (sealing.js) -> offer the sealed file for download -> upload
// (upload.js) -> the receipt. Also resumes an interrupted upload from a saved sealed file.
// Every message comes from the page's configuration (rendered by bidding/views_seal.py in the
// user's language); nothing here is shown to a user untranslated except the platform's own codes.

import { BidPackError, documentsFromFolder, packDocuments } from "./bidpack.js";
import { CapitalNumeralError, fenToYuan, parseCapital, toCapital, yuanToFen } from "./capital_numerals.js";
import { KeyFileError, openKeyFile, readPublicPart } from "./keyfile.js";
import { sealBlob } from "./sealing.js";
import { Client, UploadError, openUploads, sealedPrefix, uploadSealed } from "./upload.js";

const config = JSON.parse(document.getElementById("seal-config").textContent);
const M = config.messages;
const $ = (id) => document.getElementById(id);
const client = new Client({ api: config.api });
const english = document.documentElement.lang === "en";
const timeFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const SEGMENT = 1 << 20, TAG = 16, HEADER_ALLOWANCE = 4096;

const state = { documents: [], keys: null, keyText: null, sealed: null, busy: false, openUploads: [] };

function fmt(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
}

export function size(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit ? value.toFixed(value < 10 ? 2 : 1) : value} ${units[unit]}`;
}

const blocks = (hex) => (hex || "").match(/.{1,4}/g)?.join(" ") || "—";
const shanghai = (iso) => timeFormat.format(new Date(iso));

const KINDS = { ok: "check-ok", error: "check-error", message: "message", "message-error": "message error" };
function say(id, text, kind = "") {
  const element = $(id);
  element.textContent = text;
  element.className = KINDS[kind] || "";
}

// ---------------------------------------------------------------- the opening summary

function checkPrice() {
  const figures = $("price-yuan").value.trim();
  const fen = yuanToFen(figures);
  if (!figures) say("price-fen", "");
  else if (fen === null || fen < 1) say("price-fen", M.price_invalid, "error");
  else say("price-fen", fmt(M.fen, { fen }), "");
  const words = $("price-capital").value;
  const good = fen !== null && fen >= 1;
  if (!words.trim()) {
    say("price-capital-check", good ? fmt(M.capital_empty, { expected: toCapital(fen) }) : "", "");
    return false;
  }
  let value;
  try {
    value = parseCapital(words);
  } catch (error) {
    if (!(error instanceof CapitalNumeralError)) throw error;
    let text = error.code === "bad_character" ? fmt(M.capital_bad_character, { character: error.character }) : M.capital_unreadable;
    if (error.suggestion) text += " " + fmt(M.capital_suggestion, { suggestion: error.suggestion });
    say("price-capital-check", text, "error");
    return false;
  }
  if (good && value !== fen) {
    say("price-capital-check", fmt(M.capital_differs, { words: fenToYuan(value), figures: fenToYuan(fen), expected: toCapital(fen) }), "error");
    return false;
  }
  if (good) say("price-capital-check", M.capital_ok, "ok");
  return good;
}

function readSummary() {
  const fen = yuanToFen($("price-yuan").value.trim());
  const duration = Number($("duration-days").value);
  const summary = {
    tender: config.binding.tender,
    lot: config.binding.lot,
    bidder: config.bidder_credit_code,
    price_fen: fen,
    price_capital: $("price-capital").value.trim(),
    duration_days: Number.isInteger(duration) ? duration : null,
    quality: $("quality").value.trim(),
    project_manager: { name: $("pm-name").value.trim(), certificate: $("pm-certificate").value.trim() },
  };
  const complete = checkPrice() && summary.duration_days && summary.quality && summary.project_manager.name && summary.project_manager.certificate;
  return complete ? summary : null;
}

// ---------------------------------------------------------------- documents

function addDocuments(items) {
  for (const item of items) {
    const key = item.name.normalize("NFC");
    state.documents = state.documents.filter((d) => d.name.normalize("NFC") !== key);
    state.documents.push(item);
  }
  renderDocuments();
}

function renderDocuments() {
  const body = $("document-list").querySelector("tbody");
  body.replaceChildren(...state.documents.map((document_, index) => {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = document_.name;
    const bytes = document.createElement("td");
    bytes.className = "size";
    bytes.textContent = size(document_.blob.size);
    const action = document.createElement("td");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = M.remove;
    remove.addEventListener("click", () => { state.documents.splice(index, 1); renderDocuments(); });
    action.append(remove);
    row.append(name, bytes, action);
    return row;
  }));
  const total = state.documents.reduce((sum, d) => sum + d.blob.size, 0);
  $("documents-summary").textContent = state.documents.length ? fmt(M.documents_total, { count: state.documents.length, size: size(total) }) : M.no_documents;
}

// ---------------------------------------------------------------- the key file

function keyMessage(error) {
  if (error.code === "wrong_passphrase") return M.key_wrong_passphrase;
  return M[`key_${error.code}`] || fmt(M.key_unreadable, { reason: error.message });
}

function showFingerprints(part) {
  const active = config.active_fingerprints;
  for (const purpose of ["decryption", "signing"]) {
    const cell = $(`file-${purpose}-fingerprint`);
    cell.textContent = part ? blocks(part[purpose].fingerprint) : "—";
    cell.className = "hash" + (part ? (part[purpose].fingerprint === active[purpose] ? " match" : " mismatch") : "");
  }
  if (!part) return true;
  if (!active.decryption || !active.signing) {
    say("key-status", M.key_none_registered, "error");
    return false;
  }
  const matches = part.decryption.fingerprint === active.decryption && part.signing.fingerprint === active.signing;
  if (!matches) say("key-status", M.key_not_registered, "error");
  return matches;
}

async function keyFileChosen() {
  state.keys = null;
  state.keyText = null;
  const file = $("key-file").files[0];
  if (!file) { showFingerprints(null); return; }
  state.keyText = await file.text();
  try {
    const part = readPublicPart(state.keyText);
    if (showFingerprints(part)) say("key-status", M.key_choose, "");
  } catch (error) {
    showFingerprints(null);
    say("key-status", error instanceof KeyFileError ? keyMessage(error) : fmt(M.key_unreadable, { reason: error.message }), "error");
  }
}

async function unlock() {
  if (!state.keyText) { say("key-status", M.key_choose, "error"); return null; }
  say("key-status", M.key_unlocking, "");
  try {
    state.keys = await openKeyFile(state.keyText, $("passphrase").value);
  } catch (error) {
    state.keys = null;
    if (!(error instanceof KeyFileError)) throw error;
    say("key-status", keyMessage(error), "error");
    return null;
  }
  if (showFingerprints(state.keys)) say("key-status", fmt(M.key_unlocked, { label: state.keys.label || "" }) + " " + M.key_matches, "ok");
  return state.keys;
}

// ---------------------------------------------------------------- progress

function progress(name) {
  const bar = $(`${name}-progress`), text = $(`${name}-progress-text`);
  return (done, total, speed = null) => {
    bar.max = Math.max(total, 1);
    bar.value = done;
    let line = fmt(M.progress, { done: size(done), total: size(total) });
    if (speed) line += " · " + fmt(M.speed, { speed: size(Math.round(speed)) });
    text.textContent = line;
  };
}

function setBusy(busy) {
  state.busy = busy;
  $("seal-form").setAttribute("aria-busy", busy ? "true" : "false");
  $("seal-and-upload").disabled = busy;
  $("resume-file").disabled = busy;
}

window.addEventListener("beforeunload", (event) => {
  if (state.busy) { event.preventDefault(); event.returnValue = M.leave_warning; }
});

// ---------------------------------------------------------------- errors

function packMessage(error) {
  const key = `pack_${error.code}`;
  if (error.code === "too_large" || error.code === "too_many_entries") {
    return fmt(M[key], { limit: error.code === "too_large" ? size(error.limit) : error.limit });
  }
  if (error.code === "invalid_summary") return fmt(M.pack_invalid_summary, { field: M[`field_${error.field}`] || error.field || "" });
  return key in M ? fmt(M[key], { path: error.path || "" }) : fmt(M.pack_error, { reason: error.message });
}

function uploadMessage(error) {
  if (error.code === "network") return M.upload_network;
  if (!error.detail) { // found here, not by the platform: say it in the user's language
    if (error.code === "not_sealed") return M.resume_not_sealed;
    if (error.code === "changed" || (error.code === "size_mismatch" && !error.status)) return M.upload_file_changed;
    if (error.status) return fmt(M.upload_error, { reason: `HTTP ${error.status}` });
  }
  const reason = error.detail || error.message;
  return error.status >= 400 && error.status < 500 ? fmt(M.upload_refused, { reason }) : fmt(M.upload_error, { reason });
}

function fail(error) {
  let text;
  if (error instanceof BidPackError) text = packMessage(error);
  else if (error instanceof UploadError) text = uploadMessage(error);
  else if (error instanceof KeyFileError) text = keyMessage(error);
  else text = fmt(M.seal_error, { reason: error.message || String(error) });
  say("seal-status", text, "message-error");
  return text;
}

// ---------------------------------------------------------------- seal, upload, receipt

function offerDownload(sealed) {
  const link = $("sealed-download-link");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(sealed);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
  link.download = `${config.file_name}-${stamp}.sealed`;
  $("sealed-download").hidden = false;
}

function showReceipt(result) {
  const { bid, receipt } = result;
  $("receipt-version").textContent = bid.version;
  $("receipt-time").textContent = shanghai(bid.received_at);
  $("receipt-size").textContent = `${size(bid.size)} (${bid.size.toLocaleString()} B)`;
  $("receipt-sha256").textContent = bid.sha256;
  $("receipt-pdf").href = bid.receipt_pdf_url;
  const json = $("receipt-json");
  json.href = URL.createObjectURL(new Blob([JSON.stringify(receipt, null, 2) + "\n"], { type: "application/json" }));
  json.download = `receipt-${config.file_name}-v${bid.version}.json`;
  let note = result.verified ? M.receipt_verified : M.receipt_not_verified;
  if (result.alreadySubmitted) note = M.receipt_already + " " + note;
  $("receipt-note").textContent = note;
  $("receipt-note").className = result.verified ? "message success" : "message error";
  $("receipt").hidden = false;
  $("retry-upload").hidden = true;
  say("seal-status", M.receipt_title, "ok");
  $("receipt").scrollIntoView({ behavior: "smooth" });
  loadOpenUploads();
}

async function upload(sealed) {
  state.sealed = sealed;
  $("retry-upload").hidden = true;
  const onUpload = progress("upload");
  try {
    const result = await uploadSealed(sealed, {
      lot: config.lot,
      client,
      onProgress: onUpload,
      onStage: (stage) => say("seal-status", M[`stage_${stage}`] || "", ""),
      onRetry: ({ attempt, of, pauseMs }) => say("seal-status", fmt(M.retrying, { seconds: Math.round(pauseMs / 1000), attempt, of }), "error"),
    });
    onUpload(sealed.size, sealed.size);
    showReceipt(result);
  } catch (error) {
    fail(error);
    if (error instanceof UploadError && (error.code === "network" || error.status >= 500 || error.code === "incomplete")) {
      $("retry-upload").hidden = false;
    }
    loadOpenUploads();
  }
}

async function sealAndUpload(event) {
  event.preventDefault();
  if (state.busy) return;
  const summary = readSummary();
  if (!summary) { say("seal-status", M.form_incomplete, "message-error"); return; }
  if (!state.documents.length) { say("seal-status", M.no_documents, "message-error"); return; }
  setBusy(true);
  $("receipt").hidden = true;
  try {
    const keys = state.keys || await unlock();
    if (!keys) { say("seal-status", $("key-status").textContent, "message-error"); return; }
    say("seal-status", M.stage_packing, "");
    const { blob: zip } = await packDocuments(state.documents, summary, { onProgress: progress("pack") });
    const estimate = zip.size + TAG * Math.max(1, Math.ceil(zip.size / SEGMENT)) + HEADER_ALLOWANCE;
    if (estimate > config.max_bid_bytes) {
      say("seal-status", fmt(M.too_large_for_platform, { size: size(estimate), limit: size(config.max_bid_bytes) }), "message-error");
      return;
    }
    say("seal-status", M.stage_sealing, "");
    const sealed = await sealBlob(zip, {
      // The tool (name, version, fingerprint of the modules loaded) is sealing.js's own default.
      binding: config.binding, keys, custodialPublicJwk: null, onProgress: progress("seal"),
    });
    offerDownload(sealed);
    say("seal-status", fmt(M.sealed, { size: size(sealed.size) }), "");
    await upload(sealed);
  } catch (error) {
    fail(error);
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------- resuming

async function loadOpenUploads() {
  const list = $("open-uploads");
  try {
    state.openUploads = await openUploads(config.lot, { client });
  } catch (error) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: uploadMessage(error) }));
    return;
  }
  if (!state.openUploads.length) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: M.open_uploads_none }));
    return;
  }
  list.replaceChildren(...state.openUploads.map((item) => {
    const entry = document.createElement("li");
    entry.dataset.headerSha256 = item.header_sha256;
    entry.textContent = fmt(M.open_upload_row, { created: shanghai(item.created_at), received: size(item.received_bytes), size: size(item.size) });
    return entry;
  }));
}

async function resumeChosen() {
  const file = $("resume-file").files[0];
  if (!file || state.busy) return;
  setBusy(true);
  $("receipt").hidden = true;
  try {
    let local;
    try {
      local = await sealedPrefix(file);
    } catch (error) {
      say("seal-status", M.resume_not_sealed, "message-error");
      return;
    }
    const binding = local.header.binding || {};
    if (binding.tender !== config.binding.tender || binding.lot !== config.binding.lot || binding.bidder !== config.binding.bidder) {
      say("seal-status", M.resume_wrong_lot, "message-error");
      return;
    }
    if (!state.openUploads.some((item) => item.header_sha256 === local.headerSha256)) say("seal-status", M.resume_no_match, "message");
    await upload(file);
  } finally {
    setBusy(false);
    $("resume-file").value = "";
  }
}

async function retry() {
  if (!state.sealed || state.busy) return;
  setBusy(true);
  try { await upload(state.sealed); } finally { setBusy(false); }
}

// ---------------------------------------------------------------- wiring

$("price-yuan").addEventListener("input", checkPrice);
$("price-capital").addEventListener("input", checkPrice);
$("documents").addEventListener("change", (event) => {
  addDocuments(Array.from(event.target.files, (file) => ({ name: file.name, blob: file })));
  event.target.value = "";
});
$("documents-folder").addEventListener("change", (event) => {
  addDocuments(documentsFromFolder(event.target.files));
  event.target.value = "";
});
$("key-file").addEventListener("change", keyFileChosen);
$("passphrase").addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); unlock(); } });
$("unlock").addEventListener("click", unlock);
$("seal-form").addEventListener("submit", sealAndUpload);
$("resume-file").addEventListener("change", resumeChosen);
$("retry-upload").addEventListener("click", retry);
renderDocuments();
checkPrice();
loadOpenUploads();
document.body.dataset.sealPage = "ready";
