// The evaluation room page (templates/evaluation/room.html; protocol: docs/evaluation-room.md).
// Connects with the opening room's client (hello/resync, command ids, reconnect), keeps the
// snapshot, applies progress counts live and asks for a fresh snapshot after any other event.
// The server decides everything; this page only shows the state and sends commands.
// Every text comes from the page's configuration (evaluation/views_room.py, in the user's language).

import { RoomConnection } from "../opening/connection.js";
import { el, fmt } from "../opening/dom.js";

const config = JSON.parse(document.getElementById("evaluation-config").textContent);
const M = config.messages;
const L = config.labels;
const $ = (id) => document.getElementById(id);
const english = document.documentElement.lang === "en";
const timeFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
  timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});
const SHEETS = ["qualification", "scoring"];

let state = null;
let refreshTimer = null;
const built = {}; // table id -> the key it was last built for (rebuilt only when that changes)

// --- helpers ------------------------------------------------------------------------------------

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

function money(fen) {
  if (fen === null || fen === undefined) return "—";
  const value = BigInt(fen);
  const yuan = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fmt(M.yuan, { amount: `${yuan}.${(value % 100n).toString().padStart(2, "0")}` });
}

const stageStatus = (kind) => (state.stages.find((s) => s.kind === kind) || {}).status;
const bidder = (bid) => (state.bids.find((b) => b.bid === bid) || {}).bidder || `#${bid}`;
const isMember = () => state.viewer.role === "member";
// A seat's label as this viewer may see it ("专家3", or with the name); the latest holder of the seat.
const seatLabel = (seat) => ([...state.members].reverse().find((m) => m.seat === seat) || {}).label || `#${seat}`;

// --- connection ---------------------------------------------------------------------------------

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const connection = new RoomConnection(`${scheme}//${location.host}${config.ws_path}`, {
  onSnapshot(snapshot) {
    state = snapshot;
    render();
  },
  onEvent(event) {
    if (!state) return;
    logEvent(event);
    if (event.kind === "sheet.progress") {
      const rows = state.progress[event.payload.stage] || [];
      const row = rows.find((r) => r.seat === event.payload.seat);
      if (row) Object.assign(row, { done: event.payload.done, total: event.payload.total });
      renderMembers();
      if (event.payload.complete) scheduleRefresh(); // outlier flags become known
    } else if (event.kind === "chair.voted") {
      Object.assign(state.election, { voted: event.payload.voted, of: event.payload.of });
      renderElection();
    } else {
      scheduleRefresh();
    }
  },
  onStatus(status, code) {
    const text = status === "closed" ? (M[`closed_${code}`] || M.reconnecting) : M[status];
    say("connection-status", text, status === "closed" ? "error" : "");
    if (status === "closed") {
      say("room-closed", text, "error");
      show("room-closed", true);
    }
  },
  onError(message) {
    say("connection-status", fmt(M.refused, { detail: message.detail }), "error");
  },
});

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => connection.refresh(), 250);
}

async function run(action, args, statusId, { confirmText = null } = {}) {
  if (confirmText && !window.confirm(confirmText)) return null;
  say(statusId, connection.connected ? M.sending : M.pending_resend);
  const result = await connection.command(action, args);
  if (result.ok) say(statusId, M.done, "success");
  else say(statusId, fmt(M.refused, { detail: result.detail || result.code }), "error");
  return result;
}

// --- drawing ------------------------------------------------------------------------------------

function render() {
  const session = state.session;
  $("room-state").textContent = L.session[session.state] || session.state;
  if ($("my-seat")) $("my-seat").textContent = state.viewer.label + (state.viewer.is_chair ? ` · ${M.chair}` : "");
  show("rejected-all", Boolean(session.rejected_all_reason));
  $("rejected-all").textContent = session.rejected_all_reason ? fmt(M.events["session.rejected_all"], { reason: session.rejected_all_reason }) : "";
  renderMembers();
  renderCheckIn();
  renderElection();
  renderStages();
  renderQualification();
  renderScoring();
  renderPrice();
  renderRanking();
  renderLog();
}

function openSheet() {
  return SHEETS.find((kind) => stageStatus(kind) === "open");
}

