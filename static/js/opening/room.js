// The opening room page (templates/opening/room.html): connects to the room's WebSocket, keeps
// the room's state (state.js) from the snapshot and the live events, and draws it. Buttons send
// room commands; the server decides and answers, and the change comes back as an event.
// Every text comes from the page's configuration (opening/views.py, in the user's language).

import { RoomConnection } from "./connection.js";
import { el, fmt } from "./dom.js";
import { RecipientMismatch, dataKeyHex, unlockKeyFile } from "./keys.js";
import { signRecordHash } from "./record_sign.js";
import { applyEvent, fromSnapshot } from "./state.js";

const config = JSON.parse(document.getElementById("opening-config").textContent);
const M = config.messages;
const L = config.labels;
const $ = (id) => document.getElementById(id);
const english = document.documentElement.lang === "en";
const timeFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const clockFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
  timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});

let state = null;
let refreshTimer = null;
let keys = null; // the unlocked key file, kept in this page only
let keysSource = null;

// --- helpers ------------------------------------------------------------------------------------

const when = (iso) => (iso ? timeFormat.format(new Date(iso)) : "—");
const clock = (iso) => (iso ? clockFormat.format(new Date(iso)) : "");

function money(fen) {
  if (fen === null || fen === undefined) return "—";
  const value = BigInt(fen);
  const negative = value < 0n;
  const absolute = negative ? -value : value;
  const yuan = (absolute / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fmt(M.yuan, { amount: `${negative ? "-" : ""}${yuan}.${(absolute % 100n).toString().padStart(2, "0")}` });
}

function say(id, text, kind = "") {
  const node = $(id);
  if (!node) return;
  node.textContent = text || "";
  node.className = kind ? `message ${kind}` : "";
}

function show(id, visible) {
  const node = $(id);
  if (node) node.hidden = !visible;
}

function enable(id, enabled) {
  const node = $(id);
  if (node) node.disabled = !enabled;
}

// --- connection ---------------------------------------------------------------------------------

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const connection = new RoomConnection(`${scheme}//${location.host}${config.ws_path}`, {
  onSnapshot(snapshot) {
    state = fromSnapshot(snapshot);
    render();
  },
  onEvent(event) {
    if (!state) return;
    const { refresh } = applyEvent(state, event);
    render();
    if (refresh) scheduleRefresh();
  },
  onStatus(status, code) {
    const text = status === "closed" ? (M[`closed_${code}`] || M.reconnecting) : M[status];
    say("connection-status", text, status === "connected" ? "" : status === "closed" ? "error" : "");
    $("connection-status").classList.toggle("muted", status === "connected");
    if (status === "closed") {
      say("room-closed", text, "error");
      show("room-closed", true);
    }
    document.body.classList.toggle("room-offline", status !== "connected");
  },
  onError(message) {
    say("connection-status", fmt(M.refused, { detail: message.detail }), "error");
  },
});

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => connection.refresh(), 250);
}

/** Send a command, with feedback in `statusId`; resolves to the result. */
async function run(action, args, statusId, { confirmText = null, button = null } = {}) {
  if (confirmText && !window.confirm(confirmText)) return null;
  if (button) button.disabled = true;
  say(statusId, connection.connected ? M.sending : M.pending_resend);
  try {
    const result = await connection.command(action, args);
    if (result.ok) say(statusId, M.done, "success");
    else say(statusId, fmt(M.refused, { detail: result.detail || result.code }), "error");
    return result;
  } finally {
    if (button) button.disabled = false;
    if (state) render();
  }
}

// --- drawing ------------------------------------------------------------------------------------

function render() {
  if (!state) return;
  const session = state.session;
  $("room-state").textContent = L.session[session.state] || session.state;
  $("room-state").className = `state state-${session.state}`;
  renderWindow(session);
  const period = $("objection-period");
  period.hidden = !["decrypting", "decrypted", "record"].includes(session.state);
  period.textContent = session.objections_open ? M.objections_open : M.objections_closed;
  period.className = session.objections_open ? "badge badge-warn" : "badge";
  show("aborted-reason", Boolean(session.aborted_reason));
  $("aborted-reason").textContent = session.aborted_reason || "";
  renderHost(session);
  renderCheckins(session);
  renderBids();
  renderDecrypt(session);
  renderReading();
  renderFailures();
  renderObjections(session);
  renderRecord();
  renderLog();
}

function renderWindow(session) {
  const ends = $("window-ends"), countdown = $("window-countdown");
  if (session.window_ends_at) {
    ends.textContent = when(session.window_ends_at);
    ends.setAttribute("datetime", session.window_ends_at);
  } else {
    ends.textContent = M.window_not_started;
  }
  // clock.js counts [data-deadline] down by the server's clock.
  if (session.state === "decrypting" && session.window_ends_at) {
    countdown.dataset.deadline = session.window_ends_at;
  } else {
    delete countdown.dataset.deadline;
    countdown.textContent = "";
    countdown.classList.remove("passed");
  }
}

