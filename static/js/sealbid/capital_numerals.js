// Amounts in Chinese capital numerals (人民币大写): a port of bidding/capital_numerals.py, with the
// same canonical writer and the same strict reader, so the browser refuses exactly what the
// platform refuses. Amounts are integer fen, 0 <= fen < 10^14 (below 万亿元); they are handled as
// BigInt inside, so no floating-point arithmetic touches a digit.
//
//   toCapital(100000)        -> "壹仟元整"
//   parseCapital("壹仟元整")  -> 100000
//   parseCapital("壹仟元")    -> 100000 (整 may be omitted)
//   parseCapital("壹仟零元")  -> throws CapitalNumeralError (code "malformed", suggestion "壹仟元整")

export const UPPER_BOUND_FEN = 10 ** 14;
export const DIGITS = "零壹贰叁肆伍陆柒捌玖";
const SMALL_UNITS = ["", "拾", "佰", "仟"];
const GROUP_UNITS = ["", "万", "亿"];
const PREFIX = "人民币";
const MAX_TEXT = 64; // the longest canonical amount has 34 characters
const ALLOWED = DIGITS + "拾佰仟万亿元圆角分整正";
// Python's str.isspace(): what str.split() without arguments cuts at.
const PY_SPACE = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu;

export class CapitalNumeralError extends Error {
  // code: "not_integer", "out_of_range", "not_text", "empty", "too_long", "bad_character",
  // "malformed" (with `suggestion`, the canonical form of what the text seems to mean, when there is one).
  constructor(code, message, details = {}) {
    super(message);
    this.name = "CapitalNumeralError";
    this.code = code;
    Object.assign(this, details);
  }
}

function checkAmount(fen) {
  if (typeof fen !== "number" || !Number.isInteger(fen)) {
    throw new CapitalNumeralError("not_integer", `an amount must be an integer number of fen, not ${typeof fen}`);
  }
  if (!(fen >= 0 && fen < UPPER_BOUND_FEN)) {
    throw new CapitalNumeralError("out_of_range", `${fen} fen is outside 0 .. ${UPPER_BOUND_FEN - 1} fen (below 万亿元)`);
  }
  return BigInt(fen);
}

const TEN = 10n;
const pow10 = (n) => TEN ** BigInt(n);

// Capital numerals of a whole number of yuan (> 0), without 元. `zeroAtGroupEnds` names the
// groups (1 = 万, 2 = 亿) after which the optional 零 of rule 3 is written.
function integerWords(yuan, zeroAtGroupEnds) {
  const digits = Array.from(yuan.toString(), Number);
  const out = [];
  let pendingZero = false;
  digits.forEach((digit, index) => {
    const power = digits.length - 1 - index;
    if (digit) {
      if (pendingZero) out.push("零");
      out.push(DIGITS[digit] + SMALL_UNITS[power % 4]);
      pendingZero = false;
    } else {
      pendingZero = out.length > 0;
    }
    if (power % 4 === 0 && power) {
      const group = (yuan / pow10(power)) % 10000n;
      if (group) {
        out.push(GROUP_UNITS[power / 4]);
        // 壹拾万柒仟: a group ending in zeros needs no 零 before a non-zero thousand (rule 3
        // makes it optional); a zero thousand still gets its 零 (壹拾万零柒佰).
        pendingZero = pendingZero && zeroAtGroupEnds.has(power / 4);
      }
    }
  });
  return out.join("");
}

function combinations(items, count) {
  if (count === 0) return [[]];
  const result = [];
  items.forEach((item, index) => {
    for (const rest of combinations(items.slice(index + 1), count - 1)) result.push([item, ...rest]);
  });
  return result;
}

// Every form parseCapital accepts for `fen` (a BigInt), the canonical one (toCapital's) first.
function renderings(fen) {
  const yuan = fen / 100n, jiao = Number((fen / 10n) % 10n), fenDigit = Number(fen % 10n);
  let stems;
  if (yuan) {
    const optionalGroups = [1, 2].filter((group) => {
      const high = yuan / pow10(4 * group);
      return yuan >= pow10(4 * group) && high % 10n === 0n && high % 10000n !== 0n
        && (yuan / pow10(4 * group - 1)) % 10n !== 0n;
    });
    const integers = [];
    for (let count = 0; count <= optionalGroups.length; count++) {
      for (const chosen of combinations(optionalGroups, count)) {
        const words = integerWords(yuan, new Set(chosen));
        integers.push(words);
        if (words.startsWith("壹拾")) integers.push(words.slice(1));
      }
    }
    stems = integers.flatMap((words) => [words + "元", words + "圆"]);
  } else {
    stems = [""];
  }
  const forms = [];
  for (let stem of stems) {
    if (!jiao && !fenDigit) {
      if (!stem) stem = "零元"; // zero: 零元整
      forms.push(stem + "整", stem + "正", stem);
      continue;
    }
    let tails;
    if (!jiao) {
      tails = stem ? [`零${DIGITS[fenDigit]}分`] : [`${DIGITS[fenDigit]}分`];
    } else {
      const tail = `${DIGITS[jiao]}角` + (fenDigit ? `${DIGITS[fenDigit]}分` : "");
      tails = [tail];
      if (stem && yuan % 10n === 0n) tails = ["零" + tail, tail]; // rule 3: 元位 is 0, 角 is not
      if (!fenDigit) tails = tails.concat(tails.flatMap((t) => [t + "整", t + "正"])); // 整 after 角: allowed
    }
    for (const t of tails) forms.push(stem + t);
  }
  return forms;
}