function renderMembers() {
  const body = $("members-table").tBodies[0];
  const open = openSheet();
  const progress = open ? state.progress[open] || [] : [];
  body.replaceChildren(...state.members.map((m) => {
    const row = progress.find((p) => p.seat === m.seat && m.serving);
    return el("tr", { className: m.serving ? "" : "muted" },
      el("td", {}, m.label, m.is_chair ? ` (${M.chair})` : ""),
      el("td", {}, L.member_status[m.status] || m.status),
      el("td", {}, m.checked_in ? M.checked_in : M.not_checked_in),
      el("td", {}, row ? el("span", {}, el("progress", { max: row.total || 1, value: row.done }), " ", fmt(M.progress, row)) : ""));
  }));
  const pending = Object.entries(state.outliers_pending || {});
  $("outliers-pending").textContent = pending.map(([seat, count]) => fmt(M.pending_outliers, { member: seatLabel(Number(seat)), count })).join("；");
}

function renderCheckIn() {
  if (!$("checkin-card")) return;
  const active = ["checkin", "electing", "reviewing"].includes(state.session.state);
  show("checkin-card", active || !state.viewer.checked_in);
  show("checkin-form", !state.viewer.checked_in && active);
  show("recuse-form", state.viewer.checked_in && active);
}

function renderElection() {
  if (!$("election-card")) return;
  const electing = state.session.state === "electing" || (state.session.state === "reviewing" && state.session.chair_seat === null);
  show("election-card", electing && state.viewer.checked_in);
  $("election-progress").textContent = fmt(M.events["chair.voted"], { round: state.session.election_round, ...state.election });
  const select = $("candidate");
  const current = select.value;
  select.replaceChildren(...state.members.filter((m) => m.serving && m.checked_in).map((m) => el("option", { value: m.seat }, m.label)));
  if (current) select.value = current;
  if (state.viewer.voted_for !== null) select.value = String(state.viewer.voted_for);
  select.disabled = $("vote").disabled = state.viewer.voted_for !== null;
}

function renderStages() {
  $("stage-list").replaceChildren(...state.stages.map((s) => el("li", { className: `stage-${s.status}` },
    `${L.stage[s.kind]} — ${L.stage_status[s.status]}`, s.reopen_count ? ` (×${s.reopen_count})` : "")));
  $("reopenings").replaceChildren(...state.reopenings.map((r) => el("li", {},
    fmt(M.events["stage.reopened"], { stage_label: L.stage[r.stage], reason: r.reason }), ` — ${timeFormat.format(new Date(r.at))}`)));
  const chairActs = state.viewer.is_chair && state.session.state === "reviewing";
  show("chair-controls", chairActs);
  if (!chairActs) return;
  const open = state.stages.find((s) => s.status === "open");
  const lockButton = $("lock-stage");
  lockButton.hidden = !open;
  if (open) {
    lockButton.dataset.stage = open.kind;
    lockButton.textContent = `${L.stage_status.locked}: ${L.stage[open.kind]}`;
  }
  $("reopen-stage").replaceChildren(...state.stages.filter((s) => s.status === "locked").map((s) => el("option", { value: s.kind }, L.stage[s.kind])));
  const qualified = state.bids.filter((b) => b.qualified && !b.rejected).length;
  show("reject-all-row", stageStatus("qualification") === "locked" && qualified < 3);
}

// Qualification: one row per bid, a cell per criterion.
function renderQualification() {
  const status = stageStatus("qualification");
  show("qualification-card", status !== "pending");
  if (status === "pending") return;
  const criteria = state.criteria.qualification;
  const revealed = state.revealed.qualification;
  const key = JSON.stringify([status, state.bids.map((b) => b.bid), Boolean(revealed)]);
  if (built.qualification === key && status === "open") return;
  built.qualification = key;
  const table = $("qualification-table");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, ""), criteria.map((c) => el("th", {}, `${c.code} ${c.name}`)), revealed ? el("th", {}, "") : null));
  table.tBodies[0].replaceChildren(...state.bids.map((b) => el("tr", {}, el("th", {}, b.bidder),
    criteria.map((c) => el("td", {}, revealed ? verdictSummary(revealed, b.bid, c.code) : verdictInput(b.bid, c.code, status === "open"))),
    revealed ? el("td", {}, b.qualified ? M.qualified : M.not_qualified) : null)));
}

