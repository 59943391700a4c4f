"""Amounts in Chinese capital numerals (人民币大写), as 《支付结算办法》 (附一 "正确填写票据和结算凭证
的基本规定") and bank practice write them. Pure: imports nothing from Django.

Amounts are integer fen, 0 <= fen < UPPER_BOUND_FEN (below 万亿元, i.e. at most 999,999,999,999.99 yuan).

`to_capital` writes the one canonical form:
- 壹拾 keeps its 壹 (壹拾元整, 壹拾壹万...);
- one 零 stands for a run of zeros between non-zero digits (陆仟零柒元), also across 万 and 亿
  (壹亿零壹仟元整), but no 零 is written when a group ends in zeros and the next group starts with
  a non-zero thousand (壹拾万柒仟元整);
- 元 is followed by 整 when there are no 角 and 分 (壹仟元整);
- 角 is 0 and 分 is not: 零 after 元 (rule 4, compulsory: 叁佰贰拾伍元零肆分);
- 元位 is 0 and 角 is not: 零 after 元 (rule 3 allows both; we write it: 壹仟陆佰捌拾元零叁角贰分);
- below one yuan there is no 元: 伍角, 伍分, 伍角叁分; zero is 零元整.

`parse_capital` accepts the canonical form and the variants the rules allow: the optional 零 of
rule 3 (after 元, and where a 万/亿 group ends in zero before a non-zero thousand: 壹拾万零柒仟),
拾 without 壹 at the start (拾元伍角), 正 for 整, 整/正 after 角 or omitted after 元, 圆 for 元, the
prefix 人民币 and whitespace anywhere. Anything else raises CapitalNumeralError.
"""

from __future__ import annotations

import itertools

__all__ = ["UPPER_BOUND_FEN", "CapitalNumeralError", "to_capital", "parse_capital"]

UPPER_BOUND_FEN = 10**14  # 万亿元: the largest amount is 玖仟玖佰玖拾玖亿...玖元玖角玖分
DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿")
_PREFIX = "人民币"
_MAX_TEXT = 64  # the longest canonical amount has 34 characters


class CapitalNumeralError(ValueError):
    """The amount cannot be written in, or read from, capital numerals; the message says why."""


def _check_amount(fen) -> int:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise CapitalNumeralError(f"an amount must be an integer number of fen, not {type(fen).__name__}")
    if not 0 <= fen < UPPER_BOUND_FEN:
        raise CapitalNumeralError(f"{fen} fen is outside 0 .. {UPPER_BOUND_FEN - 1} fen (below 万亿元)")
    return fen


