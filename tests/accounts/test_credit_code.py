"""The credit code check (GB 32100-2015) on real, published codes and on typical typing mistakes."""

import pytest

from accounts import credit_code

# Codes as published in the National Enterprise Credit Information Publicity System.
REAL_CODES = {
    "914403001922038216": "华为技术有限公司",
    "9144030071526726XG": "深圳市腾讯计算机系统有限公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
    "91110108551385082Q": "北京小米科技有限责任公司",
    "91440300708461136T": "比亚迪股份有限公司",
    "91330100716105852F": "阿里巴巴（中国）有限公司",
}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_published_codes_pass(code):
    assert credit_code.validate(code) == code
    assert credit_code.is_valid(code)


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_check_character_of_real_codes_is_recomputed(code):
    assert credit_code.check_character(code[:17]) == code[17]
    assert credit_code.complete(code[:17]) == code


def test_lowercase_and_surrounding_spaces_are_normalised():
    assert credit_code.validate("  9144030071526726xg ") == "9144030071526726XG"


def test_division_is_characters_three_to_eight():
    assert credit_code.division("914403001922038216") == "440300"


@pytest.mark.parametrize("code", ["914403001922038217", "9144030071526726XH", "91110000802100433A"])
def test_wrong_check_character_is_refused_and_expected_one_named(code):
    with pytest.raises(credit_code.CreditCodeError) as caught:
        credit_code.validate(code)
    assert caught.value.reason == credit_code.WRONG_CHECK_CHARACTER
    assert caught.value.details["expected"] == credit_code.check_character(code[:17])
    assert not credit_code.is_valid(code)


def test_a_single_swapped_digit_is_detected():
    # Swapping two adjacent characters is the commonest typing mistake; the weighted sum catches it.
    assert not credit_code.is_valid("914430001922038216")


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_the_standard_never_uses_are_refused(letter):
    code = "91440300192203821" + letter
    with pytest.raises(credit_code.CreditCodeError) as caught:
        credit_code.validate(code)
    assert caught.value.reason == credit_code.FORBIDDEN_CHARACTER
    assert caught.value.details["char"] == letter


@pytest.mark.parametrize("code", ["", "91440300192203821", "9144030019220382166", "91440300-1922038216"])
def test_wrong_length_is_refused(code):
    with pytest.raises(credit_code.CreditCodeError) as caught:
        credit_code.validate(code)
    assert caught.value.reason == credit_code.WRONG_LENGTH


def test_none_is_refused_as_empty():
    assert not credit_code.is_valid(None)


def test_division_code_must_be_digits():
    first17 = "9144A3001922038210"[:17]
    code = credit_code.complete(first17)  # a correct check character, so only the division is wrong
    with pytest.raises(credit_code.CreditCodeError) as caught:
        credit_code.validate(code)
    assert caught.value.reason == credit_code.DIVISION_NOT_DIGITS


def test_the_alphabet_has_31_characters_without_ambiguous_letters():
    assert len(credit_code.ALPHABET) == 31
    assert not set("IOZSV") & set(credit_code.ALPHABET)


def test_the_module_imports_nothing_from_django():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(credit_code))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.startswith("django") for name in imported)
