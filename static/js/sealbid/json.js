// JSON as the Python reference reads and writes it.
//
// parseStrict: the grammar of Python's json.loads, refusing duplicate members (as the readers'
// object_pairs_hook does) and NaN/Infinity, and keeping what JSON.parse loses: an integer literal
// stays an integer (a Number when it is exact, else a BigInt) while a literal with a fraction or an
// exponent becomes a JsonFloat, so `1.0` is not taken for the integer `1`. Objects have no
// prototype, so member names such as "__proto__" are ordinary members.
//
// canonical: Python's json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
// as UTF-8 bytes. Strings with a lone surrogate cannot be encoded (Python raises) and throw here.

export class JsonFloat {
  constructor(text) {
    this.text = text;
    this.value = Number(text);
  }
}

export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export function parseStrict(text) {
  let i = 0;
  const fail = (what) => {
    throw new JsonSyntaxError(`${what} at character ${i}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };

  function value(depth) {
    if (depth > 512) fail("nesting too deep");
    skip();
    const c = text[i];
    if (c === "{") return object(depth);
    if (c === "[") return array(depth);
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    return fail("unexpected input"); // includes NaN and Infinity, which the readers refuse
  }

  function object(depth) {
    const out = Object.create(null);
    const seen = new Set();
    i++;
    skip();
    if (text[i] === "}") return i++, out;
    for (;;) {
      skip();
      if (text[i] !== '"') fail("expected a member name");
      const name = string();
      if (seen.has(name)) fail("duplicate member");
      seen.add(name);
      skip();
      if (text[i++] !== ":") fail("expected ':'");
      out[name] = value(depth + 1);
      skip();
      const c = text[i++];
      if (c === "}") return out;
      if (c !== ",") fail("expected ',' or '}'");
    }
  }

  function array(depth) {
    const out = [];
    i++;
    skip();
    if (text[i] === "]") return i++, out;
    for (;;) {
      out.push(value(depth + 1));
      skip();
      const c = text[i++];
      if (c === "]") return out;
      if (c !== ",") fail("expected ',' or ']'");
    }
  }

  function string() {
    i++;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        out += text.slice(start, i++);
        return out;
      }
      if (code < 0x20) fail("control character in a string");
      if (code !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16)); // pairs join as in Python; lone halves stay
        i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else {
        fail("bad escape");
      }
      start = i;
    }
  }

  function number() {
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (!match) fail("bad number");
    i += match[0].length;
    if (match[1] !== undefined || match[2] !== undefined) return new JsonFloat(match[0]);
    if (match[0].replace("-", "").length > 4300) fail("integer too long"); // Python's int() limit
    const big = BigInt(match[0]);
    return big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  const result = value(0);
  skip();
  if (i !== text.length) fail("extra data");
  return result;
}

/** True for an object parsed by parseStrict or built in code (not an array, float, null or BigInt). */
export function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);
}

/** True for a JSON integer (as Python's isinstance(v, int) and not bool). */
export function isInteger(value) {
  return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
}

const LONE_SURROGATE = /\p{Cs}/u;

function quote(text) {
  if (LONE_SURROGATE.test(text)) throw new TypeError("a string with a lone surrogate cannot be encoded as UTF-8");
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20) out += text[i];
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

function byCodePoint(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function serialise(value) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return quote(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new TypeError("canonical JSON holds integers only");
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (Array.isArray(value)) return "[" + value.map(serialise).join(",") + "]";
  if (isPlainObject(value)) {
    const names = Object.keys(value).sort(byCodePoint);
    return "{" + names.map((name) => quote(name) + ":" + serialise(value[name])).join(",") + "}";
  }
  throw new TypeError("canonical JSON cannot hold " + typeof value);
}

/** Canonical JSON text (see the module comment). */
export function canonicalText(value) {
  return serialise(value);
}

/** Canonical JSON as UTF-8 bytes. */
export function canonical(value) {
  return new TextEncoder().encode(serialise(value));
}