function renderHost(session) {
  const box = $("host-controls");
  if (!box) return;
  for (const row of box.querySelectorAll("[data-when]")) {
    row.hidden = !row.dataset.when.split(" ").includes(session.state);
  }
  const checkedIn = state.checkins.filter((entry) => !entry.late).length;
  enable("start-decryption", session.state === "checkin" && checkedIn >= config.min_bids);
  enable("abort", session.state === "checkin" && checkedIn < config.min_bids);
}

function renderCheckins(session) {
  $("checked-in-list").replaceChildren(...(state.checkins.length ? state.checkins.map((entry) => el("li", {},
    entry.name, " ", el("span", { className: "muted" }, when(entry.at)), entry.late ? el("span", { className: "badge badge-warn" }, M.late) : null,
  )) : [el("li", { className: "muted" }, M.nobody)]));
  $("absent-list").replaceChildren(...(state.absent.length ? state.absent.map((entry) => el("li", {}, entry.name))
    : [el("li", { className: "muted" }, M.nobody)]));
  const button = $("check-in");
  if (button) {
    const viewer = state.viewer || {};
    button.hidden = Boolean(viewer.checked_in) || !viewer.can_participate || !["checkin", "decrypting"].includes(session.state);
  }
}

function progressOf(row) {
  const total = row.plaintext_size || 0;
  if (row.status === "opened") return [1, 1];
  if (!total) return [0, 1];
  return [Math.min(row.progress_bytes || 0, total), total];
}

function renderBids() {
  const rows = state.bids.map((row) => {
    const [done, total] = progressOf(row);
    const note = row.status === "failed" ? (row.failure_detail || row.failure_code)
      : row.released_via === "custodial" ? M.via_custodial : "";
    return el("tr", { dataset: { bid: row.bid, status: row.status }, className: row.own ? "own" : "" },
      el("td", {}, row.bidder, row.own ? el("span", { className: "badge badge-ok" }, M.own) : null),
      el("td", {}, when(row.received_at)),
      el("td", { className: `bid-status status-${row.status}` }, L.status[row.status] || row.status),
      el("td", {}, el("progress", { max: total, value: done }), " ", el("span", { className: "muted" }, `${Math.floor((100 * done) / total)}%`)),
      el("td", {}, note),
    );
  });
  $("bids-table").tBodies[0].replaceChildren(...rows);
}

function ownBid() {
  return state.bids.find((row) => row.own) || null;
}

function renderDecrypt(session) {
  const button = $("release-key");
  if (!button) return;
  const mine = ownBid();
  const viewer = state.viewer || {};
  button.disabled = !(mine && viewer.can_participate && session.state === "decrypting" && mine.status === "awaiting" && !button.dataset.busy);
}

function renderReading() {
  const read = state.bids.filter((row) => row.read);
  $("reading-table").tBodies[0].replaceChildren(...read.map((row) => el("tr", { dataset: { bid: row.bid } },
    el("td", {}, row.bidder),
    el("td", { className: "money" }, money(row.price_fen)),
    el("td", {}, row.price_in_words || "—",
      row.price_mismatch ? el("div", { className: "badge badge-warn mismatch" }, M.mismatch, " → ", money(row.price_prevailing_fen ?? row.price_in_words_fen)) : null),
    el("td", {}, row.duration_days ? fmt(M.days, { days: row.duration_days }) : "—"),
    el("td", {}, row.quality || "—"),
    el("td", {}, row.project_manager || "—", row.project_manager_certificate ? el("div", { className: "muted" }, row.project_manager_certificate) : null),
    el("td", {}, when(row.read_at)),
  )));
  show("reading-empty", read.length === 0);
}

function renderFailures() {
  const failed = state.bids.filter((row) => row.status === "failed");
  $("failures-table").tBodies[0].replaceChildren(...failed.map((row) => el("tr", { dataset: { bid: row.bid } },
    el("td", {}, row.bidder),
    el("td", {}, row.failure_detail || row.failure_code || "—"),
    el("td", {}, L.side[row.failure_side] || row.failure_side || "—"),
  )));
  show("failures-empty", failed.length === 0);
}