function verdictSummary(revealed, bid, code) {
  const mine = revealed.verdicts.filter((v) => v.bid === bid && v.criterion === code);
  const fails = mine.filter((v) => !v.passed);
  return el("span", {}, `${M.pass} ${mine.length - fails.length} / ${M.fail} ${fails.length}`,
    fails.map((v) => el("div", { className: "muted" }, `${seatLabel(v.seat)}: ${v.reason}`)));
}

function verdictInput(bid, code, editable) {
  const current = state.viewer.role === "member" ? state.mine.verdicts.find((v) => v.bid === bid && v.criterion === code) : null;
  if (!isMember()) return "";
  const select = el("select", { disabled: !editable, "aria-label": code },
    el("option", { value: "" }, M.not_yet), el("option", { value: "pass" }, M.pass), el("option", { value: "fail" }, M.fail));
  select.value = current ? (current.passed ? "pass" : "fail") : "";
  const reason = el("input", { type: "text", maxlength: 2000, placeholder: M.fail_reason, value: current ? current.reason : "", disabled: !editable });
  reason.hidden = select.value !== "fail";
  const send = async () => {
    if (!select.value) return;
    reason.hidden = select.value !== "fail";
    if (select.value === "fail" && !reason.value.trim()) return say("qualification-status", M.reason_required, "error");
    const result = await run("submit_verdict", { bid, criterion: code, passed: select.value === "pass", reason: reason.value }, "qualification-status");
    if (result && result.ok) remember("verdicts", { bid, criterion: code, passed: result.passed, reason: result.reason });
  };
  select.addEventListener("change", send);
  reason.addEventListener("change", send);
  return el("span", {}, select, reason);
}

function remember(list, entry) {
  const rows = state.mine[list];
  const index = rows.findIndex((r) => r.bid === entry.bid && r.criterion === entry.criterion);
  if (index >= 0) rows[index] = entry;
  else rows.push(entry);
}

// Scoring: one row per qualified bid, a cell per technical/commercial criterion.
function renderScoring() {
  const status = stageStatus("scoring");
  show("scoring-card", status !== undefined && status !== "pending");
  if (!status || status === "pending") return;
  const criteria = state.criteria.scored;
  const revealed = state.revealed.scoring;
  const bids = state.bids.filter((b) => b.qualified && !b.rejected);
  const key = JSON.stringify([status, bids.map((b) => b.bid), Boolean(revealed), state.my_outliers]);
  if (built.scoring === key) return;
  built.scoring = key;
  const table = $("scoring-table");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, ""), criteria.map((c) => el("th", {}, `${c.code} ${c.name} (0–${c.max_score}, ${c.step})`))));
  table.tBodies[0].replaceChildren(...bids.map((b) => el("tr", {}, el("th", {}, b.bidder),
    criteria.map((c) => el("td", {}, revealed ? scoreSummary(revealed, b.bid, c.code) : scoreInput(b.bid, c, status === "open"))))));
}

function scoreSummary(revealed, bid, code) {
  const scores = revealed.scores.filter((s) => s.bid === bid && s.criterion === code);
  const average = revealed.averages.find((a) => a.bid === bid && a.criterion === code);
  return el("span", {}, el("strong", {}, `${M.average} ${average ? average.average : "—"}`),
    scores.map((s) => el("div", { className: "muted" }, `${seatLabel(s.seat)}: ${s.value}${s.reason ? ` — ${s.reason}` : ""}`)));
}

function scoreInput(bid, criterion, editable) {
  if (!isMember()) return "";
  const current = state.mine.scores.find((s) => s.bid === bid && s.criterion === criterion.code);
  const flagged = state.my_outliers.find((o) => o.bid === bid && o.criterion === criterion.code);
  const input = el("input", { type: "number", min: 0, max: criterion.max_score, step: criterion.step, value: current ? current.value : "",
    disabled: !editable, "aria-label": criterion.code, className: "score" });
  const reason = el("input", { type: "text", maxlength: 2000, placeholder: M.outlier_reason, value: current ? current.reason : "", disabled: !editable });
  reason.hidden = !flagged && !(current && current.reason);
  const send = async () => {
    if (input.value === "") return;
    const result = await run("submit_score", { bid, criterion: criterion.code, value: input.value, reason: reason.value }, "scoring-status");
    if (result && result.ok) remember("scores", { bid, criterion: criterion.code, value: result.value, reason: result.reason });
  };
  input.addEventListener("change", send);
  reason.addEventListener("change", send);
  return el("span", {}, input, flagged && !flagged.explained ? el("div", { className: "message error" }, M.outlier_hint) : null, reason);
}

