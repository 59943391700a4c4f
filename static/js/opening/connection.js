// The opening room's WebSocket client (protocol: docs/opening-room.md).
//
// - Sends {"type": "hello", "after": <last seq>} on every (re)connection: the server answers with
//   the snapshot (first time, or when too far behind) or the missed events, in order.
// - Tracks the last event number: an event at or below it is a duplicate and dropped; one that
//   skips numbers means something was missed, so it asks for a resync from the last number.
// - Commands carry a random id and wait for their result; a command sent when the connection drops
//   is sent again, with the same id, after reconnecting: the server acts at most once.
// - Reconnects with a growing delay, except after a refusal (4400, 4401, 4403, 4404).

export const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404]);
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];
const PING_MS = 25000;

export function commandId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

export class RoomConnection {
  /**
   * @param {string} url ws(s)://host/ws/opening/<lot>/
   * @param {object} handlers onSnapshot(state, seq), onEvent(event), onStatus(status, code), onError(message), onPong(message)
   */
  constructor(url, handlers = {}, { WebSocketImpl = globalThis.WebSocket } = {}) {
    this.url = url;
    this.handlers = handlers;
    this.WebSocketImpl = WebSocketImpl;
    this.lastSeq = 0;
    this.pending = new Map(); // id -> {message, resolve}
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.resyncing = false;
    this.pinger = null;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000);
  }

  get connected() {
    return this.socket !== null && this.socket.readyState === 1;
  }

  status(name, code) {
    if (this.handlers.onStatus) this.handlers.onStatus(name, code);
  }

  open() {
    this.status(this.attempt ? "reconnecting" : "connecting");
    const socket = new this.WebSocketImpl(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.resyncing = false;
      this.status("connected");
      this.raw({ type: "hello", after: this.lastSeq });
      for (const { message } of this.pending.values()) this.raw(message); // same ids: acted on at most once
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.raw({ type: "ping" }), PING_MS);
    };
    socket.onmessage = (frame) => this.receive(frame.data);
    socket.onclose = (closing) => {
      clearInterval(this.pinger);
      if (this.socket !== socket) return;
      this.socket = null;
      if (FINAL_CLOSE_CODES.has(closing.code)) {
        this.stopped = true;
        for (const [id, { resolve }] of this.pending) resolve({ type: "result", id, ok: false, code: "closed", detail: "" });
        this.pending.clear();
        this.status("closed", closing.code);
        return;
      }
      if (this.stopped) return;
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.status("reconnecting");
      setTimeout(() => { if (!this.stopped) this.open(); }, delay);
    };
  }

  raw(message) {
    if (this.connected) this.socket.send(JSON.stringify(message));
  }

  resync(after = this.lastSeq) {
    this.resyncing = true;
    this.raw({ type: "resync", after });
  }

  /** Ask for a fresh snapshot (after events whose effect the server works out). */
  refresh() {
    this.resync(0);
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    switch (message.type) {
      case "snapshot":
        this.lastSeq = message.seq;
        this.resyncing = false;
        if (this.handlers.onSnapshot) this.handlers.onSnapshot(message.state, message.seq);
        break;
      case "event":
        if (typeof message.seq !== "number" || message.seq <= this.lastSeq) return; // seen already
        if (message.seq > this.lastSeq + 1) {
          if (!this.resyncing) this.resync(); // a gap: fetch what is missing, in order
          return;
        }
        this.lastSeq = message.seq;
        this.resyncing = false;
        if (this.handlers.onEvent) this.handlers.onEvent(message);
        break;
      case "result": {
        const waiting = this.pending.get(message.id);
        if (waiting) {
          this.pending.delete(message.id);
          waiting.resolve(message);
        }
        break;
      }
      case "error": {
        const waiting = message.id && this.pending.get(message.id);
        if (waiting) {
          this.pending.delete(message.id);
          waiting.resolve({ ...message, type: "result", ok: false });
        } else if (this.handlers.onError) {
          this.handlers.onError(message);
        }
        break;
      }
      case "pong":
        if (this.handlers.onPong) this.handlers.onPong(message);
        break;
      default:
        break; // a newer server's message: ignored
    }
  }

  /** Send a command; resolves to its result {ok, code, detail, repeated?, ...}. */
  command(action, args = {}) {
    const id = commandId();
    const message = { type: "command", id, action, args };
    return new Promise((resolve) => {
      this.pending.set(id, { message, resolve });
      this.raw(message);
    });
  }
}