function renderObjections(session) {
  const list = $("objection-list");
  const isHost = state.viewer && state.viewer.can_host;
  const phase = ["decrypting", "decrypted", "record"].includes(session.state);
  const seen = new Set();
  for (const objection of state.objections) {
    const key = String(objection.id);
    seen.add(key);
    let item = list.querySelector(`li[data-id="${key}"]`);
    if (!item) {
      item = el("li", { dataset: { id: key } }, el("p", { className: "objection-text" }), el("div", { className: "objection-answer" }));
      list.append(item);
    }
    item.querySelector(".objection-text").replaceChildren(
      el("strong", {}, fmt(M.raised_by, { bidder: objection.bidder, name: objection.raised_by, time: when(objection.raised_at) })), " ", objection.text);
    const answer = item.querySelector(".objection-answer");
    if (objection.answered_at) {
      answer.replaceChildren(el("p", { className: "answer" },
        el("strong", {}, fmt(M.answered_by, { name: objection.answered_by, time: when(objection.answered_at) })), " ", objection.answer));
    } else if (isHost && phase) {
      if (!answer.querySelector("textarea")) {
        const input = el("textarea", { rows: 2, maxlength: 2000, placeholder: M.answer_placeholder, "aria-label": M.answer_placeholder });
        const button = el("button", { type: "button", className: "btn secondary" }, M.answer);
        button.addEventListener("click", () => {
          const text = input.value.trim();
          if (!text) return say("objection-status", M.text_required, "error");
          run("answer_objection", { objection: objection.id, text }, "objection-status", { button });
        });
        answer.replaceChildren(input, button);
      }
    } else {
      answer.replaceChildren(el("p", { className: "muted" }, M.awaiting_answer));
    }
  }
  for (const item of [...list.children]) if (!seen.has(item.dataset.id)) item.remove();
  if (!state.objections.length) list.replaceChildren(el("li", { className: "muted", dataset: { id: "none" } }, M.no_objections));
  enable("open-objections", phase && !session.objections_open);
  enable("close-objections", phase && session.objections_open);
  enable("raise-objection", Boolean(session.objections_open && state.viewer && state.viewer.can_participate));
}

function renderRecord() {
  const record = state.record || null;
  const published = record && record.status === "published";
  const drafted = record && record.version;
  $("record-summary").textContent = !drafted ? M.no_record
    : fmt(published ? M.record_status_published : M.record_status_draft, { version: record.version })
      + (published ? ` · ${when(record.published_at)}` : ` · ${when(record.respond_by)}`);
  show("record-hash", Boolean(drafted));
  show("record-links", Boolean(drafted));
  show("record-answers", Boolean(drafted));
  if (drafted) {
    $("record-sha256").textContent = record.sha256;
    if (record.pdf_url) $("record-pdf").href = record.pdf_url;
    $("record-answers").tBodies[0].replaceChildren(...(record.answers || []).map((answer) => el("tr", {},
      el("td", {}, answer.name),
      el("td", {}, answer.response === "confirmed" ? M.record_confirmed : answer.response === "disagreed" ? M.record_disagreed : M.record_no_answer,
        answer.text ? el("div", { className: "muted" }, answer.text) : null),
      el("td", {}, answer.at ? when(answer.at) : "—"),
    )));
  }
  enable("draft-record", Boolean(record && record.can_draft));
  enable("publish-record", Boolean(record && record.can_publish));
  const mustAnswer = Boolean(record && record.viewer && record.viewer.must_answer);
  show("record-answer-form", mustAnswer);
}

function logLine(entry) {
  const p = entry.payload || {};
  const templates = M.events;
  let template = templates[entry.kind];
  const values = { ...p, kind: entry.kind };
  if (entry.kind === "finished" && p.to === "failed") template = templates.finished_failed;
  if (entry.kind === "price_read") values.price = money(p.price_prevailing_fen ?? p.price_fen);
  if (entry.kind === "checked_in" && p.late) values.name = fmt(M.late_name, { name: p.name });
  return fmt(template || templates.unknown, values);
}

function renderLog() {
  const log = $("event-log");
  log.replaceChildren(...state.log.slice().reverse().map((entry) => el("li", { value: entry.seq, dataset: { seq: entry.seq, kind: entry.kind } },
    el("time", { datetime: entry.at }, clock(entry.at)), " ", logLine(entry))));
}

// --- the bidder's key file ----------------------------------------------------------------------

async function currentKeys(statusId) {
  const file = $("key-file").files[0];
  const passphrase = $("passphrase").value;
  if (!file || !passphrase) {
    say(statusId, M.choose_key_file, "error");
    return null;
  }
  if (!globalThis.crypto || !crypto.subtle) {
    say(statusId, M.no_webcrypto, "error");
    return null;
  }
  const source = `${file.name}|${file.size}|${file.lastModified}|${passphrase}`;
  if (keys && keysSource === source) return keys;
  say(statusId, M.unlocking);
  try {
    keys = await unlockKeyFile(file, passphrase);
    keysSource = source;
    return keys;
  } catch (error) {
    keys = null;
    keysSource = null;
    if (error && error.code === "wrong_passphrase") say(statusId, M.wrong_passphrase, "error");
    else say(statusId, fmt(M.key_file_bad, { reason: error && error.message }), "error");
    return null;
  }
}

