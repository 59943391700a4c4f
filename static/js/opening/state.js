// The opening room's state in the browser: the server's snapshot, with live events applied on top
// (docs/opening-room.md). Pure: no DOM, no network, so it runs anywhere.
//
// The snapshot is at least as new as its sequence number, so an event applied on top may carry
// what the snapshot already shows. Every event therefore *sets* what it reports (never adds or
// counts), states only move forward, and lists are keyed by id: applying an event twice, or an
// event the snapshot already covers, changes nothing.

export const SESSION_ORDER = { checkin: 0, decrypting: 1, decrypted: 2, record: 3, finished: 4, aborted: 4 };
export const BID_ORDER = { awaiting: 0, released: 1, decrypting: 2, opened: 3, failed: 3 };

// Events whose effect depends on server-side rules (what the viewer may do with the record):
// the client asks for a fresh snapshot instead of working it out itself.
export const REFRESH_KINDS = new Set([
  "record_drafted", "record_confirmed", "record_disagreed", "record_superseded", "record_published",
  "custodial_key_recovered", "finished", "decryption_ended", "objections_opened", "objections_closed",
]);

export const LOG_LIMIT = 200;
export const QUIET_KINDS = new Set(["decryption_progress"]); // not worth a line in the log

const PRICE_FIELDS = [
  "price_fen", "price_in_words", "price_in_words_fen", "price_prevailing_fen", "price_mismatch", "duration_days", "quality",
  "project_manager", "project_manager_certificate",
];

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

/** A fresh state from a snapshot message's `state`. */
export function fromSnapshot(snapshot) {
  const state = clone(snapshot);
  state.bids = state.bids || [];
  state.checkins = state.checkins || [];
  state.absent = state.absent || [];
  state.objections = state.objections || [];
  state.log = (state.log || []).slice(-LOG_LIMIT);
  return state;
}

function advanceSession(state, target) {
  const session = state.session;
  if ((SESSION_ORDER[target] ?? -1) > (SESSION_ORDER[session.state] ?? -1)) {
    session.state = target;
    return true;
  }
  return false;
}

function advanceBid(row, target) {
  if ((BID_ORDER[target] ?? -1) > (BID_ORDER[row.status] ?? -1)) {
    row.status = target;
    return true;
  }
  return false;
}

function bidOf(state, id) {
  return state.bids.find((row) => row.bid === id);
}

function upsert(list, key, value, item) {
  const index = list.findIndex((entry) => entry[key] === value);
  if (index === -1) list.push(item);
  else list[index] = { ...list[index], ...item };
}

/** Add an event to the log (by sequence number, once). */
export function logEvent(state, event) {
  if (QUIET_KINDS.has(event.kind) || state.log.some((entry) => entry.seq === event.seq)) return;
  state.log.push({ seq: event.seq, kind: event.kind, payload: event.payload, at: event.at });
  state.log.sort((a, b) => a.seq - b.seq);
  if (state.log.length > LOG_LIMIT) state.log.splice(0, state.log.length - LOG_LIMIT);
}

/**
 * Apply one live event. Returns {refresh}: true when the client should ask for a fresh snapshot.
 * Unknown kinds change nothing but the log.
 */
export function applyEvent(state, event) {
  const p = event.payload || {};
  const session = state.session;
  logEvent(state, event);
  switch (event.kind) {
    case "checked_in": {
      upsert(state.checkins, "organisation", p.organisation, { organisation: p.organisation, name: p.name, at: p.at, late: Boolean(p.late) });
      state.absent = state.absent.filter((entry) => entry.organisation !== p.organisation);
      if (state.viewer && state.viewer.organisation === p.organisation) state.viewer.checked_in = true;
      break;
    }
    case "decryption_started": {
      if (advanceSession(state, "decrypting") || !session.window_ends_at) {
        session.window_ends_at = p.window_ends_at;
        session.window_minutes = p.window_minutes;
        session.decryption_started_at = session.decryption_started_at || event.at;
      }
      break;
    }
    case "aborted": {
      session.state = "aborted";
      session.aborted_reason = p.reason;
      break;
    }
    case "key_released": {
      const row = bidOf(state, p.bid);
      if (row && advanceBid(row, "released")) {
        row.released_via = p.via || row.released_via;
        row.released_at = row.released_at || event.at;
      }
      break;
    }
    case "decryption_progress": {
      const row = bidOf(state, p.bid);
      if (row) {
        advanceBid(row, "decrypting");
        if (typeof p.done === "number") row.progress_bytes = Math.max(row.progress_bytes || 0, p.done);
        if (typeof p.total === "number" && p.total > 0) row.plaintext_size = p.total;
      }
      break;
    }
    case "price_read": {
      const row = bidOf(state, p.bid);
      if (row) {
        row.status = "opened";
        for (const field of PRICE_FIELDS) if (field in p) row[field] = p[field];
        row.read = true;
        row.read_at = row.read_at || event.at;
        if (row.plaintext_size) row.progress_bytes = row.plaintext_size;
      }
      break;
    }
    case "decryption_failed": {
      const row = bidOf(state, p.bid);
      if (row) {
        row.status = "failed";
        row.failure_code = p.code || row.failure_code;
        row.failure_side = p.side || row.failure_side;
        row.failure_detail = p.detail || row.failure_detail;
      }
      break;
    }
    case "decryption_ended": {
      if (advanceSession(state, "decrypted")) session.decryption_closed_at = event.at;
      break;
    }
    case "finished": {
      advanceSession(state, "finished");
      session.finished_at = session.finished_at || event.at;
      break;
    }
    case "objections_opened": {
      session.objections_open = true;
      session.objections_opened_at = p.opened_at || event.at;
      break;
    }
    case "objections_closed": {
      session.objections_open = false;
      session.objections_closed_at = p.closed_at || event.at;
      break;
    }
    case "objection_raised": {
      upsert(state.objections, "id", p.id, {
        id: p.id, organisation: p.organisation, bidder: p.bidder, raised_by: p.raised_by, text: p.text, raised_at: p.raised_at,
      });
      break;
    }
    case "objection_answered": {
      upsert(state.objections, "id", p.id, { id: p.id, answer: p.answer, answered_by: p.answered_by, answered_at: p.answered_at });
      break;
    }
    default:
      break;
  }
  state.counts = {
    bids: state.bids.length,
    opened: state.bids.filter((row) => row.status === "opened").length,
    failed: state.bids.filter((row) => row.status === "failed").length,
  };
  return { refresh: REFRESH_KINDS.has(event.kind) };
}