def _integer_words(yuan: int, zero_at_group_ends: frozenset[int] = frozenset()) -> str:
    """Capital numerals of a whole number of yuan (> 0), without 元. `zero_at_group_ends` names
    the groups (1 = 万, 2 = 亿) after which the optional 零 of rule 3 is written."""
    digits = [int(d) for d in str(yuan)]
    out: list[str] = []
    pending_zero = False
    for index, digit in enumerate(digits):
        power = len(digits) - 1 - index
        if digit:
            if pending_zero:
                out.append("零")
            out.append(DIGITS[digit] + _SMALL_UNITS[power % 4])
            pending_zero = False
        else:
            pending_zero = bool(out)
        if power % 4 == 0 and power:
            group = yuan // 10**power % 10**4
            if group:
                out.append(_GROUP_UNITS[power // 4])
                # 壹拾万柒仟: a group ending in zeros needs no 零 before a non-zero thousand
                # (rule 3 makes it optional); a zero thousand still gets its 零 (壹拾万零柒佰).
                pending_zero = pending_zero and power // 4 in zero_at_group_ends
    return "".join(out)


def _renderings(fen: int) -> list[str]:
    """Every form parse_capital accepts for `fen`, the canonical one (to_capital's) first."""
    yuan, jiao, fen_digit = fen // 100, fen // 10 % 10, fen % 10
    if yuan:
        optional_groups = [
            group for group in (1, 2)
            if yuan >= 10 ** (4 * group) and yuan // 10 ** (4 * group) % 10 == 0
            and yuan // 10 ** (4 * group) % 10**4 and yuan // 10 ** (4 * group - 1) % 10
        ]
        integers = []
        for count in range(len(optional_groups) + 1):
            for chosen in itertools.combinations(optional_groups, count):
                words = _integer_words(yuan, frozenset(chosen))
                integers += [words] + ([words[1:]] if words.startswith("壹拾") else [])
        stems = [words + ending for words in integers for ending in ("元", "圆")]
    else:
        stems = [""]
    forms = []
    for stem in stems:
        if not jiao and not fen_digit:
            if not stem:
                stem = "零元"  # zero: 零元整
            forms += [stem + "整", stem + "正", stem]
            continue
        if not jiao:
            tails = [f"零{DIGITS[fen_digit]}分"] if stem else [f"{DIGITS[fen_digit]}分"]
        else:
            tail = f"{DIGITS[jiao]}角" + (f"{DIGITS[fen_digit]}分" if fen_digit else "")
            tails = [tail]
            if stem and yuan % 10 == 0:  # rule 3: 元位 is 0, 角 is not — 零 optional, written by default
                tails = ["零" + tail, tail]
            if not fen_digit:  # 在"角"之后可以不写"整"字 — nor is it wrong to write it
                tails += [t + ending for t in list(tails) for ending in ("整", "正")]
        forms += [stem + t for t in tails]
    return forms


def to_capital(fen: int) -> str:
    """The amount `fen` (integer fen, 0 <= fen < 10**14) in canonical capital numerals,
    without the 人民币 prefix: 100000 -> 壹仟元整, 1000010 -> 壹万元零壹角, 5 -> 伍分."""
    return _renderings(_check_amount(fen))[0]


def _loose_value(text: str) -> int | None:
    """A best-effort reading of an amount; parse_capital only keeps it if the text is one of
    the allowed renderings of the value, so this need not reject anything itself."""
    integer_text, separator, decimal_text = text.partition("元")
    if not separator:
        integer_text, decimal_text = "", text
    total = section = number = 0
    for char in integer_text:
        if char in DIGITS:
            number = DIGITS.index(char)
        elif char in "拾佰仟":
            section += (number or 1) * 10 ** ("拾佰仟".index(char) + 1)
            number = 0
        elif char == "万":
            section = (section + number) * 10**4
            number = 0
        elif char == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
        else:
            return None
    yuan = total + section + number
    jiao = fen = 0
    previous = None
    for char in decimal_text:
        if char == "角" and previous is not None:
            jiao = previous
        elif char == "分" and previous is not None:
            fen = previous
        elif char not in DIGITS and char not in "整正":
            return None
        previous = DIGITS.index(char) if char in DIGITS else None
    return yuan * 100 + jiao * 10 + fen


def parse_capital(text: str) -> int:
    """The amount in fen written by `text` in capital numerals; raises CapitalNumeralError
    unless the text is a correctly written amount (see the module docstring for the variants)."""
    if not isinstance(text, str):
        raise CapitalNumeralError(f"an amount in capital numerals must be text, not {type(text).__name__}")
    compact = "".join(text.split()).replace("\u3000", "")
    if compact.startswith(_PREFIX):
        compact = compact[len(_PREFIX):]
    if not compact:
        raise CapitalNumeralError("the amount in capital numerals is empty")
    if len(compact) > _MAX_TEXT:
        raise CapitalNumeralError(f"an amount in capital numerals has at most {_MAX_TEXT} characters")
    allowed = DIGITS + "拾佰仟万亿元圆角分整正"
    for char in compact:
        if char not in allowed:
            raise CapitalNumeralError(f"{char!r} in {text!r} is not a capital numeral (零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整)")
    value = _loose_value(compact.replace("圆", "元"))
    if value is not None and 0 <= value < UPPER_BOUND_FEN and compact in _renderings(value):
        return value
    if value is not None and 0 <= value < UPPER_BOUND_FEN:
        raise CapitalNumeralError(f"{text!r} is not a correctly written amount; perhaps {to_capital(value)}?")
    raise CapitalNumeralError(f"{text!r} is not a correctly written amount in capital numerals below 万亿元")