function renderPrice() {
  const price = state.revealed.price;
  show("price-card", Boolean(price));
  if (!price) return;
  const benchmark = price.benchmark || {};
  $("benchmark").textContent = `${L.stage.price}: ${money(benchmark.value_fen)}`;
  $("benchmark-steps").replaceChildren(...(benchmark.steps || []).map((s) => el("li", {}, fmt(s.template, s.params))));
  $("price-table").tBodies[0].replaceChildren(...price.rows.map((r) => el("tr", {},
    el("td", {}, bidder(r.bid)), el("td", {}, money(r.price_fen)), el("td", {}, r.deviation_percent), el("td", {}, r.price_score ?? "—"),
    el("td", {}, r.abnormally_low ? el("span", { className: "badge badge-warn" }, M.abnormally_low) : ""))));
}

function renderRanking() {
  const ranking = state.revealed.ranking;
  show("ranking-card", Boolean(ranking));
  if (!ranking) return;
  $("ranking-table").tBodies[0].replaceChildren(...ranking.rows.map((r) => el("tr", {},
    el("td", {}, r.rank ?? "—"), el("td", {}, bidder(r.bid)), el("td", {}, r.technical), el("td", {}, r.commercial),
    el("td", {}, r.price_score), el("td", {}, el("strong", {}, r.total)), el("td", {}, r.candidate_rank ?? ""))));
}

function eventText(event) {
  const template = M.events[event.kind] || M.events.unknown;
  const payload = event.payload || {};
  return fmt(template, { ...payload, kind: event.kind, member: payload.seat !== undefined ? seatLabel(payload.seat) : "",
    stage_label: L.stage[payload.stage] || "", state_label: L.session[payload.state] || "" });
}

function logEvent(event) {
  if (event.kind === "sheet.progress" || event.kind === "chair.voted") return;
  $("event-log").prepend(el("li", {}, `${timeFormat.format(new Date(event.at))} `, eventText(event)));
}

function renderLog() {
  $("event-log").replaceChildren(...[...state.log].reverse().map((event) => el("li", {}, `${timeFormat.format(new Date(event.at))} `, eventText(event))));
}

// --- controls -----------------------------------------------------------------------------------

function on(id, handler) {
  const node = $(id);
  if (node) node.addEventListener("click", handler);
}

on("check-in", () => {
  if (!$("pledge").checked) return say("checkin-status", M.pledge_needed, "error");
  const conflict = $("conflict").value.trim();
  run("check_in", { pledge: true, conflict }, "checkin-status", { confirmText: conflict ? M.confirm_recuse : null });
});
on("declare-conflict", () => {
  const conflict = $("late-conflict").value.trim();
  if (!conflict) return say("checkin-status", M.reason_required, "error");
  run("declare_conflict", { conflict }, "checkin-status", { confirmText: M.confirm_recuse });
});
on("vote", async () => {
  const candidate = Number($("candidate").value);
  const result = await run("vote_chair", { candidate }, "election-status");
  // The vote counts at once: the page stops offering a second one (the server refuses it anyway).
  if (result && (result.ok || result.code === "already_voted")) {
    state.viewer.voted_for = result.ok ? result.candidate : candidate;
    renderElection();
  }
});
on("lock-stage", () => {
  const stage = $("lock-stage").dataset.stage;
  run("lock_stage", { stage }, "chair-status", { confirmText: fmt(M.confirm_lock, { stage: L.stage[stage] }) });
});
on("reopen", () => {
  const stage = $("reopen-stage").value;
  const reason = $("reopen-reason").value.trim();
  if (!stage) return;
  if (!reason) return say("chair-status", M.reason_required, "error");
  run("reopen_stage", { stage, reason }, "chair-status", { confirmText: fmt(M.confirm_reopen, { stage: L.stage[stage] }) });
});
on("reject-all", () => {
  const reason = $("reject-all-reason").value.trim();
  if (!reason) return say("chair-status", M.reason_required, "error");
  run("reject_all", { reason }, "chair-status", { confirmText: M.confirm_reject_all });
});

connection.start();
