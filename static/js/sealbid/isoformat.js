// Python 3.11's datetime.fromisoformat, as far as the key file reader needs it: does a string
// parse, and does it carry a time zone? The key file's `created` is read with it
// (bidding/keyfile.py), so a browser must accept and refuse exactly the same strings. This is a
// line-by-line port of CPython 3.11's C implementation (Modules/_datetimemodule.c), which works on
// the UTF-8 bytes of the string and treats a NUL byte as the end; its quirks are kept on purpose.
// tests/browser/test_sealbid_interop.py compares it with the real thing on many strings.

const MINYEAR = 1;
const MAXYEAR = 9999;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DI4Y = 1461, DI100Y = 36524, DI400Y = 146097;
const div = (a, b) => Math.trunc(a / b); // C integer division
const isLeap = (y) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysInMonth = (y, m) => (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m]);
const daysBeforeMonth = (y, m) => DAYS_BEFORE_MONTH[m] + (m > 2 && isLeap(y) ? 1 : 0);
const daysBeforeYear = (year) => {
  const y = year - 1;
  return y * 365 + div(y, 4) - div(y, 100) + div(y, 400);
};
const ymdToOrd = (y, m, d) => daysBeforeYear(y) + daysBeforeMonth(y, m) + d;
const weekday = (y, m, d) => (ymdToOrd(y, m, d) + 6) % 7;

function ordToYmd(ordinal) {
  if (ordinal < 1) return null; // C reads outside its month table here; the result is never a valid date
  let n = ordinal - 1;
  const n400 = div(n, DI400Y);
  n %= DI400Y;
  let year = n400 * 400 + 1;
  const n100 = div(n, DI100Y);
  n %= DI100Y;
  const n4 = div(n, DI4Y);
  n %= DI4Y;
  const n1 = div(n, 365);
  n %= 365;
  year += n100 * 100 + n4 * 4 + n1;
  if (n1 === 4 || n100 === 4) return [year - 1, 12, 31];
  const leap = n1 === 3 && (n4 !== 24 || n100 === 3);
  let month = (n + 50) >> 5;
  let preceding = DAYS_BEFORE_MONTH[month] + (month > 2 && leap ? 1 : 0);
  if (preceding > n) {
    month -= 1;
    preceding -= daysInMonth(year, month);
  }
  return [year, month, n - preceding + 1];
}

function isoWeek1Monday(year) {
  const firstDay = ymdToOrd(year, 1, 1);
  const firstWeekday = (firstDay + 6) % 7;
  return firstDay - firstWeekday + (firstWeekday > 3 ? 7 : 0);
}

function isoToYmd(isoYear, isoWeek, isoDay) {
  if (isoWeek <= 0 || isoWeek >= 53) {
    const first = weekday(isoYear, 1, 1);
    if (!(isoWeek === 53 && (first === 3 || (first === 2 && isLeap(isoYear))))) return -2;
  }
  if (isoDay <= 0 || isoDay >= 8) return -3;
  return ordToYmd(isoWeek1Monday(isoYear) + (isoWeek - 1) * 7 + isoDay - 1);
}

const isDigit = (c) => c >= 0x30 && c <= 0x39;

/**
 * {aware} when Python 3.11's datetime.fromisoformat(text) returns a datetime (aware: it has a
 * tzinfo), null when it raises ValueError.
 */
