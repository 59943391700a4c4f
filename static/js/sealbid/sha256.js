// Incremental SHA-256 (FIPS 180-4). WebCrypto's digest() takes the whole input at once, and a
// sealed bid's ciphertext SHA-256 covers up to 1 GiB of segments, so this one is fed segment by
// segment. No allocation per block: 64 round words in one Uint32Array, partial blocks in a buffer.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export class Sha256 {
  constructor() {
    this._h = new Uint32Array(INITIAL);
    this._w = new Uint32Array(64);
    this._buffer = new Uint8Array(64);
    this._buffered = 0;
    this._length = 0; // bytes hashed so far; exact up to 2^53
    this._done = false;
  }

  /** Adds bytes (a Uint8Array, or an ArrayBuffer). Returns this, so calls chain. */
  update(data) {
    if (this._done) throw new Error("Sha256: update() after digest()");
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    let offset = 0;
    const length = bytes.length;
    this._length += length;
    if (this._buffered > 0) {
      const take = Math.min(64 - this._buffered, length);
      this._buffer.set(bytes.subarray(0, take), this._buffered);
      this._buffered += take;
      offset = take;
      if (this._buffered < 64) return this;
      this._blocks(this._buffer, 0, 64);
      this._buffered = 0;
    }
    const whole = (length - offset) & ~63;
    if (whole > 0) {
      this._blocks(bytes, offset, offset + whole);
      offset += whole;
    }
    if (offset < length) {
      this._buffer.set(bytes.subarray(offset), 0);
      this._buffered = length - offset;
    }
    return this;
  }

  /** The 32-byte hash. The object cannot be updated afterwards. */
  digest() {
    if (this._done) throw new Error("Sha256: digest() called twice");
    const bits = this._length * 8;
    const padding = new Uint8Array(((this._buffered < 56 ? 56 : 120) - this._buffered) + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padding.length - 4, bits >>> 0);
    this._length -= padding.length; // update() adds it back; the length field is already written
    this.update(padding);
    this._done = true;
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(4 * i, this._h[i]);
    return out;
  }

  _blocks(bytes, start, end) {
    const w = this._w;
    const h = this._h;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
    for (let p = start; p < end; p += 64) {
      for (let i = 0; i < 16; i++) {
        const j = p + 4 * i;
        w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
      }
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15];
        const y = w[i - 2];
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, k = h7;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const ch = (e & f) ^ (~e & g);
        const t1 = (k + S1 + ch + K[i] + w[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const maj = (a & b) ^ (a & c) ^ (b & c);
        const t2 = (S0 + maj) | 0;
        k = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0;
      h5 = (h5 + f) | 0;
      h6 = (h6 + g) | 0;
      h7 = (h7 + k) | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
  }
}

/** SHA-256 of one byte array, synchronously. */
export function sha256(bytes) {
  return new Sha256().update(bytes).digest();
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of a Uint8Array (or ArrayBuffer). */
export function toHex(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < u8.length; i++) out += HEX[u8[i]];
  return out;
}

/** Bytes of a hex string (either case); throws TypeError for odd length or a non-hex digit. */
export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError("fromHex: not an even-length hex string");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}
