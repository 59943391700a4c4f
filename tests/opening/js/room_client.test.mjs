// Unit tests of the opening room's browser modules that need no page: state.js (the idempotent
// state) and connection.js (the protocol, against a fake WebSocket). Run by
// tests/opening/test_room_client_js.py with Node; prints "ok <name>" per test.
import assert from "node:assert/strict";
import { applyEvent, fromSnapshot } from "../../../static/js/opening/state.js";
import { RoomConnection } from "../../../static/js/opening/connection.js";

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

function snapshot() {
  return {
    session: { state: "checkin", window_ends_at: null, objections_open: false },
    viewer: { role: "bidder", organisation: 11, checked_in: false, can_participate: true },
    bids: [
      { bid: 1, organisation: 11, bidder: "A", status: "awaiting", progress_bytes: 0, own: true },
      { bid: 2, organisation: 12, bidder: "B", status: "awaiting", progress_bytes: 0, own: false },
    ],
    checkins: [], absent: [{ organisation: 11, name: "A" }, { organisation: 12, name: "B" }], objections: [], log: [],
  };
}

const EVENTS = [
  { seq: 2, kind: "checked_in", payload: { organisation: 11, name: "A", at: "t", late: false }, at: "t2" },
  { seq: 3, kind: "decryption_started", payload: { window_ends_at: "w", window_minutes: 30, absent: ["B"] }, at: "t3" },
  { seq: 4, kind: "key_released", payload: { bid: 1, bidder: "A", via: "bidder" }, at: "t4" },
  { seq: 5, kind: "decryption_progress", payload: { bid: 1, done: 50, total: 100 }, at: "t5" },
  { seq: 6, kind: "price_read", payload: { bid: 1, bidder: "A", price_fen: 123, price_in_words: "壹元贰角叁分", price_mismatch: false }, at: "t6" },
  { seq: 7, kind: "decryption_failed", payload: { bid: 2, bidder: "B", code: "not_released", side: "bidder", detail: "late" }, at: "t7" },
  { seq: 8, kind: "objection_raised", payload: { id: 9, organisation: 11, bidder: "A", text: "why?" }, at: "t8" },
  { seq: 9, kind: "objection_answered", payload: { id: 9, answer: "because", answered_by: "H", answered_at: "t9" }, at: "t9" },
  { seq: 10, kind: "something_new", payload: { x: 1 }, at: "t10" },
];

function applied(events) {
  const state = fromSnapshot(snapshot());
  for (const event of events) applyEvent(state, event);
  return state;
}

test("events set what they report", () => {
  const state = applied(EVENTS);
  assert.equal(state.session.state, "decrypting");
  assert.equal(state.session.window_ends_at, "w");
  assert.deepEqual(state.checkins.map((c) => c.organisation), [11]);
  assert.deepEqual(state.absent.map((a) => a.organisation), [12]);
  assert.equal(state.viewer.checked_in, true);
  assert.equal(state.bids[0].status, "opened");
  assert.equal(state.bids[0].price_fen, 123);
  assert.equal(state.bids[0].read, true);
  assert.equal(state.bids[1].status, "failed");
  assert.equal(state.bids[1].failure_side, "bidder");
  assert.deepEqual(state.objections, [{ id: 9, organisation: 11, bidder: "A", raised_by: undefined, text: "why?", raised_at: undefined,
    answer: "because", answered_by: "H", answered_at: "t9" }]);
  assert.deepEqual(state.log.map((e) => e.seq), [2, 3, 4, 6, 7, 8, 9, 10]); // progress ticks are not logged
});

test("applying every event twice changes nothing", () => {
  assert.deepEqual(applied([...EVENTS, ...EVENTS]), applied(EVENTS));
});

test("an event the snapshot already covers does not move anything back", () => {
  const state = applied(EVENTS);
  const again = fromSnapshot(JSON.parse(JSON.stringify(state)));
  for (const event of EVENTS.slice(2, 5)) applyEvent(again, event); // released, progress, read: already there
  assert.equal(again.bids[0].status, "opened");
  assert.equal(again.bids[0].price_fen, 123);
  applyEvent(again, { seq: 5, kind: "decryption_progress", payload: { bid: 1, done: 10, total: 100 }, at: "t" });
  assert.equal(again.bids[0].progress_bytes, 100);
});

