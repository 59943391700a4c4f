"""Unified social credit code (统一社会信用代码), GB 32100-2015. Pure: no Django.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V):
registration authority (1), organisation category (1), administrative division (6 digits),
the organisation's body identifier (9), and a check character computed with weights 3^(i-1) mod 31.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

# Why a code is refused. Callers translate these into the user's language (this module has no i18n).
WRONG_LENGTH = "length"
FORBIDDEN_CHARACTER = "character"
DIVISION_NOT_DIGITS = "division"
WRONG_CHECK_CHARACTER = "check"


class CreditCodeError(ValueError):
    def __init__(self, reason: str, message: str, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


def check_character(first17: str) -> str:
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    """Codes are written in capitals; users type them with spaces and in lower case."""
    return (code or "").strip().replace(" ", "").upper()


def validate(code: str) -> str:
    """Return the normalised code, or raise CreditCodeError saying what is wrong."""
    code = normalise(code)
    if len(code) != 18:
        raise CreditCodeError(WRONG_LENGTH, f"must be 18 characters, got {len(code)}", length=len(code))
    bad = [char for char in code if char not in _VALUE]
    if bad:
        raise CreditCodeError(
            FORBIDDEN_CHARACTER, f"character {bad[0]!r} is not allowed (I, O, Z, S, V are never used)", char=bad[0]
        )
    if not code[2:8].isdigit():
        raise CreditCodeError(DIVISION_NOT_DIGITS, "characters 3-8 must be the administrative division code (digits)")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            WRONG_CHECK_CHARACTER, f"check character is {code[17]!r}, expected {expected!r}", got=code[17], expected=expected
        )
    return code


def is_valid(code: str) -> bool:
    try:
        validate(code)
    except CreditCodeError:
        return False
    return True


def division(code: str) -> str:
    """The administrative division (行政区划代码) of the registration authority: characters 3-8."""
    return validate(code)[2:8]


def complete(first17: str) -> str:
    """The full code for 17 given characters (used to make demo and test organisations)."""
    first17 = normalise(first17)
    return first17 + check_character(first17)