export function pythonFromIsoFormat(text) {
  const chars = Array.from(text);
  if (chars.length < 7) return null;
  // The separator (position 7, 8 or 10) may be a lone surrogate: Python replaces the first such with "T".
  for (const pos of [7, 8, 10]) {
    if (pos > chars.length) break;
    if (pos < chars.length && /^\p{Cs}$/u.test(chars[pos])) {
      chars[pos] = "T";
      break;
    }
  }
  if (chars.some((c) => /^\p{Cs}$/u.test(c))) return null; // not encodable as UTF-8
  const utf8 = new TextEncoder().encode(chars.join(""));
  const len = utf8.length;
  const at = (i) => (i < len ? utf8[i] : 0);

  function parseDigits(pos, count) {
    let value = 0;
    for (let k = 0; k < count; k++) {
      const c = at(pos + k);
      if (!isDigit(c)) return null;
      value = value * 10 + (c - 0x30);
    }
    return { pos: pos + count, value };
  }

  // _find_isoformat_datetime_separator
  let separator;
  if (len === 7) separator = 7;
  else if (at(4) === 0x2d) {
    if (at(5) === 0x57) {
      if (len < 8) return null;
      if (len > 8 && at(8) === 0x2d) {
        if (len === 9) return null;
        separator = len > 10 && isDigit(at(10)) ? 8 : 10;
      } else separator = 8;
    } else separator = 10;
  } else if (at(4) === 0x57) {
    let idx = 7;
    while (idx < len && isDigit(at(idx))) idx++;
    separator = idx < 9 ? idx : idx % 2 === 0 ? 7 : 8;
  } else separator = 8;
  if (separator < 0) return null;

  // parse_isoformat_date
  let year, month, day;
  {
    const y = parseDigits(0, 4);
    if (!y) return null;
    let p = y.pos;
    const usesSeparator = at(p) === 0x2d;
    if (usesSeparator) p++;
    if (at(p) === 0x57) {
      p++;
      const w = parseDigits(p, 2);
      if (!w) return null;
      p = w.pos;
      let isoDay = 1;
      if (p < separator) {
        if (usesSeparator && at(p++) !== 0x2d) return null;
        const d = parseDigits(p, 1);
        if (!d) return null;
        isoDay = d.value;
      }
      const ymd = isoToYmd(y.value, w.value, isoDay);
      if (!Array.isArray(ymd)) return null;
      [year, month, day] = ymd;
    } else {
      const m = parseDigits(p, 2);
      if (!m) return null;
      p = m.pos;
      if (usesSeparator && at(p++) !== 0x2d) return null;
      const d = parseDigits(p, 2);
      if (!d) return null;
      [year, month, day] = [y.value, m.value, d.value];
    }
  }

  let time = [0, 0, 0, 0];
  let rv = 0;
  let tzOffset = 0, tzMicro = 0;
  if (len > separator) {
    let p = separator;
    const lead = at(p);
    p += (lead & 0x80) === 0 ? 1 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf0) === 0xf0 ? 4 : 2;
    const result = parseIsoformatTime(at, p, len);
    if (result.rv < 0) return null;
    ({ rv, time, tzOffset, tzMicro } = result);
  }

  // tzinfo_from_isoformat_results, then the datetime constructor's range checks
  if (rv === 1 && tzOffset !== 0) {
    const total = tzOffset * 1e6 + tzMicro;
    if (!(total > -86400e6 && total < 86400e6)) return null;
  }
  if (year < MINYEAR || year > MAXYEAR || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  const [hour, minute, second, microsecond] = time;
  if (hour > 23 || minute > 59 || second > 59 || microsecond > 999999) return null;
  return { aware: rv === 1 };
}

// parse_hh_mm_ss_ff: [HH[:?MM[:?SS]]][{.,}ffffff...]; positions are byte offsets, `end` exclusive.
function parseHhMmSsFf(at, start, end) {
  const values = [0, 0, 0, 0];
  let p = start;
  let hasSeparator = true;
  let i = 0;
  for (; i < 3; i++) {
    let v = 0;
    for (let k = 0; k < 2; k++) {
      const c = at(p++);
      if (!isDigit(c)) return { rv: -3 };
      v = v * 10 + (c - 0x30);
    }
    values[i] = v;
    const c = at(p++);
    if (i === 0) hasSeparator = c === 0x3a;
    if (p >= end) return { rv: c !== 0 ? 1 : 0, values };
    if (hasSeparator && c === 0x3a) continue;
    if (c === 0x2e || c === 0x2c) break;
    if (!hasSeparator) p--;
    else return { rv: -4 };
  }
  const remains = end - p;
  const toParse = remains >= 6 ? 6 : remains;
  let us = 0;
  for (let k = 0; k < toParse; k++) {
    const c = at(p++);
    if (!isDigit(c)) return { rv: -3 };
    us = us * 10 + (c - 0x30);
  }
  if (toParse < 6) us *= [100000, 10000, 1000, 100, 10][toParse - 1];
  values[3] = us;
  while (isDigit(at(p))) p++;
  return { rv: at(p) !== 0 ? 1 : 0, values };
}

// parse_isoformat_time
function parseIsoformatTime(at, start, end) {
  let tz = start;
  do {
    const c = at(tz);
    if (c === 0x5a || c === 0x2b || c === 0x2d) break;
  } while (++tz < end);
  const main = parseHhMmSsFf(at, start, tz);
  if (main.rv < 0) return { rv: main.rv };
  if (tz === end) return main.rv === 1 ? { rv: -5 } : { rv: 0, time: main.values, tzOffset: 0, tzMicro: 0 };
  if (at(tz) === 0x5a) return at(tz + 1) !== 0 ? { rv: -5 } : { rv: 1, time: main.values, tzOffset: 0, tzMicro: 0 };
  const sign = at(tz) === 0x2d ? -1 : 1;
  const zone = parseHhMmSsFf(at, tz + 1, end);
  // C computes the offset from whatever was parsed before failing; a failure is -5 either way
  if (zone.rv !== 0) return { rv: -5 };
  const [h, m, s, us] = zone.values;
  return { rv: 1, time: main.values, tzOffset: sign * (h * 3600 + m * 60 + s), tzMicro: sign * us };
}
