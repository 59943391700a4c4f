"""Amounts in capital numerals (人民币大写): the canonical form, the variants the rules allow, and
the refusals. Pure: no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bidding.capital_numerals import UPPER_BOUND_FEN, CapitalNumeralError, parse_capital, to_capital

# (fen, canonical capital numerals), each checked by hand against 《支付结算办法》 附一 and bank practice.
TABLE = [
    (0, "零元整"),
    (1, "壹分"),
    (5, "伍分"),
    (10, "壹角"),
    (53, "伍角叁分"),
    (100, "壹元整"),
    (105, "壹元零伍分"),
    (150, "壹元伍角"),
    (1000, "壹拾元整"),
    (1050, "壹拾元零伍角"),
    (1100, "壹拾壹元整"),
    (11000, "壹佰壹拾元整"),
    (32504, "叁佰贰拾伍元零肆分"),
    (100000, "壹仟元整"),
    (100500, "壹仟零伍元整"),
    (140950, "壹仟肆佰零玖元伍角"),
    (168032, "壹仟陆佰捌拾元零叁角贰分"),
    (600714, "陆仟零柒元壹角肆分"),
    (1000000, "壹万元整"),
    (1000010, "壹万元零壹角"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),
    (10000100, "壹拾万零壹元整"),
    (10070000, "壹拾万零柒佰元整"),
    (10700053, "壹拾万柒仟元零伍角叁分"),
    (123456789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    (200000000, "贰佰万元整"),
    (10000000000, "壹亿元整"),
    (10000100000, "壹亿零壹仟元整"),
    (10001000000, "壹亿零壹万元整"),
    (10010000000, "壹亿零壹拾万元整"),
    (100000000100, "壹拾亿零壹元整"),
    (100001000000, "壹拾亿零壹万元整"),
    (100000000000, "壹拾亿元整"),
    (107000000000, "壹拾亿柒仟万元整"),
    (5000000000000, "伍佰亿元整"),
    (99999999999999, "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("fen", "words"), TABLE)
def test_table_of_hand_checked_amounts(fen, words):
    assert to_capital(fen) == words
    assert parse_capital(words) == fen


@given(st.integers(min_value=0, max_value=UPPER_BOUND_FEN - 1))
def test_every_amount_below_the_bound_reads_back(fen):
    assert parse_capital(to_capital(fen)) == fen


@given(st.integers(min_value=0, max_value=10**8))
def test_small_amounts_read_back_with_prefix_and_spaces(fen):
    assert parse_capital(" 人民币 " + " ".join(to_capital(fen)) + "\n") == fen


@pytest.mark.parametrize(
    ("words", "fen"),
    [
        ("拾元伍角", 1050),  # 壹 omitted before a leading 拾
        ("壹拾元伍角", 1050),  # rule 3: the 零 after 元 may be left out
        ("拾万元整", 10000000),
        ("壹万元壹角", 1000010),
        ("壹拾万零柒仟元零伍角叁分", 10700053),  # rule 3: 零 where the 万 digit is 0
        ("壹拾万柒仟元伍角叁分", 10700053),
        ("壹拾亿零柒仟万元整", 107000000000),
        ("壹仟元正", 100000),  # 正 for 整
        ("壹仟元", 100000),  # 整 omitted
        ("壹元伍角整", 150),  # 整 after 角 is allowed too
        ("伍角正", 50),
        ("壹仟圆整", 100000),  # 圆, the older character
        ("人民币壹仟元整", 100000),
        ("  人民币　壹 仟 元 整  ", 100000),  # ASCII and ideographic spaces
    ],
)
def test_allowed_variants_are_read(words, fen):
    assert parse_capital(words) == fen


@pytest.mark.parametrize(
    "words",
    [
        "",  # empty
        "人民币",  # nothing after the prefix
        "一千元整",  # lower-case numerals
        "1000元",  # figures
        "壹仟元整整",  # 整 twice
        "壹仟零零元整",  # two 零 for one run of zeros
        "壹仟零元整",  # 零 before nothing
        "零壹仟元整",  # leading 零
        "壹仟元伍分",  # 零 missing where 角 is 0 (rule 4)
        "伍分整",  # no 整 after 分
        "壹元零伍角",  # 零 after 元 when the yuan digit is not 0
        "壹亿壹仟元整",  # 零 missing for an empty 万 group
        "壹仟壹仟元",  # unit repeated
        "壹拾拾元",  # unit repeated
        "仟元整",  # 壹 may be left out only before 拾
        "壹佰拾元整",  # 壹 left out inside the number
        "壹仟元壹角零",  # trailing 零
        "壹元角",  # 角 without a digit
        "元整",  # no amount
        "壹万亿元整",  # 万亿: beyond the bound
        "壹仟元整人民币",  # prefix at the end
        "壹仟元整 abc",  # foreign characters
        "壹" * 100,  # too long
    ],
)
def test_malformed_text_is_refused_with_a_clear_error(words):
    with pytest.raises(CapitalNumeralError, match="amount|capital numeral"):
        parse_capital(words)


def test_a_malformed_amount_suggests_the_correct_writing():
    with pytest.raises(CapitalNumeralError, match="壹仟元整"):
        parse_capital("壹仟零零元整")


def test_parse_refuses_what_is_not_text():
    with pytest.raises(CapitalNumeralError, match="must be text"):
        parse_capital(1000)


@pytest.mark.parametrize("fen", [-1, UPPER_BOUND_FEN, 10**20])
def test_amounts_outside_the_range_are_refused(fen):
    with pytest.raises(CapitalNumeralError, match="outside 0 .. 99999999999999 fen"):
        to_capital(fen)


@pytest.mark.parametrize("fen", [1.5, "100", True, None])
def test_amounts_must_be_integer_fen(fen):
    with pytest.raises(CapitalNumeralError, match="integer number of fen"):
        to_capital(fen)


def test_the_error_is_a_value_error():
    assert issubclass(CapitalNumeralError, ValueError)
