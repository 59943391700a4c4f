"""Money is integer fen everywhere. Pure: no Django."""

# The largest amount the platform accepts: every value must survive canonical JSON in the audit
# chain (RFC 8785 interoperable integers, |n| < 2**53) — about 90 trillion yuan.
MAX_FEN = 2**53 - 1


def is_valid_fen(value, *, allow_zero: bool = True) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return (0 if allow_zero else 1) <= value <= MAX_FEN