// The amount `fen` (integer fen, 0 <= fen < 10^14) in canonical capital numerals, without 人民币.
export function toCapital(fen) {
  return renderings(checkAmount(fen))[0];
}

// A best-effort reading; parseCapital keeps it only if the text is an allowed rendering of it.
function looseValue(text) {
  const cut = text.indexOf("元");
  const integerText = cut < 0 ? "" : text.slice(0, cut);
  const decimalText = cut < 0 ? text : text.slice(cut + 1);
  let total = 0n, section = 0n, number = 0n;
  for (const char of integerText) {
    if (DIGITS.includes(char)) {
      number = BigInt(DIGITS.indexOf(char));
    } else if ("拾佰仟".includes(char)) {
      section += (number || 1n) * pow10("拾佰仟".indexOf(char) + 1);
      number = 0n;
    } else if (char === "万") {
      section = (section + number) * 10000n;
      number = 0n;
    } else if (char === "亿") {
      total = (total + section + number) * 100000000n;
      section = number = 0n;
    } else {
      return null;
    }
  }
  const yuan = total + section + number;
  let jiao = 0n, fen = 0n, previous = null;
  for (const char of decimalText) {
    if (char === "角" && previous !== null) jiao = previous;
    else if (char === "分" && previous !== null) fen = previous;
    else if (!DIGITS.includes(char) && !"整正".includes(char)) return null;
    previous = DIGITS.includes(char) ? BigInt(DIGITS.indexOf(char)) : null;
  }
  return yuan * 100n + jiao * 10n + fen;
}

// The amount in fen written by `text`; throws CapitalNumeralError unless it is a correctly
// written amount (the variants bidding/capital_numerals.py accepts, and nothing else).
export function parseCapital(text) {
  if (typeof text !== "string") {
    throw new CapitalNumeralError("not_text", `an amount in capital numerals must be text, not ${typeof text}`);
  }
  let compact = text.replace(PY_SPACE, "");
  if (compact.startsWith(PREFIX)) compact = compact.slice(PREFIX.length);
  if (!compact) throw new CapitalNumeralError("empty", "the amount in capital numerals is empty");
  if (Array.from(compact).length > MAX_TEXT) {
    throw new CapitalNumeralError("too_long", `an amount in capital numerals has at most ${MAX_TEXT} characters`);
  }
  for (const char of compact) {
    if (!ALLOWED.includes(char)) {
      throw new CapitalNumeralError("bad_character", `${JSON.stringify(char)} is not a capital numeral`, { character: char });
    }
  }
  const value = looseValue(compact.split("圆").join("元"));
  const inRange = value !== null && value >= 0n && value < BigInt(UPPER_BOUND_FEN);
  if (inRange && renderings(value).includes(compact)) return Number(value);
  if (inRange) {
    const suggestion = renderings(value)[0];
    throw new CapitalNumeralError("malformed", `${JSON.stringify(text)} is not a correctly written amount; perhaps ${suggestion}?`, { suggestion });
  }
  throw new CapitalNumeralError("malformed", `${JSON.stringify(text)} is not a correctly written amount in capital numerals below 万亿元`);
}

// Yuan as typed by a person ("1,234,567.8", "１２３.４５") -> integer fen, without floating point.
// Returns null unless it is a positive or zero amount with at most two decimals below 万亿元.
export function yuanToFen(text) {
  if (typeof text !== "string") return null;
  const ascii = text.normalize("NFKC").replace(/[\s,，]/gu, "");
  const match = /^(\d{1,12})(?:\.(\d{0,2}))?$/.exec(ascii);
  if (!match) return null;
  const fen = BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
  return fen < BigInt(UPPER_BOUND_FEN) ? Number(fen) : null;
}

// Integer fen -> "1,234,567.89" (for showing back what the figures mean).
export function fenToYuan(fen) {
  const value = BigInt(fen);
  const yuan = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${yuan}.${(value % 100n).toString().padStart(2, "0")}`;
}