test("record events ask for a fresh snapshot; unknown kinds only log", () => {
  const state = applied([]);
  assert.equal(applyEvent(state, { seq: 2, kind: "record_drafted", payload: {}, at: "t" }).refresh, true);
  const before = JSON.stringify({ ...state, log: [] });
  assert.equal(applyEvent(state, { seq: 3, kind: "future_kind", payload: { a: 1 }, at: "t" }).refresh, false);
  assert.equal(JSON.stringify({ ...state, log: [] }), before);
});

// --- the connection, against a fake socket ------------------------------------------------------

class FakeSocket {
  static all = [];
  constructor(url) { this.url = url; this.sent = []; this.readyState = 0; FakeSocket.all.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code = 1000) { this.readyState = 3; this.onclose && this.onclose({ code }); }
  open() { this.readyState = 1; this.onopen(); }
  deliver(message) { this.onmessage({ data: JSON.stringify(message) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code }); }
}

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function connection() {
  FakeSocket.all = [];
  const seen = { snapshots: [], events: [], statuses: [] };
  const room = new RoomConnection("ws://x/ws/opening/1/", {
    onSnapshot: (state, seq) => seen.snapshots.push(seq),
    onEvent: (event) => seen.events.push(event.seq),
    onStatus: (status, code) => seen.statuses.push(code ? `${status}:${code}` : status),
  }, { WebSocketImpl: FakeSocket });
  room.start();
  return { room, seen, socket: () => FakeSocket.all.at(-1) };
}

test("hello with the last seq, duplicates dropped, a gap asks for a resync", async () => {
  const { room, seen, socket } = connection();
  socket().open();
  assert.deepEqual(socket().sent[0], { type: "hello", after: 0 });
  socket().deliver({ type: "snapshot", seq: 4, state: snapshot() });
  socket().deliver({ type: "event", seq: 4, kind: "x", payload: {}, at: "t" }); // covered by the snapshot
  socket().deliver({ type: "event", seq: 5, kind: "x", payload: {}, at: "t" });
  socket().deliver({ type: "event", seq: 5, kind: "x", payload: {}, at: "t" }); // twice
  socket().deliver({ type: "event", seq: 7, kind: "x", payload: {}, at: "t" }); // 6 is missing
  assert.deepEqual(seen.events, [5]);
  assert.deepEqual(socket().sent.at(-1), { type: "resync", after: 5 });
  socket().deliver({ type: "event", seq: 6, kind: "x", payload: {}, at: "t" });
  socket().deliver({ type: "event", seq: 7, kind: "x", payload: {}, at: "t" });
  assert.deepEqual(seen.events, [5, 6, 7]);
  room.stop();
});

test("a dropped connection reconnects with hello after the last seq and resends a pending command with the same id", async () => {
  const { room, seen, socket } = connection();
  socket().open();
  socket().deliver({ type: "snapshot", seq: 3, state: snapshot() });
  const first = socket();
  const result = room.command("check_in", {});
  const sent = first.sent.at(-1);
  assert.equal(sent.type, "command");
  assert.ok(sent.id.length >= 8 && sent.id.length <= 64);
  first.drop();
  await tick(600);
  const second = socket();
  assert.notEqual(second, first);
  second.open();
  assert.deepEqual(second.sent[0], { type: "hello", after: 3 });
  assert.deepEqual(second.sent[1], sent); // same id: the server acts at most once
  second.deliver({ type: "result", id: sent.id, ok: true, code: "ok", detail: "", repeated: true });
  assert.equal((await result).repeated, true);
  assert.ok(seen.statuses.includes("reconnecting"));
  room.stop();
});

test("a refusal close code stops reconnecting and settles pending commands", async () => {
  const { room, seen, socket } = connection();
  socket().open();
  const pending = room.command("check_in", {});
  socket().drop(4403);
  assert.equal((await pending).ok, false);
  await tick(600);
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(seen.statuses.at(-1), "closed:4403");
  room.stop();
});

test("an error naming a command id settles that command", async () => {
  const { room, socket } = connection();
  socket().open();
  const pending = room.command("x", {});
  const id = socket().sent.at(-1).id;
  socket().deliver({ type: "error", id, code: "malformed", detail: "bad" });
  const result = await pending;
  assert.equal(result.ok, false);
  assert.equal(result.code, "malformed");
  room.stop();
});

let failed = 0;
for (const [name, fn] of tests) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}\n${error.stack}`);
  }
}
process.exit(failed ? 1 : 0);