async function releaseKey() {
  const button = $("release-key");
  const mine = ownBid();
  if (!mine || !mine.header) return;
  button.dataset.busy = "1";
  button.disabled = true;
  try {
    const unlocked = await currentKeys("decrypt-status");
    if (!unlocked) return;
    say("decrypt-status", M.unwrapping);
    let hex;
    try {
      hex = await dataKeyHex(mine.header, unlocked);
    } catch (error) {
      if (error instanceof RecipientMismatch) {
        say("decrypt-status", fmt(M.wrong_recipient, { file: error.fileFingerprint.slice(0, 16), header: error.headerFingerprint.slice(0, 16) }), "error");
      } else {
        say("decrypt-status", fmt(M.unwrap_failed, { reason: error && error.message }), "error");
      }
      return;
    }
    say("decrypt-status", M.releasing);
    const result = await connection.command("release_key", { bid: mine.bid, data_key: hex });
    hex = null;
    if (result.ok) say("decrypt-status", M.released, "success");
    else say("decrypt-status", fmt(M.refused, { detail: result.detail || result.code }), "error");
  } finally {
    delete button.dataset.busy;
    if (state) render();
  }
}

async function confirmRecord() {
  const record = state && state.record;
  if (!record || !record.sha256) return;
  const button = $("confirm-record");
  button.disabled = true;
  try {
    const unlocked = await currentKeys("record-status");
    if (!unlocked) return;
    say("record-status", M.signing);
    const signature = await signRecordHash(unlocked, record.sha256);
    const result = await connection.command("confirm_record", { signature });
    if (result.ok) say("record-status", M.signed, "success");
    else say("record-status", fmt(M.refused, { detail: result.detail || result.code }), "error");
  } catch (error) {
    say("record-status", fmt(M.refused, { detail: error && error.message }), "error");
  } finally {
    button.disabled = false;
  }
}

// --- wiring -------------------------------------------------------------------------------------

function on(id, handler) {
  const node = $(id);
  if (node) node.addEventListener("click", () => handler(node));
}

function reasonOf(id, statusId) {
  const reason = $(id).value.trim();
  if (!reason) say(statusId, M.reason_required, "error");
  return reason;
}

on("check-in", (button) => run("check_in", {}, "checkin-status", { button }));
on("start-decryption", (button) => {
  const minutes = Number($("window-minutes").value);
  if (!Number.isInteger(minutes) || minutes < config.window.min || minutes > config.window.max) {
    return say("host-status", fmt(M.window_minutes_bad, config.window), "error");
  }
  run("start_decryption", { window_minutes: minutes }, "host-status", { button, confirmText: fmt(M.confirm_start, { minutes }) });
});
on("abort", (button) => {
  const reason = reasonOf("abort-reason", "host-status");
  if (reason) run("abort", { reason }, "host-status", { button, confirmText: M.confirm_abort });
});
on("close-window", (button) => run("close_window", {}, "host-status", { button, confirmText: M.confirm_close_window }));
on("finish", (button) => run("finish", {}, "host-status", { button, confirmText: M.confirm_finish }));
on("fail", (button) => {
  const reason = reasonOf("fail-reason", "host-status");
  if (reason) run("fail", { reason }, "host-status", { button, confirmText: M.confirm_fail });
});
on("open-objections", (button) => run("open_objections", {}, "objection-status", { button }));
on("close-objections", (button) => run("close_objections", {}, "objection-status", { button }));
on("raise-objection", async (button) => {
  const text = $("objection-text").value.trim();
  if (!text) return say("objection-status", M.text_required, "error");
  const result = await run("raise_objection", { text }, "objection-status", { button });
  if (result && result.ok) $("objection-text").value = "";
});
on("draft-record", (button) => {
  const minutes = Number($("response-minutes").value);
  run("draft_record", Number.isInteger(minutes) && minutes > 0 ? { response_minutes: minutes } : {}, "record-status",
    { button, confirmText: M.confirm_draft });
});
on("publish-record", (button) => run("publish_record", {}, "record-status", { button, confirmText: M.confirm_publish }));
on("disagree-record", async (button) => {
  const text = $("disagree-text").value.trim();
  if (!text) return say("record-status", M.text_required, "error");
  const result = await run("disagree_record", { text }, "record-status", { button });
  if (result && result.ok) $("disagree-text").value = "";
});
on("confirm-record", confirmRecord);
on("release-key", releaseKey);

connection.start();
